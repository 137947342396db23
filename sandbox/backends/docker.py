"""Docker: one long-lived container per worker, reset (fresh tmp dir, every process killed) between runs.

No network, read-only root, a tmpfs work dir, pids/memory/CPU limits, all capabilities dropped,
no-new-privileges, a non-root user. The fork server is the container's PID 1, so a program cannot
kill it, and it kills every other process in the container after each program.
The `docker` SDK is optional (`pip install distil-envs[docker]`) and imported only here.
"""

from __future__ import annotations

import json
import select
import struct
import time
from pathlib import Path
from typing import Any

from sandbox.backends.base import SERVER_SOURCE, START_TIMEOUT_S, Backend, SandboxUnavailableError
from sandbox.types import Limits

DEFAULT_IMAGE = "distil-sandbox:py3.11"
DOCKERFILE_DIR = Path(__file__).resolve().parent.parent  # holds sandbox/Dockerfile
SANDBOX_USER = "10001:10001"
TMPFS = "rw,nosuid,nodev,noexec,size=256m,mode=1777"


def container_kwargs(image: str, worker_id: int, limits: Limits = Limits(), *, cpus: float = 1.0) -> dict[str, Any]:
    """The arguments of `client.containers.run` for one worker (unit-tested without an engine)."""
    config = json.dumps({"python": "/usr/local/bin/python", "tmp": "/tmp", "sweep": "pidns"})
    return {
        "image": image,
        "command": ["python", "-s", "-S", "-c", SERVER_SOURCE, config],
        "detach": True,
        "stdin_open": True,
        "tty": False,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": TMPFS},
        "user": SANDBOX_USER,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": limits.processes + 8,  # + the server and its bookkeeping
        "mem_limit": limits.memory_bytes + (64 << 20),
        "memswap_limit": limits.memory_bytes + (64 << 20),
        "nano_cpus": int(cpus * 1e9),
        "environment": {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "PYTHONHASHSEED": "0"},
        "working_dir": "/tmp",
        "hostname": "sandbox",
        "labels": {"distil-sandbox": "1", "distil-sandbox.worker": str(worker_id)},
        "auto_remove": False,
    }


class DockerServer:
    """The same request/answer channel as `Server`, over the container's attached stdin/stdout."""

    cleanup_dir = None

    def __init__(self, client: Any, kwargs: dict[str, Any]):
        self.container = client.containers.run(**kwargs)
        self._sock = self.container.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1, "logs": 1})
        self._raw = getattr(self._sock, "_sock", self._sock)
        self._pending = b""  # demultiplexed stdout bytes
        self._frame = b""  # raw bytes from the socket (8-byte headers + payloads)
        hello = self._recv(time.monotonic() + START_TIMEOUT_S)
        if not hello or not hello.get("ready"):
            self.close()
            raise SandboxUnavailableError("the docker sandbox server did not start")

    def _fill(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self._raw], [], [], left)[0]:
            return False
        chunk = self._raw.recv(65536)
        if not chunk:
            return False
        self._frame += chunk
        while len(self._frame) >= 8:
            stream, size = self._frame[0], struct.unpack(">I", self._frame[4:8])[0]
            if len(self._frame) < 8 + size:
                break
            if stream == 1:
                self._pending += self._frame[8:8 + size]
            self._frame = self._frame[8 + size:]
        return True

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        while len(self._pending) < n:
            if not self._fill(deadline):
                return None
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        head = self._read_exact(4, deadline)
        body = None if head is None else self._read_exact(struct.unpack(">I", head)[0], deadline)
        return None if body is None else json.loads(body)

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        data = json.dumps(req).encode()
        try:
            self._raw.sendall(struct.pack(">I", len(data)) + data)
        except OSError:
            return None
        return self._recv(time.monotonic() + timeout)

    def alive(self) -> bool:
        try:
            self.container.reload()
        except Exception:  # noqa: BLE001 - any engine error means the worker is gone
            return False
        return self.container.status == "running"

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.container.logs(stdout=False, stderr=True).decode("utf-8", "replace")[-n:].strip()
        except Exception:  # noqa: BLE001
            return ""

    def close(self) -> None:
        try:
            self._sock.close()
        except Exception:  # noqa: BLE001
            pass
        try:
            self.container.remove(force=True)
        except Exception:  # noqa: BLE001
            pass


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, image: str = DEFAULT_IMAGE, limits: Limits = Limits(), cpus: float = 1.0):
        self.image, self.limits, self.cpus = image, limits, cpus
        self._client = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import docker
        except ImportError:
            return "the docker SDK is not installed (pip install 'distil-envs[docker]')"
        try:
            docker.from_env(timeout=5).ping()
        except Exception as exc:  # noqa: BLE001 - the SDK raises many kinds when no engine answers
            return f"no Docker engine answers ({type(exc).__name__})"
        return None

    def client(self):
        if self._client is None:
            import docker
            self._client = docker.from_env()
        return self._client

    def ensure_image(self) -> None:
        import docker
        try:
            self.client().images.get(self.image)
        except docker.errors.ImageNotFound:
            if self.image != DEFAULT_IMAGE:
                raise SandboxUnavailableError(f"docker image {self.image!r} not found; pull or build it") from None
            self.client().images.build(path=str(DOCKERFILE_DIR), tag=self.image, rm=True)

    def start(self, worker_id: int) -> DockerServer:
        self.ensure_image()
        return DockerServer(self.client(), container_kwargs(self.image, worker_id, self.limits, cpus=self.cpus))
