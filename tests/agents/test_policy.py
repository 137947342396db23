import pytest
import torch

from agents.policy import HFPolicy, process_logits
from agents.types import SamplingConfig

PROMPTS = ["What is 2+2?", "Solve 3x + 4 = 19 for x. End your answer with \\boxed{...}."]


def test_shapes_and_fields(tiny_policy):
    out = tiny_policy.generate(PROMPTS, n=3, sampling=SamplingConfig(max_new_tokens=12, seed=0))
    assert [len(group) for group in out] == [3, 3]
    for prompt, group in zip(PROMPTS, out):
        for c in group:
            assert c.prompt_token_ids == tiny_policy.prompt_ids(prompt)
            assert 1 <= len(c.token_ids) == len(c.logprobs) <= 12
            assert c.finish_reason in ("stop", "length")
            assert (c.finish_reason == "length") == (len(c.token_ids) == 12 and c.token_ids[-1] != 2)
            assert all(lp <= 0 for lp in c.logprobs)
            assert c.text == tiny_policy.decode(c.token_ids)


def test_prompt_ids_use_the_chat_template(tiny_policy):
    ids = tiny_policy.prompt_ids("hello")
    tok = tiny_policy.tokenizer
    assert tok.decode(ids) == "<|bos|><|user|>\nhello<|eos|><|assistant|>\n"
    messages = [{"role": "user", "content": "hello"}]
    assert tiny_policy.prompt_ids(messages) == ids


def test_same_seed_same_completions_other_seed_differs(tiny_policy):
    cfg = SamplingConfig(max_new_tokens=16, seed=7)
    a = tiny_policy.generate(PROMPTS, n=2, sampling=cfg)
    b = tiny_policy.generate(PROMPTS, n=2, sampling=cfg)
    c = tiny_policy.generate(PROMPTS, n=2, sampling=SamplingConfig(max_new_tokens=16, seed=8))
    ids = lambda out: [x.token_ids for g in out for x in g]  # noqa: E731
    assert ids(a) == ids(b)
    assert ids(a) != ids(c)
    assert a[0][0].token_ids != a[0][1].token_ids  # the n samples of a prompt are different draws


def test_left_padding_batched_equals_unbatched(tiny_policy):
    greedy = SamplingConfig(max_new_tokens=10, temperature=0)
    batched = tiny_policy.generate(PROMPTS, n=1, sampling=greedy)
    for prompt, (row,) in zip(PROMPTS, batched):
        (alone,), = tiny_policy.generate([prompt], n=1, sampling=greedy)
        assert row.token_ids == alone.token_ids
        assert torch.allclose(torch.tensor(row.logprobs), torch.tensor(alone.logprobs), atol=1e-4)


def test_per_prompt_seeds_make_a_prompts_samples_independent_of_the_batch(tiny_policy):
    cfg = SamplingConfig(max_new_tokens=12, seed=None)
    batched = tiny_policy.generate(PROMPTS, n=3, sampling=cfg, seeds=[11, 12])
    for prompt, seed, group in zip(PROMPTS, [11, 12], batched):
        (alone,) = tiny_policy.generate([prompt], n=3, sampling=SamplingConfig(max_new_tokens=12, seed=seed))
        assert [c.token_ids for c in group] == [c.token_ids for c in alone]
        assert torch.allclose(torch.tensor([lp for c in group for lp in c.logprobs]),
                              torch.tensor([lp for c in alone for lp in c.logprobs]), atol=1e-5)
    # the order of the batch does not matter either, nor a chunk boundary between prompts
    small = HFPolicy(tiny_policy.model, tiny_policy.tokenizer, max_batch_rows=4)
    reordered = small.generate(PROMPTS[::-1], n=3, sampling=cfg, seeds=[12, 11])
    assert [c.token_ids for c in reordered[1]] == [c.token_ids for c in batched[0]]
    with pytest.raises(ValueError, match="one seed per prompt"):
        tiny_policy.generate(PROMPTS, n=1, sampling=cfg, seeds=[1])


def test_score_matches_sampling_logprobs_at_temperature_one(tiny_policy):
    out = tiny_policy.generate(PROMPTS, n=2, sampling=SamplingConfig(max_new_tokens=14, seed=3))
    flat = [c for g in out for c in g]
    scores = tiny_policy.score([c.prompt_token_ids for c in flat], [c.token_ids for c in flat])
    for c, s in zip(flat, scores):
        assert s.shape == (len(c.token_ids),)
        assert torch.allclose(s, torch.tensor(c.logprobs), atol=1e-4)


