"""The sample store: durable appends, resume by key, torn last lines dropped, atomic JSON."""

from __future__ import annotations

import json
import os

import pytest

from leaderboard.store import SampleStore, atomic_write_json


def rec(task: str, sample: int, **extra) -> dict:
    return {"env_id": "distil/math-arithmetic-v0", "task_key": task, "sample": sample, "score": 1.0, **extra}


def test_append_and_resume(tmp_path):
    path = tmp_path / "samples.jsonl"
    store = SampleStore(path)
    assert store.append([rec("seed=1", 0), rec("seed=1", 1)]) == 2
    assert store.append([rec("seed=1", 1), rec("seed=2", 0)]) == 1  # a stored key is not written twice
    again = SampleStore(path)
    assert again.done == {("distil/math-arithmetic-v0", "seed=1", 0), ("distil/math-arithmetic-v0", "seed=1", 1),
                          ("distil/math-arithmetic-v0", "seed=2", 0)}
    assert len(path.read_text().splitlines()) == 3


@pytest.mark.parametrize("tail", [b'{"env_id": "distil/math-arith', b'{"env_id": "x", "task_key": "s"\n', b"\x00\xff"])
def test_torn_last_line_is_dropped_and_the_file_repaired(tmp_path, tail):
    path = tmp_path / "samples.jsonl"
    SampleStore(path).append([rec("seed=1", 0), rec("seed=1", 1)])
    intact = path.read_bytes()
    with open(path, "ab") as handle:
        handle.write(tail)
    with pytest.warns(UserWarning, match="torn last line"):
        store = SampleStore(path)
    assert len(store.records) == 2 and store.dropped == 1
    assert path.read_bytes() == intact  # truncated back to the last good line
    store.append([rec("seed=2", 0)])
    assert [json.loads(line)["task_key"] for line in path.read_text().splitlines()] == ["seed=1", "seed=1", "seed=2"]


def test_corruption_before_the_last_line_is_an_error(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps(rec("seed=1", 0)) + "\nnot json\n" + json.dumps(rec("seed=1", 1)) + "\n")
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        SampleStore(path)


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2, "b": [1, 2]})
    assert json.loads(target.read_text()) == {"a": 2, "b": [1, 2]}
    assert os.listdir(tmp_path) == ["summary.json"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600


def test_atomic_write_keeps_the_old_file_when_serialisation_fails(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"a": object()})
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["summary.json"]
