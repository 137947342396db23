"""What every backend shares: a framed channel to the fork server running inside the sandbox.

A backend only decides *how* the server process is isolated (the command line that starts
it). The server (`sandbox/_server.py`) is the same everywhere: it forks one child per program,
limits it, kills its whole tree at the deadline and sweeps the sandbox clean afterwards.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sandbox.types import ExecutionResult, Limits

SERVER_SOURCE = (Path(__file__).resolve().parent.parent / "_server.py").read_text(encoding="utf-8")
# The fork server's whole environment. Servers start with `-s -S` (no site packages) rather
# than -I, whose implied -E would ignore the fixed hash seed: with it, set iteration order is
# the same in every worker and every run, so results do not depend on which worker ran them.
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
# Outer uids for programs (when we are root): one per worker, far from real accounts.
UID_BASE = 61000
START_TIMEOUT_S = 20.0
# Slack the host adds to a program's wall limit before it declares the worker hung.
HOST_GRACE_S = 5.0


class SandboxUnavailableError(RuntimeError):
    """The requested backend cannot run on this machine; the message says why and what to do."""


def python_prefix() -> str:
    """The interpreter installation the sandbox binds read-only (not a venv: programs get the stdlib)."""
    return os.path.realpath(sys.base_prefix)


def python_executable() -> str:
    """The base interpreter of the current venv, as a real path inside `python_prefix()`."""
    prefix = python_prefix()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for name in (version, "python3", "python"):
        path = os.path.join(prefix, "bin", name)
        if os.access(path, os.X_OK):
            return path
    return os.path.realpath(sys.executable)


_worker_lock = threading.Lock()
_next_worker = 0


def next_worker_id() -> int:
    """A process-wide unique worker number (it picks the worker's uid)."""
    global _next_worker
    with _worker_lock:
        _next_worker += 1
        return _next_worker


def program_uid(worker_id: int) -> int:
    """A uid for the programs of one worker, distinct per worker and (mostly) per host process."""
    return UID_BASE + (os.getpid() % 512) * 64 + worker_id % 64


class Server:
    """A started fork server: send a request, get the answer, with a host-side deadline."""

    cleanup_dir: str | None = None  # a host temp dir the backend made for this server
    cgroup: Any = None  # a WorkerCgroup when the backend put the worker in one

    def __init__(self, argv: list[str], *, pass_fds: tuple[int, ...] = (), preexec_fn=None):
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                     env=dict(CLEAN_ENV), cwd="/", close_fds=True, pass_fds=pass_fds,
                                     start_new_session=True, preexec_fn=preexec_fn)
        self._buf = b""
        hello = self._recv(time.monotonic() + START_TIMEOUT_S)
        if not hello or not hello.get("ready"):
            self.close()
            raise SandboxUnavailableError(f"the sandbox server did not start: {self.log_tail() or 'no output'}")

    def log_tail(self, n: int = 2000) -> str:
        try:
            self._log.seek(0)
            return self._log.read().decode("utf-8", "replace")[-n:].strip()
        except (OSError, ValueError):
            return ""

    def _send(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        self.proc.stdin.write(struct.pack(">I", len(data)) + data)
        self.proc.stdin.flush()

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        fd = self.proc.stdout.fileno()
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, max(65536, n - len(self._buf)))
            if not chunk:
                return None
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        head = self._read_exact(4, deadline)
        if head is None:
            return None
        body = self._read_exact(struct.unpack(">I", head)[0], deadline)
        return None if body is None else json.loads(body)

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The server's answer, or None when it died or hung (the caller restarts it)."""
        try:
            self._send(req)
        except (BrokenPipeError, OSError, ValueError):
            return None
        return self._recv(time.monotonic() + timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """End of input stops the server; whatever is left after a moment is killed."""
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._log.close()
        if self.cgroup is not None:
            for _ in range(50):  # the sandbox's processes may take a moment to exit
                self.cgroup.remove()
                if not self.cgroup.dirs:
                    break
                time.sleep(0.01)
        if self.cleanup_dir:
            shutil.rmtree(self.cleanup_dir, ignore_errors=True)


class Backend:
    """How one worker's server is isolated. Subclasses set `name` and implement two methods."""

    name = "base"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when this backend works here, else a sentence saying why not and what to do."""
        raise NotImplementedError

    def start(self, worker_id: int) -> Server:
        """Start the fork server of worker `worker_id`."""
        raise NotImplementedError

    @staticmethod
    def server_config(**extra: Any) -> str:
        return json.dumps({"python": python_executable(), "tmp": "/tmp", **extra})


def request_for(code: str, stdin: str, files: dict[str, str] | None, limits: Limits, mode: str) -> dict[str, Any]:
    return {"code": code, "stdin": stdin, "files": dict(files or {}), "limits": asdict(limits), "mode": mode,
            "filename": "main.py"}


def result_from(answer: dict[str, Any] | None, backend: str, why_failed: str = "") -> ExecutionResult:
    if answer is None or "error" in answer:
        reason = (answer or {}).get("error") or why_failed or "the sandbox worker died or hung"
        return ExecutionResult(exit_code=None, stdout="", stderr=f"sandbox error: {reason}", backend=backend)
    return ExecutionResult(exit_code=answer["exit_code"], stdout=answer["stdout"], stderr=answer["stderr"],
                           timed_out=answer["timed_out"], memory_exceeded=answer["memory_exceeded"],
                           output_truncated=answer["output_truncated"], wall_s=answer["wall_s"],
                           cpu_s=answer["cpu_s"], backend=backend)
