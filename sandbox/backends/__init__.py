"""Sandbox backends, strongest first. Each module isolates the same fork server differently."""

from sandbox.backends.base import Backend, SandboxUnavailableError

ORDER = ("docker", "bwrap", "unshare", "subprocess")


def backend_class(name: str) -> type[Backend]:
    """The backend class called `name` (imported lazily: docker pulls an optional SDK)."""
    if name == "docker":
        from sandbox.backends.docker import DockerBackend
        return DockerBackend
    if name == "bwrap":
        from sandbox.backends.bwrap import BwrapBackend
        return BwrapBackend
    if name == "unshare":
        from sandbox.backends.unshare import UnshareBackend
        return UnshareBackend
    if name == "subprocess":
        from sandbox.backends.subprocess import SubprocessBackend
        return SubprocessBackend
    raise SandboxUnavailableError(f"unknown sandbox backend {name!r}; choose one of {', '.join(ORDER)}")


__all__ = ["ORDER", "Backend", "SandboxUnavailableError", "backend_class"]
