"""The tiny offline model: a local byte-level BPE tokenizer and a small Llama.

Every code path (generation, teachers, losses, the trainer, the leaderboard) must
run with no Hub access. `build_tiny_model` trains a tokenizer with `tokenizers` on
text drawn from the registered procedural environments (prompts, reference and
wrong completions, feedback messages) plus a small built-in corpus, and builds a
randomly initialised Llama-style causal LM from a `transformers` config. The result
is an ordinary Hugging Face directory:

    AutoTokenizer.from_pretrained(path); AutoModelForCausalLM.from_pretrained(path)

`ensure_tiny_model(size)` builds once into a cache directory and reuses it. The
directory name carries a digest of the training corpus, so a new or changed
environment gives a new tokenizer instead of silently reusing a stale one.

Chat format (the tokenizer's `chat_template`):

    <|bos|><|user|>\\n{content}<|eos|><|assistant|>\\n{content}<|eos|>...

so generation stops at `<|eos|>`, the tokenizer's EOS token.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np

VERSION = "v1"
VOCAB_SIZE = 3072
SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' }}\n{{ message['content'] }}{{ eos_token }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

# hidden, layers, heads, kv heads, MLP width. Parameter counts with the ~3k vocabulary
# and tied embeddings: tiny ~0.3M, small ~4M, base ~20M.
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=192),
    "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=4,
                  intermediate_size=688),
    "base": dict(hidden_size=512, num_hidden_layers=6, num_attention_heads=8, num_key_value_heads=8,
                 intermediate_size=1376),
}
TASKS_PER_ENV = 40
_STDLIB_MODULES = ("fractions", "statistics", "textwrap", "heapq", "bisect", "string", "calendar")

# Text every teacher context and prompt uses, so those words are single tokens too.
_BUILTIN = """\
Correctly solve the original question.
The following is feedback from your unsuccessful earlier attempt:
The following is a correct solution to the question:
The following is the reference solution:
Solve the problem. Think step by step, then end your answer with \\boxed{...}.
Final answer: \\boxed{42}
Correct. Incorrect. Wrong answer. Expected 12 but got 13. Reference solution:
def solve(x):
    return x + 1
assert solve(1) == 2
Traceback (most recent call last):
  File "<solution>", line 3, in solve
ZeroDivisionError: division by zero
A car accelerates from rest at 2 m/s^2 for 5 s. How far does it travel? The answer is 25 m.
"""


def _builtin_corpus(rng: np.random.Generator, n: int = 400) -> list[str]:
    """Arithmetic sentences so digits, operators and answer formats are well covered."""
    lines = [_BUILTIN]
    ops = ["+", "-", "*"]
    for _ in range(n):
        a, b = int(rng.integers(0, 1000)), int(rng.integers(1, 100))
        op = ops[int(rng.integers(0, 3))]
        value = a + b if op == "+" else a - b if op == "-" else a * b
        lines.append(f"What is {a} {op} {b}? {a} {op} {b} = {value}. Final answer: \\boxed{{{value}}}")
    # Python source with docstrings: code tokens and English prose without any download.
    for module in _STDLIB_MODULES:
        try:
            lines.append(inspect.getsource(importlib.import_module(module)))
        except (OSError, TypeError, ImportError):
            continue
    return lines


def _env_corpus(tasks_per_env: int = TASKS_PER_ENV) -> tuple[list[str], list[str]]:
    """(texts, env ids used) from every procedural env that imports and generates cleanly."""
    import distil_envs

    texts: list[str] = []
    used: list[str] = []
    for env_id in distil_envs.env_ids():
        try:
            cls = distil_envs.env_class(env_id)
            if getattr(cls, "source", "") != "procedural":
                continue
            env = cls(feedback="correction")
            chunk: list[str] = []
            for index in range(tasks_per_env):
                task = env.task_at(index)
                chunk += [task.prompt, env.reference_completion(task), task.correction]
                if getattr(cls, "domain", "") != "code":  # code checkers run a sandbox: too slow here
                    wrong = env.wrong_completion(task)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        message = env.evaluate(wrong, task).message
                    chunk += [wrong, message]
            texts += [t for t in chunk if isinstance(t, str)]
            used.append(env_id)
        except Exception:  # noqa: BLE001 - an env still being written must not break the model build
            continue
    return texts, used


@functools.lru_cache(maxsize=8)
def training_corpus(seed: int = 0) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(texts, env ids) the tokenizer is trained on; deterministic given the env code."""
    env_texts, used = _env_corpus()
    return tuple(_builtin_corpus(np.random.default_rng(seed)) + env_texts), tuple(used)


