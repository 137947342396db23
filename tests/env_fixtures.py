"""Local data for dataset-backed envs, so registry-wide tests never reach the Hub.

`LOCAL_ROWS[env_id]` holds a few rows in the Hub dataset's own schema; tests write
them to a JSONL file and pass it as `path=`. Add rows here when you add a dataset env.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import distil_envs

LOCAL_ROWS: dict[str, list[dict[str, Any]]] = {}


def env_kwargs(env_id: str, directory: Path) -> dict[str, Any]:
    """Keyword arguments that make `env_id` work offline (a local file for dataset envs)."""
    cls = distil_envs.env_class(env_id)
    if cls.source != "dataset":
        return {}
    rows = LOCAL_ROWS.get(env_id)
    if not rows:
        raise AssertionError(f"{env_id} is dataset-backed: add example rows to tests/env_fixtures.py LOCAL_ROWS")
    path = directory / (env_id.replace("/", "_") + ".jsonl")
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return {"path": str(path)}
