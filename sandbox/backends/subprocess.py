"""No isolation but rlimits and a fresh process per program: refused unless `allow_unsafe=True`.

As root the programs still run under the worker's own uid (when the interpreter is readable by
other users), and every process of that uid is killed after each program. Otherwise only the
program's session is killed, and a program can read everything its user can.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from sandbox.backends.base import SERVER_SOURCE, Backend, SandboxUnavailableError, Server, program_uid, \
    python_executable, python_prefix
from sandbox.backends.unshare import readable_by_others


class SubprocessBackend(Backend):
    name = "subprocess"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None

    def start(self, worker_id: int) -> Server:
        tmp = tempfile.mkdtemp(prefix="distil-sandbox-")
        os.chmod(tmp, 0o711)
        extra: dict = {"sweep": "session"}
        if os.geteuid() == 0 and readable_by_others(python_prefix()):
            uid = program_uid(worker_id)
            extra = {"sweep": "uid", "child_uid": uid, "child_gid": uid}
        config = Backend.server_config(tmp=tmp, **extra)
        try:
            server = Server([python_executable(), "-s", "-S", "-c", SERVER_SOURCE, config])
        except (OSError, SandboxUnavailableError):
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        server.cleanup_dir = tmp
        return server
