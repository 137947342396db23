"""`SandboxPool`: many programs at once, one warm sandbox worker per thread, results in input order."""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sandbox.core import Sandbox
from sandbox.types import ExecutionResult, Limits, TestCase, TestReport

T = TypeVar("T")


class SandboxPool:
    """`workers` Sandboxes (each its own isolated worker and uid) shared by a thread pool.

    Threads only wait on pipes; the programs run in the sandboxes. Use as a context manager,
    or call `close()`.
    """

    def __init__(self, workers: int = 4, *, backend: str | None = None, allow_unsafe: bool = False,
                 warm: bool | None = None, progress: bool = False):
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"SandboxPool(workers={workers!r}): workers must be a positive int")
        self.workers = workers
        self.progress = progress
        self._sandboxes = [Sandbox(backend, allow_unsafe=allow_unsafe, warm=warm) for _ in range(workers)]
        self._free: queue.Queue[Sandbox] = queue.Queue()
        for box in self._sandboxes:
            self._free.put(box)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox")

    @property
    def name(self) -> str:
        return self._sandboxes[0].name

    @property
    def backend(self) -> str:
        return self._sandboxes[0].name

    def _with_sandbox(self, fn: Callable[[Sandbox], T]) -> T:
        box = self._free.get()
        try:
            return fn(box)
        finally:
            self._free.put(box)

    def _map(self, jobs: Sequence[Callable[[Sandbox], T]], desc: str) -> list[T]:
        futures = [self._executor.submit(self._with_sandbox, job) for job in jobs]
        bar = _progress_bar(len(futures), desc) if self.progress else None
        out = []
        for fut in futures:
            out.append(fut.result())
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return out

    def run(self, code: str, **kwargs: Any) -> ExecutionResult:
        """One program on a free worker (so a pool can stand in for a `Sandbox`)."""
        return self._with_sandbox(lambda box: box.run(code, **kwargs))

    def run_tests(self, solution: str, tests: Sequence[TestCase], limits: Limits = Limits(), **kwargs: Any) -> TestReport:
        """One solution's tests on a free worker."""
        return self._with_sandbox(lambda box: box.run_tests(solution, tests, limits, **kwargs))

    def map_run(self, codes: Iterable[str], *, stdins: Iterable[str] | None = None, limits: Limits = Limits(),
                files: dict[str, str] | None = None) -> list[ExecutionResult]:
        """Run every program of `codes` (with the matching stdin); results in input order."""
        codes = list(codes)
        stdins = [""] * len(codes) if stdins is None else list(stdins)
        if len(stdins) != len(codes):
            raise ValueError(f"map_run: {len(codes)} programs but {len(stdins)} stdins")
        jobs = [lambda box, c=c, s=s: box.run(c, stdin=s, files=files, limits=limits) for c, s in zip(codes, stdins)]
        return self._map(jobs, "sandbox runs")

    def map_tests(self, solutions: Iterable[str], tests: Iterable[Sequence[TestCase]], limits: Limits = Limits(), *,
                  stop_on_first_failure: bool = False) -> list[TestReport]:
        """Judge every solution against its own tests; reports in input order."""
        solutions, tests = list(solutions), list(tests)
        if len(solutions) != len(tests):
            raise ValueError(f"map_tests: {len(solutions)} solutions but {len(tests)} test lists")
        jobs = [lambda box, s=s, t=t: box.run_tests(s, t, limits, stop_on_first_failure=stop_on_first_failure)
                for s, t in zip(solutions, tests)]
        return self._map(jobs, "sandbox tests")

    def worker_cpu_s(self) -> float:
        """CPU seconds all workers (servers and programs) have used so far."""
        return sum(box.worker_cpu_s() for box in self._sandboxes)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for box in self._sandboxes:
            box.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _ProgressBar:
    """A one-line progress bar on stderr (standard library only: the sandbox imports nothing else)."""

    def __init__(self, total: int, desc: str, stream: Any = None):
        self.total, self.desc, self.done = total, desc, 0
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self._draw()

    def update(self, n: int) -> None:
        self.done += n
        self._draw()

    def _draw(self) -> None:
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        self.stream.write(f"\r{self.desc}: {self.done}/{self.total} ({rate:.1f}/s)")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _progress_bar(total: int, desc: str) -> _ProgressBar:
    return _ProgressBar(total, desc)
