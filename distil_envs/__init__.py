"""distil-envs: Gymnasium environments that emit rich feedback.

Importing this package registers every `distil/...` id and does nothing heavier
(no torch, no datasets, no downloads).
"""

from distil_envs.core import FailingTest, Feedback, FeedbackKind, FeedbackLevel, Task
from distil_envs.env import FeedbackEnv, ProceduralEnv
from distil_envs.registration import describe, env_class, env_ids, make, register_envs
from distil_envs.spaces import Unicode

register_envs()

__all__ = [
    "FailingTest", "Feedback", "FeedbackEnv", "FeedbackKind", "FeedbackLevel", "ProceduralEnv", "Task",
    "Unicode", "describe", "env_class", "env_ids", "make", "register_envs",
]
__version__ = "0.1.0"
