"""The result store: `samples.jsonl` appended as a run goes, JSON files written atomically.

A run directory holds `samples.jsonl` (one JSON object per completion, written in
batches: append, flush, fsync) and `summary.json` (written once at the end through a
temporary file, fsync and `os.replace`, so a reader never sees half of it).

A crash can leave the last line of `samples.jsonl` torn (no newline, or not valid
JSON). `SampleStore` detects that on open, truncates the file back to the last good
line and says so; every earlier line is intact because lines are only ever appended.
Re-running a command skips the samples already there: a sample is identified by
(env_id, task_key, sample index).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Iterable

from distil_envs.files import atomic_write_text

SampleKey = tuple[str, str, int]


def sample_key(record: dict[str, Any]) -> SampleKey:
    return (str(record["env_id"]), str(record["task_key"]), int(record["sample"]))


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=True) + "\n")


class SampleStore:
    """Append-only `samples.jsonl` with resume.

    `records` holds every intact sample already on disk; `done` their keys. `append`
    writes a batch durably before returning.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: list[dict[str, Any]] = []
        self.dropped = 0
        self._load()
        self.done: set[SampleKey] = {sample_key(r) for r in self.records}

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good_end = 0  # byte offset just after the last intact line
        position = 0
        while position < len(data):
            newline = data.find(b"\n", position)
            if newline < 0:  # a torn last line: no newline was written
                self.dropped += 1
                break
            line = data[position:newline]
            if line.strip():
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    if data[newline + 1:].strip():
                        line_number = data[:position].count(b"\n") + 1
                        raise ValueError(f"{self.path}: line {line_number} is not valid JSON and is not the last "
                                         "line; the file was edited or corrupted by something other than a "
                                         "crash. Move it aside to start over.") from None
                    self.dropped += 1
                    break
                self.records.append(record)
            position = good_end = newline + 1
        if good_end < len(data):
            warnings.warn(f"{self.path}: dropped a torn last line ({len(data) - good_end} bytes) left by an "
                          "interrupted run; those samples will be redone", stacklevel=3)
            with open(self.path, "r+b") as handle:
                handle.truncate(good_end)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, records: Iterable[dict[str, Any]]) -> int:
        """Write a batch of records (skipping keys already stored); returns how many were written."""
        fresh = []
        for record in records:
            key = sample_key(record)
            if key not in self.done:
                self.done.add(key)
                fresh.append(record)
        if not fresh:
            return 0
        text = "".join(json.dumps(r, ensure_ascii=False, allow_nan=True) + "\n" for r in fresh)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        self.records.extend(fresh)
        return len(fresh)
