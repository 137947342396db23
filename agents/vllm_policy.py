"""`VLLMPolicy`: generation and top-k scoring through `vllm.LLM` (optional extra `[vllm]`, GPU).

- Sampling uses `SamplingParams(n=..., logprobs=0)` with the engine built in
  `logprobs_mode="processed_logprobs"`, so each returned logprob is of the
  distribution actually sampled from (temperature, top-k, top-p applied), like `HFPolicy`.
- Scoring (for external teachers) runs context + completion as a prompt with
  `prompt_logprobs=k` and `max_tokens=1`: per completion position, the top-k ids and
  logprobs plus the logprob of the token actually there.
- Weight sync from a training model: `sync_weights(model)` wakes the engine if it
  sleeps and calls `load_weights` on every worker's model through `collective_rpc`;
  `sleep()` / `wake_up()` free and restore GPU memory between rollouts and updates.

The functions building the keyword arguments are pure and tested on CPU.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from agents.policy import Prompt, encode_prompt
from agents.types import Completion, SamplingConfig
from distil_envs.errors import MissingDependencyError


def _vllm() -> Any:
    try:
        import vllm
    except ImportError as error:
        raise MissingDependencyError("VLLMPolicy", "vllm") from error
    return vllm


def llm_kwargs(model: str, *, dtype: str = "bfloat16", gpu_memory_utilization: float = 0.5, seed: int = 0,
               enable_sleep_mode: bool = True, max_logprobs: int = 20, max_model_len: int | None = None,
               **extra: Any) -> dict[str, Any]:
    """Keyword arguments for `vllm.LLM`."""
    if not 0 < gpu_memory_utilization <= 1:
        raise ValueError(f"gpu_memory_utilization={gpu_memory_utilization} must be in (0, 1]")
    if max_logprobs < 0:
        raise ValueError(f"max_logprobs={max_logprobs} must be >= 0")
    kwargs = dict(model=str(model), dtype=dtype, gpu_memory_utilization=gpu_memory_utilization, seed=seed,
                  enable_sleep_mode=enable_sleep_mode, max_logprobs=max_logprobs,
                  logprobs_mode="processed_logprobs", enable_prefix_caching=True)
    if max_model_len is not None:
        kwargs["max_model_len"] = int(max_model_len)
    kwargs.update(extra)
    return kwargs


def sampling_kwargs(sampling: SamplingConfig, n: int) -> dict[str, Any]:
    """Keyword arguments for `vllm.SamplingParams` matching `HFPolicy.generate` semantics."""
    if n < 1:
        raise ValueError(f"n={n} must be >= 1")
    return dict(n=n, temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k or 0,
                max_tokens=sampling.max_new_tokens, stop=list(sampling.stop), seed=sampling.seed,
                logprobs=0, include_stop_str_in_output=False, skip_special_tokens=True)


def request_sampling_kwargs(sampling: SamplingConfig, n: int, prompts: int,
                            seeds: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """One `SamplingParams` keyword set per prompt: `seeds[j]` (when given) replaces `sampling.seed`."""
    if seeds is not None and len(seeds) != prompts:
        raise ValueError(f"seeds has {len(seeds)} entries for {prompts} prompts; give one seed per prompt")
    base = sampling_kwargs(sampling, n)
    return [base if seeds is None else {**base, "seed": int(seeds[j])} for j in range(prompts)]


def scoring_kwargs(top_k: int) -> dict[str, Any]:
    """`SamplingParams` keyword arguments that only score the prompt (top-k prompt logprobs)."""
    if top_k < 0:
        raise ValueError(f"top_k={top_k} must be >= 0")
    return dict(n=1, max_tokens=1, temperature=1.0, prompt_logprobs=top_k, detokenize=False)


def topk_from_prompt_logprobs(prompt_logprobs: Sequence[Any], context_len: int, completion: Sequence[int],
                              k: int) -> tuple[list[list[int]], list[list[float]], list[float]]:
    """(top-k ids, top-k logprobs, logprob of the actual token) per completion position.

    `prompt_logprobs[i]` maps token id -> Logprob (or float) for prompt position i (None at 0).
    Entries are ordered by logprob; the actual token, added by vLLM when outside the top-k,
    is dropped from the top-k lists unless it belongs there.
    """
    ids, lps, actual = [], [], []
    for t, token in enumerate(completion):
        entry = prompt_logprobs[context_len + t] or {}
        pairs = sorted(((int(tok), float(getattr(lp, "logprob", lp))) for tok, lp in entry.items()),
                       key=lambda p: -p[1])[:k]
        ids.append([p[0] for p in pairs])
        lps.append([p[1] for p in pairs])
        value = entry.get(token)
        actual.append(float(getattr(value, "logprob", value)) if value is not None else float("nan"))
    return ids, lps, actual


class VLLMPolicy:
    """A vLLM engine behind the `Policy` protocol (GPU; `pip install 'distil-envs[vllm]'`)."""

    def __init__(self, model: str, *, tokenizer: Any = None, **kwargs: Any):
        vllm = _vllm()
        self._vllm = vllm
        self.llm = vllm.LLM(**llm_kwargs(model, **kwargs))
        self.tokenizer = tokenizer if tokenizer is not None else self.llm.get_tokenizer()
        self.asleep = False

    def prompt_ids(self, prompt: Prompt) -> list[int]:
        return encode_prompt(self.tokenizer, prompt)

    def _prompts(self, token_lists: Sequence[list[int]]) -> list[Any]:
        return [{"prompt_token_ids": list(ids)} for ids in token_lists]

    def generate(self, prompts: Sequence[Prompt], n: int = 1, sampling: SamplingConfig = SamplingConfig(),
                 seeds: Sequence[int] | None = None) -> list[list[Completion]]:
        """n completions per prompt; `seeds` (one per prompt) gives each request its own seed."""
        self.wake_up()
        ids = [self.prompt_ids(p) for p in prompts]
        params = [self._vllm.SamplingParams(**kw) for kw in request_sampling_kwargs(sampling, n, len(ids), seeds)]
        outputs = self.llm.generate(self._prompts(ids), params, use_tqdm=False)
        result = []
        for prompt_ids, out in zip(ids, outputs):
            group = []
            for o in out.outputs:
                tokens = list(o.token_ids)
                logprobs = [float(step[tok].logprob) for tok, step in zip(tokens, o.logprobs or [])]
                group.append(Completion(text=o.text, token_ids=tokens, logprobs=logprobs,
                                        finish_reason="length" if o.finish_reason == "length" else "stop",
                                        prompt_token_ids=list(prompt_ids)))
            result.append(group)
        return result

    def score_topk(self, contexts: Sequence[list[int]], completions: Sequence[list[int]], k: int = 20):
        """Per rollout: (top-k ids, top-k logprobs, actual-token logprobs) lists per completion position."""
        self.wake_up()
        params = self._vllm.SamplingParams(**scoring_kwargs(k))
        outs = self.llm.generate(self._prompts([list(c) + list(y) for c, y in zip(contexts, completions)]), params,
                                 use_tqdm=False)
        return [topk_from_prompt_logprobs(o.prompt_logprobs, len(c), y, k)
                for o, c, y in zip(outs, contexts, completions)]

    def score(self, contexts: Sequence[list[int]], completions: Sequence[list[int]]) -> list[torch.Tensor]:
        return [torch.tensor(actual) for _, _, actual in self.score_topk(contexts, completions, k=0)]

    def sleep(self, level: int = 1) -> None:
        """Free GPU memory (level 1 offloads weights to CPU, level 2 discards them)."""
        if not self.asleep:
            self.llm.sleep(level=level)
            self.asleep = True

    def wake_up(self) -> None:
        if self.asleep:
            self.llm.wake_up()
            self.asleep = False

    def sync_weights(self, model: torch.nn.Module) -> None:
        """Copy a training model's weights into every engine worker (same architecture and names)."""
        self.wake_up()
        weights = [(name, p.detach().to("cpu")) for name, p in model.state_dict().items()]
        self.llm.collective_rpc(_load_weights, args=(weights,))
        self.llm.reset_prefix_cache()  # cached KV blocks were computed with the old weights


def _load_weights(worker: Any, weights: list[tuple[str, torch.Tensor]]) -> None:
    """Runs inside each vLLM worker."""
    worker.model_runner.model.load_weights(weights=weights)
