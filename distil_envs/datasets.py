"""Dataset-backed environments: rows from the Hugging Face Hub or a local file.

`path=` takes a local JSON (a list of objects, or {"data": [...]}), JSONL, CSV or
parquet file with the same columns as the Hub dataset; nothing is downloaded then.
Without `path=`, rows come from `datasets.load_dataset(hub_id, hub_config, split=...)`
on first use (not at `gym.make`), so listing or constructing envs stays offline.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from distil_envs.core import Task
from distil_envs.env import FeedbackEnv
from distil_envs.errors import DatasetUnavailableError, MissingDependencyError


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a local .json / .jsonl / .csv / .parquet file as dicts."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetUnavailableError(f"path={str(path)!r} is not a file; pass a local JSON, JSONL, CSV or parquet file")
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    try:
        if suffix in (".jsonl", ".jsonl.gz", ".ndjson"):
            import gzip
            opener = gzip.open if suffix.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as handle:
                return [json.loads(line) for line in handle if line.strip()]
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data = data.get("data", data.get("rows", data.get("test")))
            if not isinstance(data, list):
                raise DatasetUnavailableError(f"{path}: expected a JSON list of objects or {{'data': [...]}}")
            return data
        if suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
        if suffix == ".parquet":
            try:
                import pyarrow.parquet as pq
            except ImportError:
                raise MissingDependencyError("reading parquet files", "datasets", "pyarrow") from None
            return pq.read_table(path).to_pylist()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetUnavailableError(f"{path}: not valid {suffix[1:]} ({error})") from None
    raise DatasetUnavailableError(f"{path}: unsupported file type {suffix!r}; use .json, .jsonl, .csv or .parquet")


def load_hub_records(hub_id: str, config: str | None, split: str) -> list[dict[str, Any]]:
    """Rows of a Hub dataset split; errors say how to use a local file instead."""
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError(f"loading {hub_id!r} from the Hub", "datasets") from None
    try:
        dataset = datasets.load_dataset(hub_id, config, split=split)
    except Exception as error:
        raise DatasetUnavailableError(
            f"could not load {hub_id!r} (config={config!r}, split={split!r}) from the Hugging Face Hub: "
            f"{type(error).__name__}: {error}. Offline? Pass path= to a local JSON/JSONL/parquet file "
            f"with the same columns.") from None
    return [dict(row) for row in dataset]


class DatasetEnv(FeedbackEnv):
    """An env over the rows of a dataset.

    Subclasses set `hub_id`, `hub_config`, `default_split` and implement
    `row_to_task(row, index) -> Task` and `check`. Arguments beyond `FeedbackEnv`'s:

        split: the dataset split (default `default_split`).
        path: a local file used instead of the Hub.
        limit: use only the first `limit` rows.
    """

    source = "dataset"
    hub_id: ClassVar[str] = ""
    hub_config: ClassVar[str | None] = None
    # Several Hub configs read one after the other (e.g. SciKnowEval's per-domain ones); empty: `hub_config`.
    hub_configs: ClassVar[tuple[str | None, ...]] = ()
    default_split: ClassVar[str] = "test"

    def __init__(self, *, split: str | None = None, path: str | Path | None = None, limit: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit={limit!r} must be a positive integer or None")
        self.split = split or self.default_split
        self.path = Path(path).expanduser() if path is not None else None
        if self.path is not None and not self.path.is_file():
            raise DatasetUnavailableError(f"path={str(path)!r} is not a file; pass a local JSON, JSONL, CSV or parquet file")
        self.limit = limit
        self._tasks: list[Task] | None = None

    @property
    def tasks(self) -> list[Task]:
        """All tasks, loaded on first use."""
        if self._tasks is None:
            if self.path is not None:
                rows = load_records(self.path)
            else:
                configs = self.hub_configs or (self.hub_config,)
                rows = [row for config in configs for row in load_hub_records(self.hub_id, config, self.split)]
            rows = [row for row in rows if self.keep_row(row)]
            rows = rows[: self.limit] if self.limit else rows
            if not rows:
                raise DatasetUnavailableError(f"{type(self).__name__}: no usable rows in {self.source_name()}")
            self._tasks = [self.row_to_task(row, index) for index, row in enumerate(rows)]
        return self._tasks

    def keep_row(self, row: dict[str, Any]) -> bool:
        """Whether a row becomes a task (families drop rows they cannot pose)."""
        return True

    def row_to_task(self, row: dict[str, Any], index: int) -> Task:
        raise NotImplementedError

    def num_tasks(self) -> int:
        return len(self.tasks)

    def task_at(self, index: int) -> Task:
        tasks = self.tasks
        if not 0 <= index < len(tasks):
            raise IndexError(f"index={index} is out of range; {type(self).__name__} has {len(tasks)} tasks")
        return tasks[index]

    def sample_task(self, rng: np.random.Generator) -> Task:
        return self.task_at(int(rng.integers(len(self.tasks))))

    def source_name(self) -> str:
        return str(self.path) if self.path else f"{self.hub_id}:{self.split}"
