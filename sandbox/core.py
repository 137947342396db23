"""`Sandbox`: one worker (one warm fork server inside the strongest backend that works here)."""

from __future__ import annotations

import dataclasses
import os
import threading
import warnings
from collections.abc import Sequence

from sandbox.backends import ORDER, SandboxUnavailableError, backend_class
from sandbox.backends.base import HOST_GRACE_S, Backend, Server, next_worker_id, request_for, result_from
from sandbox.types import ExecutionResult, Limits, TestCase, TestReport

ENV_BACKEND = "DISTIL_SANDBOX"
ENV_WARM = "DISTIL_SANDBOX_WARM"
LANGUAGES = ("python",)
_checked: dict[str, str | None] = {}
_checked_lock = threading.Lock()


def unavailable_reason(name: str) -> str | None:
    """Why backend `name` cannot run here (None when it can); probed once per process."""
    with _checked_lock:
        if name not in _checked:
            _checked[name] = backend_class(name).unavailable_reason()
        return _checked[name]


def choose_backend(backend: str | None = None, *, allow_unsafe: bool = False) -> str:
    """The backend to use: `backend`, else $DISTIL_SANDBOX, else the strongest that works here."""
    forced = backend or os.environ.get(ENV_BACKEND) or None
    if forced and forced != "auto":
        if forced not in ORDER:
            raise SandboxUnavailableError(f"{ENV_BACKEND}/backend={forced!r} is not a backend; choose one of "
                                          f"{', '.join(ORDER)}")
        if forced == "subprocess" and not allow_unsafe:
            raise SandboxUnavailableError("the subprocess backend does not isolate anything; pass "
                                          "allow_unsafe=True to use it anyway")
        reason = unavailable_reason(forced)
        if reason:
            raise SandboxUnavailableError(f"sandbox backend {forced!r} cannot work here: {reason}")
        return forced
    reasons = []
    for name in ORDER[:-1]:
        reason = unavailable_reason(name)
        if reason is None:
            return name
        reasons.append(f"{name}: {reason}")
    if allow_unsafe:
        return "subprocess"
    raise SandboxUnavailableError("no isolating sandbox backend works here (" + "; ".join(reasons) + "). Install "
                                  "bubblewrap or Docker, or pass allow_unsafe=True to run without isolation.")


class Sandbox:
    """Runs untrusted programs in one isolated worker; thread-safe (requests are serialised).

    Arguments:
        backend: "docker" | "bwrap" | "unshare" | "subprocess" | "auto" (default: $DISTIL_SANDBOX or auto).
        allow_unsafe: permit the subprocess backend (no isolation; warns).
        warm: run each program in a forked child of a warm interpreter (fast); False starts a
            fresh interpreter per program. Default: $DISTIL_SANDBOX_WARM (1) .
    """

    def __init__(self, backend: str | None = None, *, allow_unsafe: bool = False, warm: bool | None = None,
                 **backend_options):
        self.backend_name = choose_backend(backend, allow_unsafe=allow_unsafe)
        if self.backend_name == "subprocess":
            warnings.warn("sandbox: the 'subprocess' backend runs untrusted code WITHOUT isolation (rlimits "
                          "only); use it only for code you trust", RuntimeWarning, stacklevel=2)
        if warm is None:
            warm = os.environ.get(ENV_WARM, "1") not in ("0", "false", "no")
        self.warm = warm
        self.backend: Backend = backend_class(self.backend_name)(**backend_options)
        self.worker_id = next_worker_id()
        self._server: Server | None = None
        self._lock = threading.Lock()

    @classmethod
    def auto(cls, allow_unsafe: bool = False, **kwargs) -> Sandbox:
        """The strongest backend that works here (docker > bwrap > unshare > subprocess if allowed)."""
        return cls(None, allow_unsafe=allow_unsafe, **kwargs)

    @property
    def name(self) -> str:
        return self.backend_name + ("" if self.warm else "-fresh")

    def run(self, code: str, *, stdin: str = "", files: dict[str, str] | None = None, limits: Limits = Limits(),
            language: str = "python", trusted: bool = False) -> ExecutionResult:
        """Run one program in a fresh child process; never raises for anything the program does.

        `trusted=True` is for the project's own programs (the test driver): the warm server may
        compile them once and keep the code object, since compiling is the only thing it does
        with them outside the limited child. Untrusted code is always compiled in the child.
        """
        if language not in LANGUAGES:
            raise ValueError(f"language={language!r} is not supported; choose one of {LANGUAGES}")
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, got {type(code).__name__}")
        req = request_for(code, stdin or "", files, limits, "fork" if self.warm else "exec")
        req["cache_code"] = bool(trusted)
        with self._lock:
            server = self._ensure_server()
            group = getattr(server, "cgroup", None)
            ooms = group.oom_kills() if group is not None else 0
            answer = server.request(req, timeout=limits.wall_s + HOST_GRACE_S)
            if answer is None:
                why = server.log_tail()
                self._drop_server()  # the next program gets a fresh worker
                return result_from(None, self.name, why or "the sandbox worker died or hung during the program")
            result = result_from(answer, self.name)
            if group is not None and group.oom_kills() > ooms:
                result = dataclasses.replace(result, memory_exceeded=True)
            return result

    def run_tests(self, solution: str, tests: Sequence[TestCase], limits: Limits = Limits(), *,
                  stop_on_first_failure: bool = False) -> TestReport:
        """All `tests` of `solution` in one sandboxed program; see `sandbox.harness`."""
        from sandbox.harness import run_tests
        return run_tests(solution, tests, limits, sandbox=self, stop_on_first_failure=stop_on_first_failure)

    def worker_cpu_s(self) -> float:
        """CPU seconds the current worker (its server and all programs it ran) has used; 0 if none."""
        with self._lock:
            if self._server is None or not self._server.alive():
                return 0.0
            answer = self._server.request({"stats": True}, timeout=HOST_GRACE_S)
            return float(answer["cpu_s"]) if answer and "cpu_s" in answer else 0.0

    def _ensure_server(self) -> Server:
        if self._server is None or not self._server.alive():
            self._drop_server()
            self._server = self.backend.start(self.worker_id)
        return self._server

    def _drop_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def close(self) -> None:
        with self._lock:
            self._drop_server()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._drop_server()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"Sandbox(backend={self.backend_name!r}, warm={self.warm}, worker={self.worker_id})"
