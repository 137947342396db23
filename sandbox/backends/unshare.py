"""util-linux `unshare`: network, PID, IPC, UTS and mount namespaces, rlimits and a private temp dir.

Weaker than bwrap, for machines without it: inside its own mount namespace a small shell
prelude remounts every mount read-only, mounts a tmpfs as the private tmp and, when the
interpreter sits under a directory other users cannot enter (e.g. /root), covers that directory
with an empty tmpfs and binds only the interpreter back. Programs then see the host's other
files read-only. As root they run as the worker's own unprivileged uid (so they cannot undo the
mounts); as an ordinary user, as root of a user namespace mapped to the caller.
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


# $1 tmp dir, $2 interpreter prefix, $3 directory to cover ("" for none), then the server command.
PRELUDE = r"""
tmp="$1"; prefix="$2"; cover="$3"; shift 3
mount --make-rprivate /
if [ -n "$cover" ]; then
    mount -t tmpfs -o size=1m,mode=0755 tmpfs "$tmp"
    mkdir "$tmp/python" && mount --bind "$prefix" "$tmp/python"
    mount -t tmpfs -o mode=0755 tmpfs "$cover"
    mkdir -p "$prefix" && mount --bind "$tmp/python" "$prefix"
    umount -l "$tmp"
fi
for m in $(cut -d' ' -f5 /proc/self/mountinfo | sort -r); do
    mount -o remount,bind,ro "$m" 2>/dev/null || true
done
mount -t tmpfs -o size=256m,mode=0711 tmpfs "$tmp"
exec "$@"
"""


def first_closed_dir(path: str) -> str:
    """The outermost directory on the way to `path` that other users cannot enter ("" if none)."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        d = os.sep.join(parts[:i])
        if not os.stat(d).st_mode & 0o001:
            return d
    return ""


def unshare_argv(worker_id: int, tmp: str) -> list[str]:
    root = os.geteuid() == 0
    extra: dict = {}
    if root:
        uid = program_uid(worker_id)
        extra = {"child_uid": uid, "child_gid": uid}
    config = Backend.server_config(sweep="pidns", tmp=tmp, **extra)
    user = [] if root else ["--user", "--map-root-user"]
    cover = first_closed_dir(python_prefix()) if root else ""
    return ["unshare", *user, "--net", "--pid", "--ipc", "--uts", "--mount", "--fork", "--mount-proc",
            "--kill-child", "--", "/bin/sh", "-c", PRELUDE, "sh", tmp, python_prefix(), cover,
            python_executable(), "-s", "-S", "-c", SERVER_SOURCE, config]


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
