"""Peak memory and time of the DistIL loss, naive (B, T, V) logits vs chunked + checkpointed.

Each configuration runs forward + backward in a fresh subprocess (B = 1, hidden 1024, a top-k
teacher as an expert would send it), and reports the process's peak resident memory
(`resource.getrusage(...).ru_maxrss`) and its growth over the resident memory after building
the inputs (hidden states, the LM head weight and the teacher targets; a tiny warm-up step
runs first so lazy initialisation is not counted), plus the loss value (the surrogate), the mean per-token
cross-entropy and the gradient norms so the two paths can be compared.

    python benchmarks/loss_memory.py                      # V in {32k, 150k} x T in {1k, 4k}
    python benchmarks/loss_memory.py --vocab 1000 --tokens 64  # a quick smoke run
    python benchmarks/loss_memory.py --device cuda --output benchmarks/results/loss_memory_cuda.json

On CUDA the configurations run in one process and the figures are the allocator's peak
(`torch.cuda.max_memory_allocated`, reset before each run) and its growth over the
memory held after building the inputs; times are synchronised.

Writes benchmarks/results/loss_memory.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from distil_envs.files import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "loss_memory.json"


def _maxrss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """Resident memory now."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def worker(args: argparse.Namespace) -> dict:
    import torch

    sys.path.insert(0, str(ROOT))
    from agents.losses import chunked_distil_loss, distil_loss
    from agents.types import TeacherTargets

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"

    def problem(V, T, H, K):
        with torch.device(device):
            hidden = torch.randn(1, T, H, requires_grad=True)
            weight = torch.randn(V, H).mul_(H ** -0.5).requires_grad_(True)  # in place: no transient copy
            # Distinct teacher ids per position, 90% of the teacher's mass on them, the rest in the tail.
            ids = (torch.randint(0, V, (1, T, 1)) + torch.arange(K) * (V // K)) % V
            logprobs = torch.log_softmax(torch.randn(1, T, K) * 2, -1) + torch.log(torch.tensor(0.9))
            teacher = TeacherTargets(topk_ids=ids, topk_logprobs=logprobs, mask=torch.ones(1, T))
            return hidden, weight, teacher, ids[..., 0].clone(), torch.ones(1, T)

    def step(hidden, weight, teacher, tokens, mask):
        if args.mode == "naive":
            loss, metrics = distil_loss(hidden @ weight.T, teacher, tokens, mask)
        else:
            loss, metrics = chunked_distil_loss(hidden, weight, teacher, tokens, mask, chunk_size=args.chunk_size)
        loss.backward()
        return loss, metrics

    step(*problem(4 * args.topk, 300, args.hidden, args.topk))  # warm up the code paths on a tiny problem
    torch.manual_seed(args.seed)
    V, T, H, K = args.vocab, args.tokens, args.hidden, args.topk
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    hidden, weight, teacher, tokens, mask = problem(V, T, H, K)
    setup_mb = torch.cuda.memory_allocated(device) / 2**20 if cuda else _rss_mb()
    if cuda:
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    loss, metrics = step(hidden, weight, teacher, tokens, mask)
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    peak_mb = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else _maxrss_mb()
    return {"mode": args.mode, "device": str(device), "vocab": V, "tokens": T, "hidden": H, "topk": K,
            "chunk_size": args.chunk_size if args.mode == "chunked" else None, "threads": args.threads,
            "seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb, 1), "setup_rss_mb": round(setup_mb, 1),
            "loss_peak_mb": round(peak_mb - setup_mb, 1), "loss": float(loss.detach()),
            "cost": metrics["distil/cost"],
            "grad_norm_hidden": float(hidden.grad.norm()), "grad_norm_weight": float(weight.grad.norm()),
            "teacher_mass": metrics["teacher/mass"], "student_mass": metrics["student/mass"]}


def run_one(args: argparse.Namespace, mode: str, vocab: int, tokens: int) -> dict:
    if args.device.startswith("cuda"):  # the allocator's own counters: one process is enough
        import torch

        try:
            return worker(argparse.Namespace(**{**vars(args), "mode": mode, "vocab": vocab, "tokens": tokens}))
        except torch.OutOfMemoryError as e:
            return {"mode": mode, "vocab": vocab, "tokens": tokens, "error": f"out of memory: {e}"[:200]}
        finally:
            torch.cuda.empty_cache()
    cmd = [sys.executable, __file__, "--worker", "--mode", mode, "--vocab", str(vocab), "--tokens", str(tokens),
           "--hidden", str(args.hidden), "--topk", str(args.topk), "--chunk-size", str(args.chunk_size),
           "--threads", str(args.threads), "--seed", str(args.seed), "--device", args.device]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        why = "killed (out of memory?)" if proc.returncode < 0 else proc.stderr.strip().splitlines()[-1:]
        return {"mode": mode, "vocab": vocab, "tokens": tokens, "error": str(why), "returncode": proc.returncode}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vocab", type=int, nargs="+", default=[32_000, 150_000])
    p.add_argument("--tokens", type=int, nargs="+", default=[1024, 4096])
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--topk", type=int, default=64, help="teacher entries per position (plus the tail bucket)")
    p.add_argument("--chunk-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--output", type=Path, default=RESULTS)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=["naive", "chunked"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        args.vocab, args.tokens = args.vocab[0], args.tokens[0]
        print(json.dumps(worker(args)))
        return
    rows = []
    header = (f"{'V':>7} {'T':>5} {'mode':>8} {'time s':>7} {'peak MB':>8} {'loss MB':>8} {'loss':>14} "
              f"{'mean CE':>10}")
    print(header)
    for vocab in args.vocab:
        for tokens in args.tokens:
            for mode in ("chunked", "naive"):
                r = run_one(args, mode, vocab, tokens)
                rows.append(r)
                if "error" in r:
                    print(f"{vocab:>7} {tokens:>5} {mode:>8}  failed: {r['error']}")
                else:
                    print(f"{vocab:>7} {tokens:>5} {mode:>8} {r['seconds']:>7.1f} {r['peak_rss_mb']:>8.0f} "
                          f"{r['loss_peak_mb']:>8.0f} {r['loss']:>14.6f} {r['cost']:>10.6f}", flush=True)
    summary = []
    for vocab in args.vocab:
        for tokens in args.tokens:
            pair = {r["mode"]: r for r in rows if r["vocab"] == vocab and r["tokens"] == tokens and "error" not in r}
            if len(pair) == 2:
                n, c = pair["naive"], pair["chunked"]
                summary.append({"vocab": vocab, "tokens": tokens,
                                "peak_ratio": round(c["peak_rss_mb"] / n["peak_rss_mb"], 3),
                                "loss_peak_ratio": round(c["loss_peak_mb"] / max(n["loss_peak_mb"], 1e-9), 3),
                                "loss_abs_diff": abs(c["loss"] - n["loss"]),
                                "grad_norm_weight_rel_diff": abs(c["grad_norm_weight"] - n["grad_norm_weight"])
                                / n["grad_norm_weight"]})
    for s in summary:
        print(f"V={s['vocab']} T={s['tokens']}: chunked/naive peak RSS {s['peak_ratio']:.3f}, "
              f"growth {s['loss_peak_ratio']:.3f}; |loss diff| {s['loss_abs_diff']:.2e}, "
              f"grad-norm rel diff {s['grad_norm_weight_rel_diff']:.2e}")
    import torch

    device = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else "cpu"
    atomic_write_json(args.output, {"benchmark": "loss_memory", "device": device, "torch": torch.__version__,
                                    "memory": "cuda_max_allocated" if device != "cpu" else "peak_rss",
                               "cpu_count": os.cpu_count(), "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                               "rows": rows, "summary": summary})
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
