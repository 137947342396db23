"""`distil eval` and `distil leaderboard`, plugged into the `distil` command (entry point
`distil.commands: leaderboard = leaderboard.cli:register`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

console = Console()


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError:
        raise typer.BadParameter(f"--k {text!r} must be comma-separated integers, e.g. 1,4,16") from None
    if not ks:
        raise typer.BadParameter("--k needs at least one value, e.g. 1,4,16")
    return ks


def _parse_paths(items: List[str]) -> dict[str, str]:
    paths = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"--path {item!r} must be ENV_ID=FILE, e.g. distil/math-gsm8k-v0=gsm8k.jsonl")
        env_id, file = item.split("=", 1)
        paths[env_id.strip()] = file.strip()
    return paths


def eval_command(
    model: str = typer.Option("tiny", help="tiny | a local model directory | a Hub id | oracle | random."),
    suite: str = typer.Option("quick", help="quick, math, science, code or full (see leaderboard/suites.py)."),
    n: int = typer.Option(16, help="Samples per task."),
    k: str = typer.Option("1,4,16", help="Comma-separated k of avg@k / pass@k / maj@k (each <= n)."),
    temperature: float = typer.Option(0.6, help="Sampling temperature (0 = greedy)."),
    top_p: float = typer.Option(0.95, "--top-p", help="Nucleus sampling mass."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", help="Most tokens per completion."),
    attempts: int = typer.Option(1, help="Attempts per episode; > 1 retries with the env's feedback in context."),
    feedback: str = typer.Option("diagnostic", help="Feedback level on retries: binary, diagnostic, correction."),
    seed: int = typer.Option(0, help="Sampling seed (each task's seed derives from it)."),
    out: Path = typer.Option(..., help="Run directory: samples.jsonl, summary.json (re-running resumes)."),
    name: Optional[str] = typer.Option(None, help="Run name on the leaderboard (default: the --out folder name)."),
    algorithm: str = typer.Option("", help="How the model was trained (distil, grpo, sdpo, base...), for the table."),
    path: List[str] = typer.Option([], "--path", help="ENV_ID=FILE: a local data file for a dataset env (repeat)."),
    api_base: Optional[str] = typer.Option(None, "--api-base", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."),
    api_model: Optional[str] = typer.Option(None, "--api-model", help="The model name the server serves."),
    device: str = typer.Option("cpu", help="Device of a local model (cpu, cuda)."),
    dtype: str = typer.Option("float32", help="dtype of a local model (float32, bfloat16)."),
    ray: bool = typer.Option(False, "--ray", help="Shard tasks across Ray workers (needs the distil-envs\\[ray] extra)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address ('auto'); default: a local instance."),
    ray_workers: Optional[int] = typer.Option(None, "--ray-workers", help="Ray workers (default: the cluster's CPUs)."),
    threads: Optional[int] = typer.Option(None, help="torch intra-op threads of a local model on CPU (default: "
                                          "torch's; 1 is much faster on busy shared cores)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
) -> None:
    """Evaluate a model on a suite: n samples per task into samples.jsonl and summary.json."""
    from leaderboard.evaluate import EvalConfig, evaluate
    from leaderboard.render import headline

    if threads is not None:
        if threads < 1:
            raise typer.BadParameter(f"--threads {threads} must be >= 1")
        import torch
        torch.set_num_threads(threads)

    try:
        config = EvalConfig(suite=suite, n=n, ks=_parse_ks(k), temperature=temperature, top_p=top_p,
                            max_new_tokens=max_new_tokens, attempts=attempts, feedback=feedback, seed=seed,
                            paths=_parse_paths(path))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    summary = evaluate(model, config, out, run_name=name, algorithm=algorithm, api_base=api_base,
                       api_model=api_model, device=device, dtype=dtype, ray=ray, ray_address=ray_address,
                       ray_workers=ray_workers, progress=not no_progress)
    console.print(headline(summary))
    console.print(f"wrote {out / 'samples.jsonl'} and {out / 'summary.json'}")


def leaderboard_command(
    runs: List[Path] = typer.Argument(..., help="Run directories (or their summary.json files), e.g. results/*."),
    out: Path = typer.Option(Path("leaderboard/site"), help="Output folder: leaderboard.json, leaderboard.md, index.html."),
    metric: str = typer.Option("", help="Headline metric (default: avg@<largest k> of each run)."),
) -> None:
    """Aggregate run summaries into leaderboard.json, a Markdown table and a static HTML page."""
    from leaderboard.render import render_site

    written = render_site(runs, out, metric=metric or None)
    for path in written:
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("leaderboard")(leaderboard_command)
