"""Unbiased estimators over the n scored samples of one task: avg@k and pass@k.

Shared by the trainer's held-out evaluation (agents/trainer.py) and the leaderboard
(leaderboard/metrics.py, which adds maj@k, bootstrap CIs and the averaging over tasks).
Definitions (n samples of a task, c of them correct):

    avg@k  = E[mean score of k samples]      = mean score of all n samples (unbiased for k <= n)
    pass@k = P[at least one of k correct]    = 1 - C(n-c, k) / C(n, k)     (Chen et al., 2021)
           = 1 - prod_{i=n-c+1}^{n} (1 - k / i)   (the product form: no huge binomials)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: 1 - C(n-c, k) / C(n, k), in the numerically stable product form."""
    if not 0 <= c <= n:
        raise ValueError(f"c={c} correct samples must be between 0 and n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must be between 1 and the number of samples n={n}")
    if n - c < k:  # every k-subset holds a correct sample
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def avg_at_k(scores: Sequence[float], k: int) -> float:
    """Expected mean score of k samples drawn without replacement: the mean of all n."""
    if not 1 <= k <= len(scores):
        raise ValueError(f"k={k} must be between 1 and the number of samples n={len(scores)}")
    return float(np.mean(scores))
