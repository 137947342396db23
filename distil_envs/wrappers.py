"""Gymnasium wrappers.

`ExpertFeedback` turns each step's feedback into an expert's next-token targets on
the completion the agent sent, in `info["expert"]`: the same `TeacherTargets`
(batch of one) that the trainer gets from `Expert.targets`. The wrapper only calls the
expert's `step_targets`; it never imports torch or `agents`, so `distil_envs` stays
light and the dependency points one way (agents -> distil_envs).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from distil_envs.core import Feedback


class ExpertFeedback(gym.Wrapper):
    """Adds `info["expert"]` (a `TeacherTargets` for this step's completion) to every step.

    Arguments:
        env: a distil-envs `FeedbackEnv` (possibly wrapped).
        expert: an `agents.experts.Expert` (self-teacher, model teacher, oracle), or anything
            with its `step_targets(...)` method.
        tokenizer: the student's tokenizer; a plain-string action is tokenized with it
            (and EOS appended). Pass an `agents.types.Completion` as the action to keep
            the exact sampled token ids.

    The env itself sees the completion's text. Episodes with several attempts are
    scored attempt by attempt (the expert sees one rollout at a time, so no siblings).
    """

    def __init__(self, env: gym.Env, expert: Any, tokenizer: Any):
        super().__init__(env)
        if not hasattr(expert, "step_targets"):
            raise TypeError(f"expert must have step_targets(...) like agents.experts.Expert, "
                            f"got {type(expert).__name__}")
        self.expert, self.tokenizer = expert, tokenizer
        self._prompt = ""

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._prompt = obs
        return obs, info

    def step(self, action: Any):
        text = getattr(action, "text", action)  # an agents.types.Completion, or text
        task = self.env.unwrapped.task
        obs, reward, terminated, truncated, info = self.env.step(text)
        env_id = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
        info["expert"] = self.expert.step_targets(env_id=env_id, task=task, prompt=self._prompt, action=action,
                                                  feedback=Feedback.from_dict(info["feedback"]), reward=float(reward),
                                                  tokenizer=self.tokenizer)
        return obs, reward, terminated, truncated, info
