"""Named errors whose messages say what to do."""

from __future__ import annotations

import difflib


class DistilError(Exception):
    """Base class of every error this project raises on purpose."""


class UnknownEnvError(DistilError, KeyError):
    """An env id that is not registered; the message suggests the closest ids."""

    def __init__(self, env_id: str, known: list[str]):
        close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "; run `distil envs list` to see them"
        self.env_id = env_id
        super().__init__(f"no env {env_id!r}{hint}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class MissingDependencyError(DistilError, ImportError):
    """An optional dependency is not installed; the message names the extra."""

    def __init__(self, what: str, extra: str, package: str | None = None):
        package = package or extra
        super().__init__(
            f"{what} needs the optional dependency {package!r}; "
            f"install it with `pip install 'distil-envs[{extra}]'`"
        )


class DatasetUnavailableError(DistilError, RuntimeError):
    """A dataset-backed env could not load its data (no network, bad file)."""


class ResetNeeded(DistilError, RuntimeError):
    """`step()` was called before `reset()` or after the episode ended."""


class CheckerWarning(UserWarning):
    """A family's checker raised; the env turned it into reward-0 feedback.

    The test suite turns this warning into an error so checker bugs are found,
    while users' training runs never crash on one bad completion.
    """
