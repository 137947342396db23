"""One text space for the whole project.

`gymnasium.spaces.Text` with its defaults rejects "What is 2+2?" (punctuation and
spaces are not in its alphanumeric charset), non-ASCII and the empty string. Prompts,
completions and feedback are arbitrary Unicode, so `Unicode` accepts any `str` up to
`max_length` characters. It subclasses `Text` so Gymnasium's vector utilities batch it
(as a tuple of strings) without custom registration.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

# What `sample()` draws from: ASCII letters, digits, punctuation, whitespace and a few
# non-ASCII letters and symbols, so random actions exercise the Unicode paths.
_SAMPLE_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \n\t.,;:!?+-*/=()[]{}\\^_'\"<>|&%$#@~`"
    "éüßπλΩ∑√≤≥→你好😀"
)

DEFAULT_MAX_LENGTH = 1 << 20


class Unicode(spaces.Text):
    """Any Python `str` of at most `max_length` characters (empty allowed)."""

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH, seed: int | np.random.Generator | None = None):
        super().__init__(max_length=max_length, min_length=0, charset=_SAMPLE_CHARS, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        length = int(self.np_random.integers(0, min(self.max_length, 64) + 1))
        chars = self.np_random.choice(len(_SAMPLE_CHARS), size=length)
        return "".join(_SAMPLE_CHARS[i] for i in chars)

    def __repr__(self) -> str:
        return f"Unicode(max_length={self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Unicode) and other.max_length == self.max_length

    __hash__ = None  # type: ignore[assignment]
