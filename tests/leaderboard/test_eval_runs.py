"""`distil eval` end to end: oracle 1 / random 0 on `quick`, resume after a crash, attempts, CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import typer

from leaderboard.cli import register
from leaderboard.evaluate import EvalConfig, evaluate
from leaderboard.models import Generated, OracleModel, PolicyModel
from leaderboard.suites import EVAL_SEED_BASE, SUITES, TRAIN_SEEDS, Suite, SuiteEntry, get_suite

QUICK = EvalConfig(suite="quick", n=2, ks=(1, 2), bootstrap=200)


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_suites_use_held_out_seeds_only():
    for suite in SUITES.values():
        for entry in suite.entries:
            if entry.seeds:
                assert EVAL_SEED_BASE >= TRAIN_SEEDS.stop
    tasks = get_suite("quick").tasks()
    assert all(t.seed >= EVAL_SEED_BASE for t in tasks)
    assert {t.env_id.split("/")[1].split("-")[0] for t in tasks} == {"math", "science", "code"}
    assert "distil/code-synth-v0" in {t.env_id for t in tasks}
    with pytest.raises(ValueError, match="not in suite"):
        get_suite("quick").tasks(paths={"distil/math-gsm8k-v0": "x.jsonl"})
    with pytest.raises(ValueError, match="ks="):
        EvalConfig(n=2, ks=(1, 4))


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("oracle")
    return out, evaluate("oracle", QUICK, out, progress=False)


def test_oracle_scores_one_on_quick(oracle_run):
    out, summary = oracle_run
    records = lines(out / "samples.jsonl")
    assert len(records) == len(get_suite("quick").tasks()) * QUICK.n
    bad = [(r["env_id"], r["feedback_message"][:200]) for r in records if r["score"] != 1.0]
    assert not bad, f"the reference completion must score 1 everywhere: {bad[:3]}"
    assert summary["metrics"]["overall"]["avg@2"]["mean"] == 1.0
    assert summary["metrics"]["domains"]["code"]["accuracy"]["mean"] == 1.0
    for key in ("task_id", "env_id", "seed", "completion", "feedback_kind", "feedback_message", "score",
                "accuracy", "tokens", "seconds"):
        assert key in records[0]
    assert json.loads((out / "summary.json").read_text())["metrics"] == summary["metrics"]


def test_random_scores_about_zero(tmp_path):
    summary = evaluate("random", QUICK, tmp_path, progress=False)
    assert summary["metrics"]["overall"]["avg@2"]["mean"] <= 0.05
    assert summary["metrics"]["overall"]["pass@2"]["mean"] <= 0.1


class Crash(RuntimeError):
    pass


def test_resume_after_a_crash_redoes_nothing_and_tolerates_a_torn_line(tmp_path, oracle_run):
    config = EvalConfig(suite="quick", n=2, ks=(1, 2), bootstrap=200)
    batches = []

    def crash_after_three(records):
        batches.append(records)
        if len(batches) == 3:
            raise Crash()

    with pytest.raises(Crash):
        evaluate("random", config, tmp_path, progress=False, on_batch=crash_after_three)
    assert not (tmp_path / "summary.json").exists()
    assert len(lines(tmp_path / "samples.jsonl")) == 6
    with open(tmp_path / "samples.jsonl", "a") as handle:  # a crash in the middle of a write
        handle.write('{"env_id": "distil/math-ari')
    redone = []
    with pytest.warns(UserWarning, match="torn last line"):
        summary = evaluate("random", config, tmp_path, progress=False, on_batch=redone.append)
    records = lines(tmp_path / "samples.jsonl")
    keys = [(r["env_id"], r["task_key"], r["sample"]) for r in records]
    assert len(keys) == len(set(keys)) == len(get_suite("quick").tasks()) * 2
    assert sum(len(b) for b in redone) == len(keys) - 6  # the first three tasks were not redone
    fresh = evaluate("random", config, tmp_path / "fresh", progress=False)
    assert summary["metrics"] == fresh["metrics"]  # resumed == uninterrupted
    with pytest.raises(ValueError, match="other settings"):
        evaluate("random", EvalConfig(suite="quick", n=3, ks=(1,)), tmp_path, progress=False)


class WrongThenOracle(OracleModel):
    """Junk on the first attempt; the reference once the feedback is in context."""

    name = "wrong-then-oracle"

    def __init__(self):
        self.conversations = []

    def complete(self, conversations, contexts, n, sampling):
        self.conversations += conversations
        if len(conversations[0]) == 1:
            return [[Generated("I am not sure. \\boxed{-98765.4321}", 5) for _ in range(n)] for _ in conversations]
        return super().complete(conversations, contexts, n, sampling)


def test_attempts_retry_with_feedback_in_context(tmp_path):
    model = WrongThenOracle()
    config = EvalConfig(suite="quick", n=2, ks=(1, 2), attempts=3, bootstrap=200)
    summary = evaluate(model, config, tmp_path, progress=False)
    overall = summary["metrics"]["overall"]
    assert overall["solved@1"]["mean"] == 0.0
    assert overall["solved@2"]["mean"] == overall["solved@3"]["mean"] == 1.0
    retry = next(c for c in model.conversations if len(c) == 3)
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert retry[1]["content"].endswith("\\boxed{-98765.4321}")
    record = lines(tmp_path / "samples.jsonl")[0]
    assert record["attempts_used"] == 2 and record["attempts"][0]["score"] == 0.0
    assert record["attempts"][0]["message"] == retry[2]["content"]


def test_cli_eval_and_leaderboard(tmp_path, oracle_run):
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "--model", "random", "--suite", "quick", "--n", "2", "--k", "1,2",
                                 "--out", str(tmp_path / "random"), "--no-progress", "--algorithm", "none"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "random" / "summary.json").exists()
    bad = runner.invoke(app, ["eval", "--model", "random", "--n", "2", "--k", "1,4", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "ks=" in bad.output
    result = runner.invoke(app, ["leaderboard", str(oracle_run[0]), str(tmp_path / "random"),
                                 "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text())
    assert [r["model"] for r in board["runs"]] == ["oracle", "random"]
    markdown = (tmp_path / "site" / "leaderboard.md").read_text()
    assert "| oracle |" in markdown and "not reproduced here" in markdown and "76.1" in markdown
    page = (tmp_path / "site" / "index.html").read_text()
    assert "http://" not in page and "https://" not in page  # self-contained: no CDN
    assert page.count('<tr class="run"') == 2


def test_tiny_model_smoke(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    small = Suite("tiny-test", 1, "two tasks", (SuiteEntry("distil/math-arithmetic-v0", seeds=2),))
    monkeypatch.setitem(SUITES, small.name, small)
    config = EvalConfig(suite=small.name, n=2, ks=(1, 2), max_new_tokens=8, bootstrap=50)
    model = PolicyModel.load("tiny")  # loaded once, evaluated twice
    summary = evaluate(model, config, tmp_path, progress=False)
    records = lines(tmp_path / "samples.jsonl")
    assert len(records) == summary["num_samples"] == 4
    assert all(0 < r["tokens"] <= 8 for r in records)
    again = evaluate(model, config, tmp_path / "again", progress=False)
    assert lines(tmp_path / "again" / "samples.jsonl")[0]["completion"] == records[0]["completion"]
    assert again["metrics"] == summary["metrics"]  # per-task seeds: same samples


def test_dataset_envs_read_local_files_through_paths(tmp_path, monkeypatch):
    from pathlib import Path

    from leaderboard.suites import DATASETS
    data = Path(__file__).parents[1] / "data"
    paths = {env_id: str(data / (env_id.replace("/", "__") + ".jsonl")) for env_id in DATASETS}
    full = get_suite("full")
    rows = [t for t in full.tasks(paths=paths) if t.env_id in DATASETS]
    assert {t.env_id for t in rows} == set(DATASETS) and all(t.index is not None for t in rows)
    subset = Suite("datasets-test", 1, "local rows", tuple(SuiteEntry(e, rows=True, limit=2) for e in DATASETS))
    monkeypatch.setitem(SUITES, subset.name, subset)
    summary = evaluate("oracle", EvalConfig(suite=subset.name, n=1, ks=(1,), paths=paths, bootstrap=50),
                       tmp_path, progress=False)
    records = lines(tmp_path / "samples.jsonl")
    assert summary["metrics"]["overall"]["avg@1"]["mean"] == 1.0, [r["feedback_message"] for r in records
                                                                    if r["score"] < 1]
    assert {r["task_key"] for r in records} == {"row=0", "row=1"}


def test_progress_shows_tasks_done_samples_per_second_and_running_accuracy():
    from leaderboard.evaluate import Progress

    progress = Progress(total=3, done=1, records=[{"score": 1.0}, {"score": 0.0}])  # resumed: 1 task on disk
    with progress:
        progress.update([{"score": 1.0}, {"score": 1.0}])
        bar = progress._bar.tasks[0]
        assert bar.total == 3 and bar.completed == 2
        assert bar.fields["acc"] == 0.75 and bar.fields["rate"] > 0
    assert Progress(total=1, done=0, records=[], enabled=False).__enter__()._bar is None
