"""Seeds derived from (seed, index) pairs.

`seed + index` makes seed 0 item 1 equal seed 1 item 0: two "different" seeds give
shifted copies of one stream. Hashing the pair through `SeedSequence` does not.
"""

from __future__ import annotations

import numpy as np


def task_seed(seed: int, index: int) -> int:
    """A 63-bit seed for task `index` of the stream started by `seed`."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, int(index) & 0xFFFFFFFFFFFFFFFF]).generate_state(2)
    return int((int(state[0]) << 31) ^ int(state[1])) & 0x7FFFFFFFFFFFFFFF


def task_rng(seed: int, index: int) -> np.random.Generator:
    """An independent generator for task `index` of the stream started by `seed`."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, int(index) & 0xFFFFFFFFFFFFFFFF]))
