"""util-linux `unshare`: network, PID, IPC, UTS and mount namespaces, rlimits and a private temp dir.

Weaker than bwrap: the programs see the host's file system (read-only only where the host's
permissions say so). As root they run as the worker's own uid when the interpreter is readable
by other users; otherwise they keep the caller's uid inside the namespaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from sandbox.backends.base import (SERVER_SOURCE, Backend, SandboxUnavailableError, Server, program_uid,
                                   python_executable, python_prefix)


def readable_by_others(path: str) -> bool:
    """Whether every directory on the way to `path` lets other users through."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        mode = os.stat(os.sep.join(parts[:i]) or "/").st_mode
        if not mode & 0o001:
            return False
    return True


def unshare_argv(worker_id: int, tmp: str) -> list[str]:
    root = os.geteuid() == 0
    extra: dict = {}
    if root and readable_by_others(python_prefix()):
        uid = program_uid(worker_id)
        extra = {"child_uid": uid, "child_gid": uid}
    config = Backend.server_config(sweep="pidns", tmp=tmp, **extra)
    user = [] if root else ["--user", "--map-root-user"]
    return ["unshare", *user, "--net", "--pid", "--ipc", "--uts", "--mount", "--fork", "--mount-proc",
            "--kill-child", "--", python_executable(), "-I", "-S", "-c", SERVER_SOURCE, config]


class UnshareBackend(Backend):
    name = "unshare"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if shutil.which("unshare") is None:
            return "util-linux unshare is not installed"
        probe = unshare_argv(0, "/tmp")
        probe = probe[: probe.index("--") + 1] + ["true"]
        try:
            done = subprocess.run(probe, capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare could not start: {exc}"
        if done.returncode != 0:
            return f"unshare cannot create namespaces here: {done.stderr.decode('utf-8', 'replace').strip()[-300:]}"
        return None

    def start(self, worker_id: int) -> Server:
        tmp = tempfile.mkdtemp(prefix="distil-sandbox-")
        os.chmod(tmp, 0o711)
        try:
            server = Server(unshare_argv(worker_id, tmp))
        except (OSError, SandboxUnavailableError):
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        server.cleanup_dir = tmp
        return server
