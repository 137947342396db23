"""`distil plot RUN_DIR`: the curves of a run (reward, losses, held-out accuracy) as one PNG."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; is {run_dir} a run directory of `distil train`?")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Three panels against rollouts: training reward, every loss/* key, eval/avg and pass; returns the PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    if not rows:
        raise ValueError(f"{run_dir}/metrics.jsonl is empty: nothing to plot yet")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))

    def series(key: str) -> tuple[list[float], list[float]]:
        pts = [(r["rollouts"], r[key]) for r in rows if key in r and r[key] is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    for key in ("rollout/reward", "rollout/correct"):
        axes[0].plot(*series(key), label=key)
    loss_keys = sorted({k for r in rows for k in r if k.startswith("loss/")})
    for key in loss_keys:
        axes[1].plot(*series(key), label=key)
    eval_keys = sorted({k for r in rows for k in r if k.startswith("eval/") and k.count("/") == 1
                        and ("avg@" in k or "pass@" in k)})
    for key in eval_keys:
        axes[2].plot(*series(key), marker="o", label=key)
    for ax, title in zip(axes, ("training reward", "losses", "held-out accuracy")):
        ax.set_title(title)
        ax.set_xlabel("rollouts")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.suptitle(str(run_dir))
    fig.tight_layout()
    path = Path(out) if out is not None else Path(run_dir) / "curves.png"
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
