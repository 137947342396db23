"""`distil eval`: a model over a suite, n samples per task, into `samples.jsonl` + `summary.json`.

The loop, task by task:

    for each task of the suite not yet finished:
        conversations = [env prompt] (one env episode per sample)
        for attempt in 1..attempts:
            completions = model.complete(open conversations, sampling seeded by the task)
            step each open episode; the env's feedback joins its chat messages
        append one record per sample to samples.jsonl (flush + fsync)
    summary.json <- metrics over every record (atomic)

Sampling is seeded per task (from `seed`, the env id and the task), so a task's
completions do not depend on which other tasks ran before it, on resume, or on which
Ray worker ran it. Generation time is shared evenly by the samples generated together.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import distil_envs
from agents.types import SamplingConfig
from distil_envs.seeding import task_seed
from leaderboard.metrics import normalize_answer, summarize
from leaderboard.models import Context, EvalModel, load_model
from leaderboard.store import SampleStore, atomic_write_json
from leaderboard.suites import EvalTask, Suite, get_suite


@dataclass(frozen=True)
class EvalConfig:
    """What `distil eval` runs. Validated on construction; errors name the field and the fix."""

    suite: str = "quick"
    n: int = 16  # samples per task
    ks: tuple[int, ...] = (1, 4, 16)  # k of avg@k, pass@k, maj@k (each <= n)
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 256
    attempts: int = 1  # > 1: multi-turn, retry with the env's feedback in context
    feedback: str = "diagnostic"  # the env's feedback level shown on retries
    seed: int = 0  # sampling seed; each task's seed is derived from it
    bootstrap: int = 1000  # bootstrap resamples of the confidence intervals
    paths: Mapping[str, str] = field(default_factory=dict)  # env id -> local data file

    def __post_init__(self) -> None:
        get_suite(self.suite)
        if self.n < 1:
            raise ValueError(f"n={self.n} must be >= 1 (samples per task)")
        if not self.ks or any(k < 1 or k > self.n for k in self.ks):
            raise ValueError(f"ks={list(self.ks)} must be between 1 and n={self.n}; lower k or raise --n")
        if self.attempts < 1:
            raise ValueError(f"attempts={self.attempts} must be >= 1")
        if self.bootstrap < 1:
            raise ValueError(f"bootstrap={self.bootstrap} must be >= 1")
        distil_envs.FeedbackLevel.parse(self.feedback)
        SamplingConfig(temperature=self.temperature, top_p=self.top_p, max_new_tokens=self.max_new_tokens)

    def sampling(self, seed: int) -> SamplingConfig:
        return SamplingConfig(temperature=self.temperature, top_p=self.top_p,
                              max_new_tokens=self.max_new_tokens, seed=seed)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ks"], data["paths"] = list(self.ks), dict(self.paths)
        return data


def sampling_seed(base: int, task: EvalTask, attempt: int) -> int:
    """A seed for one task's generation at one attempt, independent of every other task."""
    digest = hashlib.sha1(f"{task.env_id}|{task.key}|{attempt}".encode()).digest()
    return task_seed(base, int.from_bytes(digest[:8], "little")) % 2**62


class TaskRunner:
    """Runs tasks of one suite with one model: the unit a Ray worker replicates."""

    def __init__(self, model: EvalModel, suite: Suite, config: EvalConfig):
        self.model, self.suite, self.config = model, suite, config
        self._envs: dict[str, list[Any]] = {}  # env id -> one env per concurrent episode

    def _envs_for(self, env_id: str, count: int) -> list[Any]:
        pool = self._envs.setdefault(env_id, [])
        while len(pool) < count:
            pool.append(distil_envs.make(env_id, feedback=self.config.feedback, max_attempts=self.config.attempts,
                                         **self.suite.env_kwargs(env_id, self.config.paths)))
        return pool[:count]

    def close(self) -> None:
        for pool in self._envs.values():
            for env in pool:
                env.close()
        self._envs.clear()

    def run_task(self, task: EvalTask, samples: Sequence[int]) -> list[dict[str, Any]]:
        """One record per sample index in `samples` (all episodes of the task run together)."""
        envs = self._envs_for(task.env_id, len(samples))
        infos = [env.reset(**task.reset_kwargs())[1] for env in envs]
        base = envs[0].unwrapped
        context = Context(base, base.task)
        domain = base.domain or task.env_id.split("/")[-1].split("-")[0]
        history: list[list[dict[str, Any]]] = [[] for _ in samples]
        open_ = list(range(len(samples)))
        for attempt in range(self.config.attempts):
            if not open_:
                break
            sampling = self.config.sampling(sampling_seed(self.config.seed, task, attempt))
            t0 = time.perf_counter()
            if attempt == 0:  # all episodes share the prompt: one call with n samples
                generated = self.model.complete([infos[0]["messages"]], [context], len(open_), sampling)[0]
            else:
                generated = [g[0] for g in self.model.complete([infos[i]["messages"] for i in open_],
                                                               [context] * len(open_), 1, sampling)]
            share = (time.perf_counter() - t0) / len(open_)
            still_open = []
            for i, gen in zip(open_, generated):
                t1 = time.perf_counter()
                _, _, terminated, truncated, infos[i] = envs[i].step(gen.text)
                feedback = infos[i]["feedback"]
                history[i].append({"completion": gen.text, "kind": feedback["kind"], "message": feedback["message"],
                                   "score": feedback["score"], "correct": feedback["correct"],
                                   "accuracy": feedback["accuracy"], "tokens": gen.tokens,
                                   "seconds": share + time.perf_counter() - t1})
                if not (terminated or truncated):
                    still_open.append(i)
            open_ = still_open
        records = []
        for i, sample in enumerate(samples):
            last = history[i][-1]
            tokens = [h["tokens"] for h in history[i]]
            record = {
                "env_id": task.env_id, "domain": domain, "task_key": task.key, "task_id": infos[i]["task_id"],
                "seed": task.seed, "index": task.index, "split": getattr(base, "split", None), "sample": sample,
                "completion": last["completion"], "feedback_kind": last["kind"], "feedback_message": last["message"],
                "score": float(last["score"]), "correct": bool(last["correct"]), "accuracy": last["accuracy"],
                "answer": normalize_answer(domain, last["completion"]),
                "tokens": None if any(t is None for t in tokens) else int(sum(tokens)),
                "seconds": round(sum(h["seconds"] for h in history[i]), 6),
                "attempts_used": len(history[i]), "max_attempts": self.config.attempts,
            }
            if self.config.attempts > 1:
                record["attempts"] = history[i]
            records.append(record)
        return records


