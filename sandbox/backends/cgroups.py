"""Per-worker cgroup memory and pids limits, where the cgroup file system is writable (else skipped).

A worker's whole sandbox (bwrap, its fork server, every program) joins one new cgroup made
under the caller's own: a memory cap (which also counts tmpfs pages, unlike RLIMIT_AS) and a
process cap. Works with cgroup v2 (`memory.max`, `pids.max`) and v1 (`memory.limit_in_bytes`,
`pids.max` in separate hierarchies). Nothing here is required: rlimits still hold without it.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_cgroups() -> dict[str, str]:
    """controller ("" for v2) -> this process's cgroup path."""
    out = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                out[c] = path
    except (OSError, ValueError):
        pass
    return out


class WorkerCgroup:
    """The cgroup(s) of one worker; `procs_files` are written by the starting child (see `join`)."""

    def __init__(self, name: str, memory_bytes: int, pids: int):
        self.dirs: list[Path] = []
        self.procs_files: list[str] = []
        self.memory_events: Path | None = None
        own = _own_cgroups()
        if (ROOT / "cgroup.controllers").exists():  # v2
            self._make(ROOT / own.get("", "/").lstrip("/") / name,
                       {"memory.max": memory_bytes, "memory.swap.max": 0, "pids.max": pids}, "memory.events")
        else:
            self._make(ROOT / "memory" / own.get("memory", "/").lstrip("/") / name,
                       {"memory.limit_in_bytes": memory_bytes}, "memory.oom_control")
            self._make(ROOT / "pids" / own.get("pids", "/").lstrip("/") / name, {"pids.max": pids}, None)

    def _make(self, path: Path, settings: dict[str, int], events: str | None) -> None:
        try:
            path.mkdir()
        except OSError:
            return
        try:
            for key, value in settings.items():
                if (path / key).exists():
                    (path / key).write_text(str(value))
        except OSError:
            self._rmdir(path)
            return
        self.dirs.append(path)
        self.procs_files.append(str(path / "cgroup.procs"))
        if events and (path / events).exists():
            self.memory_events = path / events

    @property
    def active(self) -> bool:
        return bool(self.dirs)

    def join(self) -> None:
        """Called in the forked child before exec: move itself in (os calls only, no locks)."""
        for procs in self.procs_files:
            try:
                fd = os.open(procs, os.O_WRONLY)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
            except OSError:
                pass

    def oom_kills(self) -> int:
        """How many programs the kernel killed for the memory cap so far."""
        if self.memory_events is None:
            return 0
        try:
            for line in self.memory_events.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    @staticmethod
    def _rmdir(path: Path) -> None:
        try:
            path.rmdir()
        except OSError:
            pass

    def remove(self) -> None:
        for path in self.dirs:
            self._rmdir(path)
        self.dirs = []
