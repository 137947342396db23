"""Env steps per second for every registered procedural env, on one core.

One step here is `reset()` followed by `step(completion)`, through `distil_envs.make`
(so with Gymnasium's wrappers, as users run it), once with the reference completion
(scores 1) and once with the family's wrong completion (scores 0, so the diagnostic
path runs). Building the completion text is not timed: that is the policy's job.

Goals (issue 2): >= 2,000 steps/s for procedural arithmetic, >= 200 steps/s for
families that need math-verify or pint.

    python benchmarks/env_throughput.py                 # all procedural envs
    python benchmarks/env_throughput.py --seconds 0.5 --envs distil/math-arithmetic-v0

Writes benchmarks/results/env_throughput.json (atomically).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import distil_envs  # noqa: E402
from distil_envs.files import atomic_write_json  # noqa: E402

GOALS = {"distil/math-arithmetic-v0": 2000.0}
DEFAULT_GOAL = 200.0  # families that need math-verify or pint


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity on this platform)"


def measure(env_id: str, seconds: float, min_steps: int = 30, **kwargs) -> dict:
    """Steps per second with the reference and with the wrong completion."""
    env = distil_envs.make(env_id, **kwargs)
    inner = env.unwrapped
    result: dict = {"status": "ok"}
    for mode in ("reference", "wrong"):
        # warm up: imports, caches, first math-verify/pint use are not the steady state
        for seed in range(3):
            env.reset(seed=seed)
            completion = inner.reference_completion(inner.task) if mode == "reference" else inner.wrong_completion(inner.task)
            env.step(completion)
        timed, steps, rewards = 0.0, 0, 0.0
        seed = 1000 if mode == "reference" else 1_000_000  # fresh tasks in each mode (no cache hits)
        while timed < seconds or steps < min_steps:
            start = time.perf_counter()
            env.reset(seed=seed)
            timed += time.perf_counter() - start
            task = inner.task
            completion = inner.reference_completion(task) if mode == "reference" else inner.wrong_completion(task)
            start = time.perf_counter()
            _, reward, _, _, _ = env.step(completion)
            timed += time.perf_counter() - start
            steps, rewards, seed = steps + 1, rewards + reward, seed + 1
            if steps >= 200_000:
                break
        result[f"{mode}_steps_per_s"] = round(steps / timed, 1)
        result[f"{mode}_mean_reward"] = round(rewards / steps, 3)
        result[f"{mode}_steps"] = steps
    both = 2 / (1 / result["reference_steps_per_s"] + 1 / result["wrong_steps_per_s"])
    result["steps_per_s"] = round(both, 1)
    # the issue sets goals for math and science; code envs run a sandbox per step and have none
    goal = GOALS.get(env_id, DEFAULT_GOAL if inner.domain in ("math", "science") else None)
    result["goal_steps_per_s"] = goal
    result["meets_goal"] = None if goal is None else both >= goal
    env.close()
    return result


CHECK_CASES = {  # (gold, completion): which path of distil_envs.math.checking each one takes
    "exact fast path (integer)": ("1620", "so the total is \\boxed{1,620}"),
    "exact fast path (fraction vs decimal)": ("3/4", "\\boxed{0.75}"),
    "math-verify, equal in another form": ("3\\sqrt{2}", "\\boxed{\\sqrt{18}}"),
    "math-verify, equal polynomial": ("x^2 + 2x + 1", "\\boxed{(x+1)^2}"),
    "math-verify, wrong number": ("3\\sqrt{2}", "\\boxed{4\\sqrt{2}}"),
}


def measure_checking(seconds: float) -> dict:
    """`check_math_answer` calls per second on each path (no env around it)."""
    from distil_envs.math.checking import check_math_answer

    rates = {}
    for name, (gold, completion) in CHECK_CASES.items():
        check_math_answer(gold, completion)  # warm: imports and the cached gold parse
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 4 or calls < 10:
            check_math_answer(gold, completion)
            calls += 1
        rates[name] = round(calls / (time.perf_counter() - start), 1)
    return rates


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per env and mode")
    parser.add_argument("--envs", nargs="*", help="env ids (default: every procedural env)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "env_throughput.json")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    pinning = pin_to_one_core()
    warnings.simplefilter("ignore")  # math-verify warns once about disabled timeouts in threads

    results: dict[str, dict] = {}
    for env_id in args.envs or distil_envs.env_ids():
        try:
            cls = distil_envs.env_class(env_id)
        except Exception as error:  # another suite's module may not exist yet
            results[env_id] = {"status": "unavailable", "error": f"{type(error).__name__}: {error}"}
            continue
        if cls.source != "procedural":
            continue
        try:
            results[env_id] = measure(env_id, args.seconds)
        except Exception as error:
            results[env_id] = {"status": "unavailable", "error": f"{type(error).__name__}: {error}"}

    # The math-verify path: MATH-500's symbolic answers, on the rows the tests ship (no Hub).
    symbolic = ROOT / "tests" / "data" / "distil__math-math500-v0.jsonl"
    if not args.envs and symbolic.is_file():
        try:
            results["distil/math-math500-v0 (local rows, math-verify)"] = measure(
                "distil/math-math500-v0", args.seconds, path=str(symbolic))
        except Exception as error:
            results["distil/math-math500-v0 (local rows, math-verify)"] = {
                "status": "unavailable", "error": f"{type(error).__name__}: {error}"}

    checking = measure_checking(args.seconds)

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"env steps/s (reset + step), one core: {pinning}")
    for column in ("env", "reference", "wrong", "combined", "goal", ""):
        table.add_column(column, justify="left" if column in ("env", "") else "right")
    for env_id, row in results.items():
        if row["status"] != "ok":
            table.add_row(env_id, "-", "-", "-", "-", f"unavailable: {row['error'][:60]}")
            continue
        goal, meets = row["goal_steps_per_s"], row["meets_goal"]
        table.add_row(env_id, f"{row['reference_steps_per_s']:,.0f}", f"{row['wrong_steps_per_s']:,.0f}",
                      f"{row['steps_per_s']:,.0f}", "-" if goal is None else f"{goal:,.0f}",
                      "no goal" if meets is None else ("ok" if meets else "BELOW GOAL"))
    Console().print(table)
    checks = Table(title="check_math_answer calls/s by path, one core")
    checks.add_column("path")
    checks.add_column("calls/s", justify="right")
    for name, rate in checking.items():
        checks.add_row(name, f"{rate:,.0f}")
    Console().print(checks)

    report = {
        "benchmark": "env_throughput",
        "unit": "steps per second; one step = reset() + step(completion) through distil_envs.make",
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "pinning": pinning,
        "seconds_per_mode": args.seconds,
        "created_unix": int(time.time()),
        "envs": results,
        "check_math_answer_calls_per_s": checking,
    }
    atomic_write_json(args.output, report, sort_keys=True)
    print(f"wrote {args.output}")
    return report


if __name__ == "__main__":
    main()
