import json
import os
import subprocess
import sys

import pytest

from agents.tiny import SHAPES, SIZES, build_shaped_model, build_tiny_model, ensure_tiny_model


def test_loads_offline_with_auto_classes(tiny_path):
    # A fresh interpreter with the Hub switched off, as a user would load it.
    code = (
        "import sys; from transformers import AutoTokenizer, AutoModelForCausalLM;"
        "t = AutoTokenizer.from_pretrained(sys.argv[1]); m = AutoModelForCausalLM.from_pretrained(sys.argv[1]);"
        "ids = t.apply_chat_template([{'role': 'user', 'content': 'What is 2+2?'}], tokenize=False,"
        " add_generation_prompt=True); print(len(t), m.config.vocab_size, repr(ids))"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", code, str(tiny_path)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    vocab, model_vocab, template = out.stdout.split(maxsplit=2)
    assert vocab == model_vocab
    assert 1500 <= int(vocab) <= 4096
    assert template.strip() == repr("<|bos|><|user|>\nWhat is 2+2?<|eos|><|assistant|>\n")


def test_special_tokens_are_single_ids(tiny_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_path)
    for name in ("<|bos|>", "<|eos|>", "<|pad|>", "<|user|>", "<|assistant|>", "<|system|>"):
        assert len(tok(name, add_special_tokens=False)["input_ids"]) == 1, name
    assert tok.decode(tok("x = 12 + 5")["input_ids"], skip_special_tokens=True) == "x = 12 + 5"


@pytest.mark.parametrize("size,low,high", [("tiny", 2e5, 1e6), ("small", 3e6, 5e6), ("base", 1.5e7, 2.5e7)])
def test_sizes_and_seeds(tmp_path, size, low, high):
    import torch
    from transformers import AutoModelForCausalLM

    a = build_tiny_model(tmp_path / "a", size=size, seed=0)
    meta = json.loads((a / "distil_tiny.json").read_text())
    assert low <= meta["parameters"] <= high, meta
    if size == "tiny":
        b = build_tiny_model(tmp_path / "b", size=size, seed=0)
        c = build_tiny_model(tmp_path / "c", size=size, seed=1)
        wa, wb, wc = (AutoModelForCausalLM.from_pretrained(p).model.embed_tokens.weight for p in (a, b, c))
        assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_ensure_reuses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTIL_CACHE", str(tmp_path))
    first = ensure_tiny_model("tiny")
    assert first.parent == tmp_path and first.name.startswith("tiny-tiny-")
    stamp = (first / "distil_tiny.json").stat().st_mtime_ns
    assert ensure_tiny_model("tiny") == first
    assert (first / "distil_tiny.json").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp dirs left behind


def test_unknown_size_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="base"):
        build_tiny_model(tmp_path, size="huge")
    assert set(SIZES) == {"tiny", "small", "base"}


def test_shaped_model_has_the_real_architecture_and_vocabulary(tmp_path):
    from transformers import AutoModelForCausalLM

    # The real Qwen2.5-0.5B shape minus depth and width (a CPU-sized check of the same code).
    small = dict(num_hidden_layers=1, hidden_size=64, intermediate_size=96, num_attention_heads=2,
                 num_key_value_heads=1)
    path = build_shaped_model(tmp_path / "m", "qwen2.5-0.5b", dtype="float32", **small)
    model = AutoModelForCausalLM.from_pretrained(str(path))
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert model.config.vocab_size == SHAPES["qwen2.5-0.5b"]["vocab_size"] == 151_936
    assert model.config.tie_word_embeddings and model.config.num_key_value_heads == 1
    meta = json.loads((path / "distil_shape.json").read_text())
    assert meta["parameters"] == sum(p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match="qwen2.5-0.5b"):
        build_shaped_model(tmp_path / "x", "llama-70b")