def _corpus_digest(texts: Iterable[str]) -> str:
    digest = hashlib.sha1()
    for text in texts:
        digest.update(text.encode("utf-8", errors="replace"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:10]


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE):
    """A byte-level BPE `PreTrainedTokenizerFast` with our special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                                        pad_token="<|pad|>", padding_side="left",
                                        additional_special_tokens=["<|system|>", "<|user|>", "<|assistant|>"])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(out_dir: str | os.PathLike, *, size: str = "tiny", seed: int = 0,
                     texts: list[str] | None = None) -> Path:
    """Train the tokenizer, build a random-init Llama of `size`, save both to `out_dir`.

    `texts` overrides the training corpus (default: `training_corpus()`).
    """
    if size not in SIZES:
        raise ValueError(f"size={size!r} is not a tiny-model size; use one of {sorted(SIZES)}")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    used: list[str] = []
    if texts is None:
        texts, used = map(list, training_corpus(seed))
    tokenizer = train_tokenizer(texts)
    config = LlamaConfig(
        vocab_size=len(tokenizer), max_position_embeddings=4096, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, **SIZES[size])
    rng_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    torch.random.set_rng_state(rng_state)  # building a model must not move the caller's RNG
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    meta = {"size": size, "seed": seed, "version": VERSION, "corpus_digest": _corpus_digest(texts),
            "envs": used, "parameters": sum(p.numel() for p in model.parameters())}
    (out / "distil_tiny.json").write_text(json.dumps(meta, indent=1))
    return out


# Real models' shapes, random init (no weights are downloaded): for timing on a GPU.
SHAPES: dict[str, dict] = {
    "qwen2.5-0.5b": dict(architecture="qwen2", hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2, intermediate_size=4864, vocab_size=151_936, rope_theta=1e6,
                         max_position_embeddings=32_768, tie_word_embeddings=True),
}


def build_shaped_model(out_dir: str | os.PathLike, shape: str = "qwen2.5-0.5b", *, seed: int = 0,
                       dtype: str = "bfloat16", **overrides) -> Path:
    """A random-init causal LM with the shapes of a real model, saved with the tiny tokenizer.

    For timing and memory checks where the weights do not matter (nothing comes from the
    Hub). The model keeps the real vocabulary size (151,936 for Qwen2.5), so the LM head and
    the loss cost what they cost in the real model; the tokenizer is the tiny one (~3k
    tokens), so ids past it decode to nothing, like the padded rows of a real vocabulary.
    A random model almost never samples EOS, so every completion runs to max_new_tokens.
    `overrides` change config fields (e.g. num_hidden_layers=2 for a smoke run on CPU).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape={shape!r} is not known; use one of {sorted(SHAPES)}")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    fields = {**SHAPES[shape], **overrides}
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_tiny_model("tiny")))
    config = AutoConfig.for_model(fields.pop("architecture"), bos_token_id=tokenizer.bos_token_id,
                                  eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **fields)
    rng_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    torch.random.set_rng_state(rng_state)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    meta = {"shape": shape, "seed": seed, "dtype": dtype, "overrides": overrides,
            "parameters": sum(p.numel() for p in model.parameters())}
    (out / "distil_shape.json").write_text(json.dumps(meta, indent=1))
    return out


def default_cache_dir() -> Path:
    """`$DISTIL_CACHE` if set, else ~/.cache/distil-envs."""
    return Path(os.environ.get("DISTIL_CACHE") or Path.home() / ".cache" / "distil-envs")


def ensure_tiny_model(size: str = "tiny", cache_dir: str | os.PathLike | None = None, *, seed: int = 0) -> Path:
    """The cached tiny model directory for `size`, built on first use (a few seconds).

    Path: <cache>/tiny-<size>-<version>-s<seed>-<corpus digest>. Concurrent builders each
    write to a private temp dir and rename it into place; the loser discards its copy.
    """
    if size not in SIZES:
        raise ValueError(f"size={size!r} is not a tiny-model size; use one of {sorted(SIZES)}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    texts, used = training_corpus(seed)
    target = root / f"tiny-{size}-{VERSION}-s{seed}-{_corpus_digest(texts)}"
    if (target / "distil_tiny.json").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        build_tiny_model(tmp, size=size, seed=seed, texts=list(texts))
        meta = json.loads((tmp / "distil_tiny.json").read_text())
        meta["envs"] = list(used)
        (tmp / "distil_tiny.json").write_text(json.dumps(meta, indent=1))
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "distil_tiny.json").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
