"""Local data for dataset-backed envs, so registry-wide tests never reach the Hub.

For each dataset-backed env, `tests/data/<id with '/' as '__'>.jsonl` (for example
`tests/data/distil__math-gsm8k-v0.jsonl`) holds a few rows in the Hub dataset's own
schema; tests pass it as `path=`. Add such a file when you add a dataset env.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distil_envs

DATA = Path(__file__).parent / "data"


def local_data(env_id: str) -> Path:
    return DATA / (env_id.replace("/", "__") + ".jsonl")


def env_kwargs(env_id: str, directory: Path | None = None) -> dict[str, Any]:
    """Keyword arguments that make `env_id` work offline (a local file for dataset envs)."""
    cls = distil_envs.env_class(env_id)
    if cls.source != "dataset":
        return {}
    path = local_data(env_id)
    if not path.is_file():
        raise AssertionError(f"{env_id} is dataset-backed: add example rows in its Hub schema to {path}")
    return {"path": str(path)}
