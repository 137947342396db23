"""Gymnasium wrappers.

`ExpertFeedback` turns each step's feedback into an expert's next-token targets on
the completion the agent sent, in `info["expert"]`: the same `TeacherTargets`
(batch of one) that the trainer gets from `Expert.targets`. torch and `agents` are
imported only when a step is taken, so `import distil_envs` stays light.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from distil_envs.core import Feedback


class ExpertFeedback(gym.Wrapper):
    """Adds `info["expert"]` (a `TeacherTargets` for this step's completion) to every step.

    Arguments:
        env: a distil-envs `FeedbackEnv` (possibly wrapped).
        expert: an `agents.experts.Expert` (self-teacher, model teacher, oracle).
        tokenizer: the student's tokenizer; a plain-string action is tokenized with it
            (and EOS appended). Pass an `agents.types.Completion` as the action to keep
            the exact sampled token ids.

    The env itself sees the completion's text. Episodes with several attempts are
    scored attempt by attempt (the expert sees one rollout at a time, so no siblings).
    """

    def __init__(self, env: gym.Env, expert: Any, tokenizer: Any):
        super().__init__(env)
        if not hasattr(expert, "targets"):
            raise TypeError(f"expert must have targets(rollouts), got {type(expert).__name__}")
        self.expert, self.tokenizer = expert, tokenizer
        self._prompt = ""

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._prompt = obs
        return obs, info

    def step(self, action: Any):
        from agents.types import Completion, Rollout  # lazy: imports torch

        if isinstance(action, Completion):
            completion = action
        else:
            text = action if isinstance(action, str) else str(action)
            ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            if self.tokenizer.eos_token_id is not None:
                ids.append(int(self.tokenizer.eos_token_id))
            completion = Completion(text=text, token_ids=ids, logprobs=[0.0] * len(ids), finish_reason="stop")
        task = self.env.unwrapped.task
        obs, reward, terminated, truncated, info = self.env.step(completion.text)
        feedback = Feedback.from_dict(info["feedback"])
        rollout = Rollout(env_id=self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__,
                          task=task, prompt=self._prompt, completion=completion, feedback=feedback,
                          reward=float(reward), group_id=0)
        info["expert"] = self.expert.targets([rollout])
        return obs, reward, terminated, truncated, info