def pending_work(tasks: Iterable[EvalTask], done: set, n: int) -> list[tuple[EvalTask, list[int]]]:
    """(task, sample indices still missing) for every task that is not finished."""
    work = []
    for task in tasks:
        missing = [s for s in range(n) if (task.env_id, task.key, s) not in done]
        if missing:
            work.append((task, missing))
    return work


def build_summary(records: Sequence[Mapping[str, Any]], config: EvalConfig, meta: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json: the run's settings, metrics per env / domain / overall, and throughput."""
    metrics = summarize(records, config.ks, seed=config.seed, resamples=config.bootstrap)
    seconds = sum(float(r.get("seconds") or 0) for r in records)
    return {
        **dict(meta),
        "suite": get_suite(config.suite).to_dict(),
        "config": config.to_dict(),
        "metrics": metrics,
        "num_samples": len(records),
        "throughput": {"sample_seconds": seconds},
    }


def evaluate(model: str | EvalModel, config: EvalConfig, out: str | Path, *, run_name: str | None = None,
             algorithm: str = "", api_base: str | None = None, api_model: str | None = None,
             device: str = "cpu", dtype: str = "float32", ray: bool = False, ray_address: str | None = None,
             ray_workers: int | None = None, progress: bool = True,
             on_batch: Callable[[list[dict[str, Any]]], None] | None = None) -> dict[str, Any]:
    """Run (or resume) an evaluation into directory `out`; returns the summary."""
    if ray and not isinstance(model, str):
        raise ValueError("--ray builds a model replica in every worker: pass the model as a name or path, "
                         "not a loaded object")
    out = Path(out)
    suite = get_suite(config.suite)
    spec = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    meta = {"run": run_name or out.name, "model": f"api:{api_model}" if api_base else spec,
            "algorithm": algorithm}
    config_path = out / "config.json"
    store = SampleStore(out / "samples.jsonl")
    if store.records and config_path.exists():
        import json
        previous = json.loads(config_path.read_text())
        if previous.get("config") != config.to_dict() or previous.get("model") != meta["model"]:
            raise ValueError(f"{out} holds a run with other settings ({config_path}); "
                             "use another --out, or delete the directory to start over")
    atomic_write_json(config_path, {**meta, "config": config.to_dict(), "suite": suite.to_dict()})
    tasks = suite.tasks(config.paths)
    work = pending_work(tasks, store.done, config.n)
    total_tasks = len(tasks)
    reporter = Progress(total_tasks, total_tasks - len(work), store.records, enabled=progress)

    def write(records: list[dict[str, Any]]) -> None:
        store.append(records)
        reporter.update(records)
        if on_batch is not None:
            on_batch(records)

    with reporter:
        if work and ray:
            from leaderboard.ray_eval import run_with_ray
            run_with_ray(spec, config, work, write, address=ray_address, workers=ray_workers, api_base=api_base,
                         api_model=api_model, device=device, dtype=dtype)
        elif work:
            runner_model = load_model(spec, api_base=api_base, api_model=api_model, device=device, dtype=dtype) \
                if isinstance(model, str) else model
            runner = TaskRunner(runner_model, suite, config)
            try:
                for task, samples in work:
                    write(runner.run_task(task, samples))
            finally:
                runner.close()
    summary = build_summary(store.records, config, meta)
    wall = time.perf_counter() - reporter.started
    summary["throughput"].update(this_run_samples=reporter.samples, this_run_wall_seconds=round(wall, 3),
                                 this_run_samples_per_s=round(reporter.samples / wall, 3) if wall > 0 else None)
    atomic_write_json(out / "summary.json", summary)
    return summary


class Progress:
    """A rich progress bar: tasks done, samples per second, running accuracy (score)."""

    def __init__(self, total: int, done: int, records: Sequence[Mapping[str, Any]], enabled: bool = True):
        self.enabled = enabled
        self.total, self.done = total, done
        self.samples = 0
        self.score_sum = sum(float(r["score"]) for r in records)
        self.scored = len(records)
        self.started = time.perf_counter()
        self._bar = None

    def __enter__(self) -> "Progress":
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn
            self._bar = Bar(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TextColumn("tasks"),
                            TextColumn("{task.fields[rate]:.1f} samples/s"), TextColumn("acc {task.fields[acc]:.3f}"),
                            TimeElapsedColumn())
            self._bar.__enter__()
            self._id = self._bar.add_task("eval", total=self.total, completed=self.done, rate=0.0, acc=self._acc())
        return self

    def _acc(self) -> float:
        return self.score_sum / self.scored if self.scored else 0.0

    def update(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.done += 1
        self.samples += len(records)
        self.score_sum += sum(float(r["score"]) for r in records)
        self.scored += len(records)
        if self._bar is not None:
            rate = self.samples / max(time.perf_counter() - self.started, 1e-9)
            self._bar.update(self._id, completed=self.done, rate=rate, acc=self._acc())

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
