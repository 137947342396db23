"""`HFPolicy`: a transformers causal LM as a `Policy`, on CPU or CUDA with the same code.

Generation is our own sampling loop over the KV cache rather than `model.generate`,
so that the log-probabilities and the seeds are exact:

- the `n` samples of every prompt are rows of one left-padded batch;
- each step samples from the *processed* distribution: logits / temperature, then
  top-k, then top-p (nucleus) filtering; the logprob recorded for a token is the
  log-softmax of that processed distribution (vLLM's `processed_logprobs`). With
  `temperature=0` decoding is greedy and the logprob is the raw log-softmax
  (temperature 1, no filtering) of the chosen token;
- randomness comes only from a `torch.Generator` seeded with `sampling.seed`, so the
  same seed, prompts and batch size give the same completions; with `seeds=` (one per
  prompt) each prompt's samples draw from a generator of their own, so a prompt's
  completions do not depend on the other prompts of the batch (the trainer batches a
  whole step this way and stays independent of batching, ranks and resuming);
- a completion ends at EOS (kept in `token_ids`, dropped from `text`), at a stop
  string (tokens up to the one that completed it; `text` cut before it), both
  `finish_reason="stop"`, or after `max_new_tokens` (`"length"`).

Teacher forcing (`forward_completions`) lays out a batch as
`[left pad | context | completion | right pad]`, so position t of the returned
(B, T, V) logits is the distribution over completion token t given the context and
the completion's first t tokens: the convention of `agents/types.py`.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from agents.types import Completion, SamplingConfig

Prompt = str | list[dict[str, str]]
TINY_NAMES = {"tiny": "tiny", "tiny-tiny": "tiny", "tiny-small": "small", "tiny-base": "base"}


def resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype).replace("torch.", ""), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"dtype={dtype!r} is not a torch dtype; use e.g. 'float32' or 'bfloat16'")
    return value


@dataclass
class CompletionForward:
    """Teacher-forced outputs on completion positions (B rows, T = longest completion).

    logits (B, T, V) float  position t predicts tokens[:, t]
    tokens (B, T) long      completion ids, right-padded with the pad id
    mask   (B, T) float     1 on real completion tokens
    hidden (B, T, H) float  final hidden states at the same positions (only when asked)
    """

    logits: torch.Tensor | None
    tokens: torch.Tensor
    mask: torch.Tensor
    hidden: torch.Tensor | None = None


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[tokens] in float32: (B, T, V), (B, T) -> (B, T)."""
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


def forward_completions(model: Any, contexts: Sequence[list[int]], completions: Sequence[list[int]], *,
                        pad_id: int, device: torch.device | str | None = None, return_logits: bool = True,
                        return_hidden: bool = False) -> CompletionForward:
    """Teacher-forced forward of `model` on context + completion pairs.

    Gradients flow unless the caller wraps this in `torch.no_grad()`. Only the T + 1
    last positions go through the LM head, so the context part never costs (L, V) memory.
    `return_hidden` gives the final hidden states (for a chunked loss against the LM
    head weight; that skips any logit soft-capping a model family applies).
    """
    if len(contexts) != len(completions):
        raise ValueError(f"{len(contexts)} contexts but {len(completions)} completions; pass one context each")
    if not contexts:
        raise ValueError("forward_completions needs at least one (context, completion) pair")
    if any(len(c) == 0 for c in contexts):
        raise ValueError("every context needs at least one token (e.g. BOS) to predict the first completion token")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    lc = max(len(c) for c in contexts)
    t_max = max(max(len(c) for c in completions), 1)
    rows, masks = [], []
    for ctx, comp in zip(contexts, completions):
        left, right = lc - len(ctx), t_max - len(comp)
        rows.append([pad_id] * left + list(ctx) + list(comp) + [pad_id] * right)
        masks.append([0] * left + [1] * (len(ctx) + len(comp)) + [0] * right)
    input_ids = torch.tensor(rows, dtype=torch.long, device=device)  # (B, Lc + T)
    attention = torch.tensor(masks, dtype=torch.long, device=device)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    tokens = input_ids[:, lc:]  # (B, T)
    comp_mask = attention[:, lc:].float()
    logits = hidden = None
    if return_hidden:
        out = model.base_model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                               use_cache=False)
        hidden = out.last_hidden_state[:, lc - 1:lc - 1 + t_max]  # (B, T, H)
        if return_logits:
            logits = model.get_output_embeddings()(hidden)
    elif return_logits:
        out = model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=False,
                    logits_to_keep=t_max + 1)
        logits = out.logits[:, :-1]  # (B, T, V): the last position predicts past the completion
    return CompletionForward(logits=logits, tokens=tokens, mask=comp_mask, hidden=hidden)


