"""Atomic files and checkpoints that resume a run exactly.

A checkpoint is a directory `checkpoints/step_XXXXXXXX/` holding `state.pt` (model,
optimizer, scheduler, teacher weights, every RNG state, the data position and the step)
and `DONE`. It is written into a temporary directory beside it and renamed into place
with `os.replace`, so a `kill -9` at any moment leaves either the old set of checkpoints
or the new one, never a half-written directory that `latest_checkpoint` would pick.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from distil_envs.files import atomic_write_text  # noqa: F401  (re-exported for the trainer)


def rng_state() -> dict[str, Any]:
    """Every global RNG the run touches."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.random.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.random.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(run_dir: Path, step: int, state: dict[str, Any], keep: int = 2) -> Path:
    """Write `state` as checkpoint `step` atomically; delete all but the newest `keep`."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:08d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".step_{step:08d}.", dir=root))
    try:
        torch.save(state, tmp / "state.pt")
        (tmp / "DONE").write_text(str(step))
        if final.exists():  # a re-run of the same step after resuming: replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for old in sorted(p for p in root.glob("step_*") if (p / "DONE").exists())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint directory of a run, or None."""
    done = sorted(p for p in (Path(run_dir) / "checkpoints").glob("step_*") if (p / "DONE").exists())
    return done[-1] if done else None


def load_checkpoint(path: Path) -> dict[str, Any]:
    return torch.load(Path(path) / "state.pt", map_location="cpu", weights_only=False)
