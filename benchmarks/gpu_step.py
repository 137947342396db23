"""Time a training step on a GPU with a model of real size: Qwen2.5-0.5B's shapes, random init.

No weights come from the Hub: `agents.tiny.build_shaped_model` builds the model from its
config (24 layers, hidden 896, 14/2 heads, MLP 4864, vocabulary 151,936, tied embeddings)
in bfloat16, with the tiny tokenizer. Each variant runs the real trainer
(`agents.trainer.train`, `--device cuda --dtype bfloat16`) for a few steps on
`distil/math-linear-v0` and reports, averaged over the steps after the first (warm-up):

    time/generate_s  time/env_s  time/teacher_s  time/train_s (loss forward + backward + AdamW)
    time/step_s      throughput/tokens_per_s (completion tokens / step time)
    memory/peak_gb   (torch.cuda.max_memory_allocated over the step)

A random-init model almost never samples EOS, so every completion has max_new_tokens
tokens: the figures are for full-length rollouts. vLLM is reported when importable.

    python benchmarks/gpu_step.py                                   # on a CUDA machine
    python benchmarks/gpu_step.py --device cpu --smoke              # 2 layers, 2 steps: the script runs

Writes benchmarks/results/gpu_step.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distil_envs.files import atomic_write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "gpu_step.json"
KEYS = ("time/generate_s", "time/env_s", "time/teacher_s", "time/train_s", "time/step_s",
        "throughput/tokens_per_s", "memory/peak_gb", "train/tokens", "rollout/length")
# name -> TrainConfig overrides
VARIANTS = {
    "distil (chunked loss 1024)": dict(algo="distil", chunked_loss="on", loss_chunk_size=1024),
    "distil (chunked loss 128)": dict(algo="distil", chunked_loss="on", loss_chunk_size=128),
    "distil (naive loss)": dict(algo="distil", chunked_loss="off"),
    "grpo": dict(algo="grpo"),
}


def run_variant(name: str, overrides: dict, args: argparse.Namespace, model_dir: Path, work: Path) -> dict:
    import torch

    from agents.config import TrainConfig
    from agents.trainer import train

    cfg = TrainConfig(model=str(model_dir), device=args.device, dtype=args.dtype, envs=["distil/math-linear-v0"],
                      steps=args.steps, prompts_per_step=args.prompts, samples_per_prompt=args.samples,
                      max_new_tokens=args.max_new_tokens, eval_every=0, eval_tasks=2, eval_samples=2,
                      checkpoint_every=0, keep_checkpoints=1, progress=False, lr=1e-5,
                      out_dir=str(work / f"variant{list(VARIANTS).index(name)}"), **overrides)
    start = time.perf_counter()
    run_dir = train(cfg)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if r["step"] >= 2] or [r for r in rows if r["step"] >= 1]
    result = {"variant": name, "config": overrides, "steps_averaged": len(steps),
              "wall_s": round(time.perf_counter() - start, 1)}
    for key in KEYS:
        values = [r[key] for r in steps if key in r]
        if values:
            result[key] = float(np.mean(values))
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def vllm_status() -> dict:
    try:
        import vllm
    except Exception as e:  # noqa: BLE001 - any import failure is the answer
        return {"importable": False, "error": f"{type(e).__name__}: {e}"[:300]}
    return {"importable": True, "version": vllm.__version__}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--prompts", type=int, default=4, help="prompts per step")
    p.add_argument("--samples", type=int, default=8, help="completions per prompt")
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--smoke", action="store_true", help="2 layers, 2 steps, short completions (a CPU check)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of: " + ", ".join(VARIANTS))
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args()
    import torch

    from agents.tiny import SHAPES, build_shaped_model

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("no CUDA device: run with --device cpu --smoke, or on a GPU machine")
    overrides = dict(num_hidden_layers=2) if args.smoke else {}
    if args.smoke:
        args.steps, args.prompts, args.samples, args.max_new_tokens = 2, 2, 2, 8
    device_name = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") \
        else platform.processor() or "cpu"
    print(f"device {device_name}, torch {torch.__version__}", flush=True)
    out = {"benchmark": "gpu_step", "device": device_name, "torch": torch.__version__, "shape": "qwen2.5-0.5b",
           "shape_config": {**SHAPES["qwen2.5-0.5b"], **overrides}, "dtype": args.dtype, "steps": args.steps,
           "prompts_per_step": args.prompts, "samples_per_prompt": args.samples,
           "max_new_tokens": args.max_new_tokens, "generator": "hf", "vllm": vllm_status(), "variants": []}
    with tempfile.TemporaryDirectory(prefix="distil-gpu-step-") as tmp:
        t0 = time.perf_counter()
        model_dir = build_shaped_model(Path(tmp) / "model", "qwen2.5-0.5b", dtype=args.dtype, **overrides)
        out["parameters"] = json.loads((model_dir / "distil_shape.json").read_text())["parameters"]
        print(f"built {out['parameters'] / 1e6:.0f}M-parameter model in {time.perf_counter() - t0:.0f}s", flush=True)
        for name in args.variants.split(","):
            try:
                result = run_variant(name, VARIANTS[name], args, model_dir, Path(tmp))
            except Exception as e:  # noqa: BLE001 - keep the other variants' figures
                result = {"variant": name, "error": f"{type(e).__name__}: {e}"[:500]}
            out["variants"].append(result)
            print(json.dumps(result), flush=True)
            atomic_write_json(args.output, out)  # after every variant: a timeout keeps what finished
    print(f"\n{'variant':<32}{'gen s':>8}{'teacher s':>10}{'train s':>9}{'step s':>8}{'tok/s':>9}{'peak GB':>9}")
    for r in out["variants"]:
        if "error" in r:
            print(f"{r['variant']:<32} failed: {r['error']}")
            continue
        print(f"{r['variant']:<32}{r['time/generate_s']:>8.2f}{r['time/teacher_s']:>10.3f}{r['time/train_s']:>9.3f}"
              f"{r['time/step_s']:>8.2f}{r['throughput/tokens_per_s']:>9.0f}{r.get('memory/peak_gb', float('nan')):>9.2f}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