def process_logits(logits: torch.Tensor, sampling: SamplingConfig) -> torch.Tensor:
    """Temperature, then top-k, then top-p on (R, V) float32 logits; removed entries are -inf."""
    logits = logits / sampling.temperature
    if sampling.top_k and sampling.top_k < logits.shape[-1]:
        kth = torch.topk(logits, sampling.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if sampling.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # drop a token when the mass strictly before it already reaches top_p (the top token always stays)
        drop_sorted = (probs.cumsum(-1) - probs) >= sampling.top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def encode_prompt(tokenizer: Any, prompt: Prompt) -> list[int]:
    """Token ids of `prompt`: a string is one user turn when the tokenizer has a chat template."""
    if isinstance(prompt, str) and not getattr(tokenizer, "chat_template", None):
        return list(tokenizer(prompt)["input_ids"])
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("chat messages need a tokenizer with a chat_template; pass a string prompt instead")
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _cache_kwarg(model: Any) -> str:
    """transformers >= 5.2x names the KV cache argument `cache`; older versions `past_key_values`."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _cache_of(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


class HFPolicy:
    """A Hugging Face causal LM behind the `Policy` protocol.

    Arguments:
        model: a `transformers` causal LM (moved to `device` and `dtype`).
        tokenizer: its tokenizer; its chat template is used when it has one.
        device, dtype: where and how the model runs ("cpu", "cuda", torch.bfloat16, ...).
        max_batch_rows: rows (prompts x n) sampled together; more are done in chunks.
    """

    def __init__(self, model: Any, tokenizer: Any, device: str | torch.device = "cpu",
                 dtype: torch.dtype | str = torch.float32, *, max_batch_rows: int = 64):
        if max_batch_rows < 1:
            raise ValueError(f"max_batch_rows={max_batch_rows} must be >= 1")
        self.device = torch.device(device)
        self.dtype = resolve_dtype(dtype)
        self.model = model.to(device=self.device, dtype=self.dtype)
        self.tokenizer = tokenizer
        self.max_batch_rows = max_batch_rows
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad is None:
            raise ValueError("the tokenizer has neither a pad nor an EOS token; set tokenizer.pad_token")
        self.pad_id = int(pad)
        self.eos_ids = self._eos_ids()

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, device: str | torch.device = "cpu",
                        dtype: torch.dtype | str = torch.float32, **kwargs: Any) -> "HFPolicy":
        """Load a local directory or Hub id; "tiny", "tiny-small", "tiny-base" build the offline model."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = str(name_or_path)
        if path in TINY_NAMES and not Path(path).exists():
            from agents.tiny import ensure_tiny_model

            path = str(ensure_tiny_model(TINY_NAMES[path]))
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=resolve_dtype(dtype))
        return cls(model, tokenizer, device=device, dtype=dtype, **kwargs)

    def _eos_ids(self) -> set[int]:
        ids = set()
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        config_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        if isinstance(config_eos, int):
            ids.add(config_eos)
        elif isinstance(config_eos, (list, tuple)):
            ids.update(int(i) for i in config_eos)
        return ids

    # ------------------------------------------------------------------ tokens
    def prompt_ids(self, prompt: Prompt) -> list[int]:
        """The exact token ids the model is conditioned on for `prompt`.

        A string becomes one user message when the tokenizer has a chat template
        (raw text otherwise); a list of {"role", "content"} messages needs a template.
        """
        return encode_prompt(self.tokenizer, prompt)

    def decode(self, token_ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(token_ids), skip_special_tokens=True)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def generate(self, prompts: Sequence[Prompt], n: int = 1, sampling: SamplingConfig = SamplingConfig(),
                 seeds: Sequence[int] | None = None) -> list[list[Completion]]:
        """n completions per prompt, in prompt order (see the module docstring).

        `seeds` (one per prompt, overriding `sampling.seed`) gives each prompt's samples
        their own random stream: prompt j's completions are then those of
        `generate([prompts[j]], n, sampling with seed=seeds[j])`, whatever else is batched.
        """
        if n < 1:
            raise ValueError(f"n={n} must be >= 1")
        if isinstance(prompts, (str, dict)):
            raise TypeError("prompts must be a sequence of prompts; wrap a single prompt in a list")
        if seeds is not None and len(seeds) != len(prompts):
            raise ValueError(f"seeds has {len(seeds)} entries for {len(prompts)} prompts; give one seed per prompt")
        ids = [self.prompt_ids(p) for p in prompts]
        rows = [pid for pid in ids for _ in range(n)]
        if seeds is None:
            streams, stream_of_row, chunk = [self._generator(sampling.seed)], [0] * len(rows), self.max_batch_rows
        else:  # whole prompts per chunk, so a prompt's rows always share one multinomial call
            streams = [self._generator(seed) for seed in seeds]
            stream_of_row = [j for j in range(len(ids)) for _ in range(n)]
            chunk = max(1, self.max_batch_rows // n) * n
        was_training = self.model.training
        self.model.eval()
        try:
            flat: list[Completion] = []
            for start in range(0, len(rows), chunk):
                flat += self._sample(rows[start:start + chunk], sampling, streams, stream_of_row[start:start + chunk])
        finally:
            self.model.train(was_training)
        return [flat[i * n:(i + 1) * n] for i in range(len(prompts))]

    def _generator(self, seed: int | None) -> torch.Generator:
        generator = torch.Generator(device=self.device)
        if seed is not None:
            generator.manual_seed(int(seed))
        else:
            generator.seed()
        return generator

    def _sample(self, rows: list[list[int]], sampling: SamplingConfig, streams: list[torch.Generator],
                stream_of_row: list[int]) -> list[Completion]:
        """Sample `rows` (prompt ids, one row per completion) together; row i draws its
        randomness from streams[stream_of_row[i]], consecutive rows sharing a stream."""
        r, lp = len(rows), max(len(x) for x in rows)
        if any(len(x) == 0 for x in rows):
            raise ValueError("a prompt encoded to zero tokens; give the tokenizer a BOS token or a chat template")
        input_ids = torch.tensor([[self.pad_id] * (lp - len(x)) + x for x in rows], device=self.device)
        attention = torch.tensor([[0] * (lp - len(x)) + [1] * len(x) for x in rows], device=self.device)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True,
                         logits_to_keep=1)
        past, logits = _cache_of(out), out.logits[:, -1].float()  # (R, V)
        cache_kwarg = _cache_kwarg(self.model)
        next_pos = positions[:, -1] + 1

        tokens: list[list[int]] = [[] for _ in range(r)]
        logps: list[list[float]] = [[] for _ in range(r)]
        finish: list[str | None] = [None] * r
        texts: list[str | None] = [None] * r
        stops = [s for s in sampling.stop if s]
        window = max((len(s.encode("utf-8")) for s in stops), default=0) + 4
        eos = torch.tensor(sorted(self.eos_ids) or [-1], device=self.device)
        groups = []  # (stream, first row, end row) of each run of rows sharing a stream
        for i, g in enumerate(stream_of_row):
            if groups and groups[-1][0] == g:
                groups[-1][2] = i + 1
            else:
                groups.append([g, i, i + 1])
        for _ in range(sampling.max_new_tokens):
            if sampling.temperature == 0:
                chosen = logits.argmax(-1)
                logp = torch.log_softmax(logits, -1)
            else:
                logp = torch.log_softmax(process_logits(logits, sampling), -1)
                probs = logp.exp()
                chosen = torch.cat([torch.multinomial(probs[a:b], 1, generator=streams[g])
                                    for g, a, b in groups]).squeeze(-1)
            chosen_logp = logp.gather(-1, chosen[:, None]).squeeze(-1)
            is_eos = torch.isin(chosen, eos)
            for i, (tok, lpv, end) in enumerate(zip(chosen.tolist(), chosen_logp.tolist(), is_eos.tolist())):
                if finish[i] is not None:
                    continue
                tokens[i].append(tok)
                logps[i].append(lpv)
                if end:
                    finish[i] = "stop"
                elif stops:
                    tail = self.tokenizer.decode(tokens[i][-window:], skip_special_tokens=True)
                    if any(s in tail for s in stops):
                        full = self.decode(tokens[i])
                        cut = min(full.find(s) for s in stops if s in full) if any(s in full for s in stops) \
                            else len(full)
                        finish[i], texts[i] = "stop", full[:cut]
            if all(f is not None for f in finish):
                break
            attention = torch.cat([attention, torch.ones_like(attention[:, :1])], dim=-1)
            out = self.model(input_ids=chosen[:, None], attention_mask=attention, position_ids=next_pos[:, None],
                             use_cache=True, **{cache_kwarg: past})
            past, logits, next_pos = _cache_of(out), out.logits[:, -1].float(), next_pos + 1
        return [Completion(text=texts[i] if texts[i] is not None else self.decode(tokens[i]),
                           token_ids=tokens[i], logprobs=logps[i], finish_reason=finish[i] or "length",
                           prompt_token_ids=list(rows[i])) for i in range(r)]

    # ------------------------------------------------------------------ teacher forcing
    def forward_completions(self, contexts: Sequence[list[int]], completions: Sequence[list[int]], *,
                            model: Any = None, return_logits: bool = True,
                            return_hidden: bool = False) -> CompletionForward:
        """Padded (B, T, V) logits, tokens and mask on completion positions (gradients flow).

        `model` defaults to this policy's model; teachers pass their own weight copy."""
        return forward_completions(model if model is not None else self.model, contexts, completions,
                                   pad_id=self.pad_id, device=self.device, return_logits=return_logits,
                                   return_hidden=return_hidden)

    def completion_logits(self, contexts: Sequence[list[int]],
                          completions: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, T, V), mask (B, T)) aligned as in `agents/types.py`."""
        out = self.forward_completions(contexts, completions)
        return out.logits, out.mask

    @torch.no_grad()
    def score(self, contexts: Sequence[list[int]], completions: Sequence[list[int]], *,
              batch_size: int = 16) -> list[torch.Tensor]:
        """Per-token log-probabilities (float32, on CPU) of each completion given its context."""
        result: list[torch.Tensor] = []
        for start in range(0, len(contexts), batch_size):
            ctx, comp = contexts[start:start + batch_size], completions[start:start + batch_size]
            out = self.forward_completions(ctx, comp)
            lp = token_logprobs(out.logits, out.tokens).cpu()  # (b, T)
            result += [lp[i, :len(c)] for i, c in enumerate(comp)]
        return result

    def save(self, directory: str | os.PathLike, state_dict: dict | None = None) -> Path:
        """save_pretrained of the model (or of `state_dict`, e.g. a sharded model's full state) and tokenizer."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path, state_dict=state_dict)
        self.tokenizer.save_pretrained(path)
        return path