def test_completion_logits_alignment(tiny_policy):
    ctx = [tiny_policy.prompt_ids("a"), tiny_policy.prompt_ids("a much longer prompt than the first one")]
    comp = [[10, 11, 12], [13]]
    logits, mask = tiny_policy.completion_logits(ctx, comp)
    assert logits.shape == (2, 3, len(tiny_policy.tokenizer)) and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    # position t predicts token t given the context and tokens < t: compare with a plain forward
    full = torch.tensor([ctx[0] + comp[0]])
    with torch.no_grad():
        ref = tiny_policy.model(full).logits[0, len(ctx[0]) - 1:-1]
    assert torch.allclose(logits[0].detach(), ref, atol=1e-4)
    hidden = tiny_policy.forward_completions(ctx, comp, return_hidden=True)
    assert torch.allclose(hidden.logits.detach(), logits.detach(), atol=1e-4)
    assert hidden.hidden.shape[:2] == (2, 3)


def test_stop_strings_truncate_text_and_tokens(tiny_policy):
    free = tiny_policy.generate(PROMPTS[:1], n=1, sampling=SamplingConfig(max_new_tokens=30, seed=5))[0][0]
    # pick a stop string that the free run produces in the middle of its text
    text = free.text
    stop = text[len(text) // 2:len(text) // 2 + 2]
    assert stop.strip(), text
    cut = tiny_policy.generate(PROMPTS[:1], n=1,
                               sampling=SamplingConfig(max_new_tokens=30, seed=5, stop=(stop,)))[0][0]
    assert cut.finish_reason == "stop"
    assert cut.text == text[:text.find(stop)]
    assert cut.token_ids == free.token_ids[:len(cut.token_ids)]  # same draws up to the stop
    assert stop in tiny_policy.decode(cut.token_ids)
    assert stop not in tiny_policy.decode(cut.token_ids[:-1])


def test_eos_finishes_with_stop(tiny_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_path)
    tok = AutoTokenizer.from_pretrained(tiny_path)
    steps = {"n": 0}

    def eos_on_third_token(module, args, output):  # force EOS at the third generated position
        steps["n"] += 1
        if steps["n"] == 3:
            output = output.clone()
            output[..., tok.eos_token_id] += 100.0
        return output

    model.lm_head.register_forward_hook(eos_on_third_token)
    policy = HFPolicy(model, tok)
    (c,), = policy.generate(["hi"], n=1, sampling=SamplingConfig(max_new_tokens=50, seed=0))
    assert c.finish_reason == "stop" and len(c.token_ids) == 3 and c.token_ids[-1] == tok.eos_token_id
    assert c.logprobs[-1] > -1e-3 and "<|eos|>" not in c.text and c.text == policy.decode(c.token_ids[:2])


def test_process_logits_top_k_top_p():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    k2 = process_logits(logits, SamplingConfig(top_k=2))
    assert torch.isinf(k2[0, 2:]).all() and torch.isfinite(k2[0, :2]).all()
    p = process_logits(logits, SamplingConfig(top_p=0.8))  # 0.5 + 0.3 reaches 0.8: keep two
    assert torch.isfinite(p[0, :2]).all() and torch.isinf(p[0, 2:]).all()
    t = process_logits(logits, SamplingConfig(temperature=2.0))
    assert torch.allclose(t, logits / 2)


def test_processed_logprobs_are_of_the_filtered_distribution(tiny_policy):
    out = tiny_policy.generate(PROMPTS[:1], n=1, sampling=SamplingConfig(max_new_tokens=8, seed=1, top_k=1))[0][0]
    greedy = tiny_policy.generate(PROMPTS[:1], n=1, sampling=SamplingConfig(max_new_tokens=8, temperature=0))[0][0]
    assert out.token_ids == greedy.token_ids
    assert all(abs(lp) < 1e-6 for lp in out.logprobs)  # top-1 leaves a point mass


def test_bad_arguments(tiny_policy):
    with pytest.raises(ValueError, match="n=0"):
        tiny_policy.generate(PROMPTS, n=0)
    with pytest.raises(TypeError, match="sequence"):
        tiny_policy.generate("just a string")
    with pytest.raises(ValueError, match="contexts"):
        tiny_policy.score([[1]], [[2], [3]])


def test_save_roundtrip(tiny_policy, tmp_path):
    path = tiny_policy.save(tmp_path / "ckpt")
    again = HFPolicy.from_pretrained(path)
    cfg = SamplingConfig(max_new_tokens=6, seed=2)
    assert again.generate(PROMPTS, sampling=cfg)[1][0].token_ids == tiny_policy.generate(PROMPTS, sampling=cfg)[1][0].token_ids
