"""Bubblewrap: PID, network, IPC, UTS and mount namespaces around a read-only view of the interpreter.

As root, bwrap runs without a user namespace (one created by root maps the sandbox user back to
host root, and this kernel then does not enforce RLIMIT_NPROC); the server keeps only the
capabilities it needs to switch users and kill, and every program runs as the worker's own
unprivileged uid. As an ordinary user, bwrap adds a user namespace and a per-worker uid inside it.
Mounts are nosuid and `no_new_privs` is set, so nothing can gain privileges back.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from sandbox.backends.base import (SERVER_SOURCE, Backend, SandboxUnavailableError, Server, python_executable,
                                   python_prefix, program_uid)
from sandbox.backends.cgroups import WorkerCgroup

TMP_BYTES = 256 << 20
# The per-worker cgroup is a backstop over everything in the sandbox (server, program, tmpfs
# pages); each program's own limits are its rlimits.
CGROUP_MEMORY_BYTES = (2 << 30) + TMP_BYTES
CGROUP_PIDS = 512
# Just enough of /etc for the dynamic loader, time zones and user names.
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")
SERVER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


def _root_fs_args() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    prefix = python_prefix()
    if not prefix.startswith("/usr/"):
        parts = prefix.strip("/").split("/")
        for i in range(1, len(parts)):  # parents readable by the program user (bwrap makes them 0700)
            args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
        args += ["--ro-bind", prefix, prefix]
    return args


def bwrap_argv(worker_id: int, *, privileged: bool | None = None) -> tuple[list[str], str]:
    """The bwrap command line for one worker's server, and the server config it gets."""
    privileged = os.geteuid() == 0 if privileged is None else privileged
    uid = program_uid(worker_id)
    if privileged:
        ns = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
              "--cap-drop", "ALL"]
        for cap in SERVER_CAPS:
            ns += ["--cap-add", cap]
        config = Backend.server_config(sweep="pidns", child_uid=uid, child_gid=uid)
    else:
        inner = 1000 + worker_id % 60000
        ns = ["--unshare-all", "--uid", str(inner), "--gid", str(inner)]
        config = Backend.server_config(sweep="pidns")
    argv = ["bwrap", *ns, "--die-with-parent", "--new-session", "--hostname", "sandbox",
            *_root_fs_args(), "--proc", "/proc", "--dev", "/dev",
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--chdir", "/tmp",
            "--", python_executable(), "-s", "-S", "-c", SERVER_SOURCE, config]
    return argv, config


class BwrapBackend(Backend):
    name = "bwrap"

    def __init__(self, cgroups: bool = True):
        self.cgroups = cgroups

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if shutil.which("bwrap") is None:
            return "bubblewrap is not installed (apt-get install bubblewrap)"
        argv, _ = bwrap_argv(0)
        probe = argv[: argv.index("--") + 1] + [python_executable(), "-s", "-S", "-c", "pass"]
        try:
            done = subprocess.run(probe, capture_output=True, timeout=20, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap could not start: {exc}"
        if done.returncode != 0:
            msg = done.stderr.decode("utf-8", "replace").strip()[-300:]
            return f"bwrap cannot create namespaces here ({msg}); use docker, or unshare as root"
        return None

    def start(self, worker_id: int) -> Server:
        argv, _ = bwrap_argv(worker_id)
        group = WorkerCgroup(f"distil-sandbox-{os.getpid()}-{worker_id}", CGROUP_MEMORY_BYTES, CGROUP_PIDS) \
            if self.cgroups else None
        if group is not None and not group.active:
            group = None  # not writable here: rlimits alone
        try:
            server = Server(argv, preexec_fn=group.join if group else None)
        except (OSError, SandboxUnavailableError) as exc:
            if group is not None:
                group.remove()
            if isinstance(exc, SandboxUnavailableError):
                raise
            raise SandboxUnavailableError(f"bwrap could not start: {exc}") from exc
        server.cgroup = group
        return server
