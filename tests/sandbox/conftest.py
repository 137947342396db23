"""Sandbox test fixtures: one shared sandbox per module, and the docker marker's skip."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from sandbox.core import unavailable_reason


@pytest.fixture(autouse=True)
def _docker_engine(request):
    """Tests marked `docker` need a running engine; they skip, saying so, when none answers."""
    if request.node.get_closest_marker("docker") is not None:
        reason = unavailable_reason("docker")
        if reason is not None:
            pytest.skip(f"docker tests need a Docker engine: {reason}")


@pytest.fixture(scope="module")
def box():
    """The default (strongest available) backend, as users get it."""
    with Sandbox.auto() as sb:
        yield sb

