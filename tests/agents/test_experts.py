import pytest
import torch

from agents.context import CUT_MARKER, ContextBuilder, cut_middle
from agents.experts import (ModelTeacher, OracleExpert, SelfTeacher, TokenizerMismatchError, optimal_next_tokens)
from agents.policy import HFPolicy
from agents.types import Completion, Rollout
from distil_envs.core import Feedback, Task

PROMPT = "What is 2 + 3? End your answer with \\boxed{...}."


def make_rollout(tok, text, *, correct, group=0, message=None, correction="2 + 3 = 5.\nFinal answer: 5",
                 prompt=PROMPT):
    ids = list(tok(text, add_special_tokens=False)["input_ids"]) + [tok.eos_token_id]
    fb = Feedback.right() if correct else Feedback.wrong(message or "Wrong answer: got 6, which is not the answer.")
    task = Task(task_id=f"t{group}", prompt=prompt, answer="5", solution=correction)
    return Rollout(env_id="distil/test-v0", task=task, prompt=prompt,
                   completion=Completion(text=text, token_ids=ids, logprobs=[0.0] * len(ids), finish_reason="stop"),
                   feedback=fb, reward=float(correct), group_id=group)


@pytest.fixture
def group(tiny_policy):
    tok = tiny_policy.tokenizer
    return [make_rollout(tok, "SAMPLE-WRONG \\boxed{6}", correct=False),
            make_rollout(tok, "SIBLING-ONE \\boxed{5}", correct=True),
            make_rollout(tok, "SIBLING-TWO \\boxed{5}", correct=True),
            make_rollout(tok, "OTHER-GROUP \\boxed{5}", correct=True, group=1)]


# ---------------------------------------------------------------------- contexts
def test_sdpo_rule_uses_a_sibling_and_never_the_sample(group, tiny_policy):
    ctx = ContextBuilder(signals=("sibling", "feedback"), rule="sdpo").build(group, tiny_policy.tokenizer)
    assert "SIBLING-ONE" in ctx[0].text and "Wrong answer" not in ctx[0].text  # sibling beats feedback
    assert ctx[0].signals == {"feedback": False, "sibling": True, "correction": False}
    assert "SIBLING-TWO" in ctx[1].text and "SIBLING-ONE" not in ctx[1].text  # never itself
    assert "SIBLING-ONE" in ctx[2].text and "SIBLING-TWO" not in ctx[2].text
    assert not ctx[3].has_signal and "SIBLING" not in ctx[3].text  # only sibling is in another group
    for c in ctx:
        assert c.text.startswith(PROMPT) and c.text.endswith("Correctly solve the original question.")
        assert "OTHER-GROUP" not in c.text or c is ctx[3]
    assert "OTHER-GROUP" not in ctx[3].text
    decoded = tiny_policy.tokenizer.decode(ctx[0].token_ids)
    assert decoded.startswith("<|bos|><|user|>\n") and decoded.endswith("<|eos|><|assistant|>\n")


def test_sdpo_rule_falls_back_to_own_feedback(group, tiny_policy):
    only_wrong = [group[0], make_rollout(tiny_policy.tokenizer, "ALSO-WRONG", correct=False, message="Format error")]
    ctx = ContextBuilder(rule="sdpo").build(only_wrong, tiny_policy.tokenizer)
    assert "Wrong answer: got 6" in ctx[0].text and "Format error" not in ctx[0].text
    assert "Format error" in ctx[1].text and "Wrong answer" not in ctx[1].text
    assert ctx[0].signals == {"feedback": True, "sibling": False, "correction": False}


def test_all_rule_with_feedback_and_correction(group, tiny_policy):
    builder = ContextBuilder(signals=("feedback", "correction"), rule="all")
    ctx = builder.build(group, tiny_policy.tokenizer)
    assert "Wrong answer" in ctx[0].text and "Final answer: 5" in ctx[0].text and "SIBLING" not in ctx[0].text
    assert ctx[1].signals == {"feedback": False, "sibling": False, "correction": True}  # "Correct." is no signal
    assert "SIBLING-ONE" not in ctx[1].text.replace(PROMPT, "")


def test_random_sibling_is_seeded_and_never_self_or_copy(tiny_policy):
    tok = tiny_policy.tokenizer
    rolls = [make_rollout(tok, f"GOOD-{i} \\boxed{{5}}", correct=True) for i in range(5)]
    rolls.append(make_rollout(tok, "GOOD-0 \\boxed{5}", correct=True))  # a verbatim copy of sample 0
    picks = [ContextBuilder(sibling="random", seed=s).pick_sibling(rolls, 0) for s in range(20)]
    assert set(picks) <= {1, 2, 3, 4} and len(set(picks)) > 1
    assert ContextBuilder(sibling="random", seed=3).pick_sibling(rolls, 0) == picks[3]
    assert ContextBuilder(sibling="first").pick_sibling(rolls, 0) == 1


def test_feedback_is_cut_in_the_middle(tiny_policy):
    tok = tiny_policy.tokenizer
    long_message = "HEAD-OF-FEEDBACK " + "the value 12345 is wrong; " * 400 + " TAIL-OF-FEEDBACK"
    roll = make_rollout(tok, "x", correct=False, message=long_message)
    builder = ContextBuilder(signals=("feedback", "correction"), rule="all", max_tokens=200)
    (ctx,) = builder.build([roll], tok)
    assert len(ctx.token_ids) <= 200 and ctx.truncated
    assert ctx.text.startswith(PROMPT) and ctx.text.endswith("Correctly solve the original question.")
    assert "HEAD-OF-FEEDBACK" in ctx.text and "TAIL-OF-FEEDBACK" in ctx.text and "characters cut" in ctx.text
    assert "Final answer: 5" in ctx.text  # the correction is kept whole while cutting feedback suffices
    assert tok.decode(ctx.token_ids).endswith("<|assistant|>\n")
    (whole,) = ContextBuilder(signals=("feedback",), rule="all").build([roll], tok)
    assert long_message in whole.text and not whole.truncated


def test_cut_middle_keeps_both_ends():
    assert cut_middle("abcdefghij", 4) == "ab" + CUT_MARKER.format(n=6) + "ij"
    assert cut_middle("abc", 10) == "abc"


def test_builder_validation_names_the_field():
    with pytest.raises(ValueError, match="signals"):
        ContextBuilder(signals=("hint",))
    with pytest.raises(ValueError, match="rule"):
        ContextBuilder(rule="best")
    with pytest.raises(ValueError, match="max_tokens"):
        ContextBuilder(max_tokens=0)


# ---------------------------------------------------------------------- self-teacher
def test_self_teacher_scores_the_exact_completion_tokens(group, tiny_policy):
    teacher = SelfTeacher(tiny_policy, ContextBuilder(), top_k=5, exact=True)
    out = teacher.targets(group)
    b, t = len(group), max(len(r.completion.token_ids) for r in group)
    v = len(tiny_policy.tokenizer)
    assert out.topk_ids.shape == (b, t, 5) and out.full_logprobs.shape == (b, t, v)
    assert out.mask[3].sum() == 0  # no signal -> masked
    assert out.mask[0].sum() == len(group[0].completion.token_ids)
    assert [s["sibling"] for s in out.signals] == [True, True, True, False]
    ctx = ContextBuilder().build(group, tiny_policy.tokenizer)
    for i in range(3):
        tokens = group[i].completion.token_ids
        expected = tiny_policy.score([ctx[i].token_ids], [tokens])[0]
        got = out.full_logprobs[i, :len(tokens)].gather(-1, torch.tensor(tokens)[:, None]).squeeze(-1)
        assert torch.allclose(got, expected, atol=1e-4)
    total = out.topk_logprobs.exp().sum(-1) + out.tail_logprob.exp()
    assert torch.allclose(total, torch.ones_like(total), atol=1e-4)
    assert torch.equal(out.topk_ids[..., 0], out.full_logprobs.argmax(-1))


def test_teacher_weights_ema_frozen_trust_region(group, tiny_path):
    def fresh():
        return HFPolicy.from_pretrained(tiny_path)

    policy = fresh()
    teachers = {w: SelfTeacher(policy, weights=w, top_k=3, exact=True) for w in
                ("current", "ema", "frozen", "trust_region")}
    before = {w: t.targets(group).full_logprobs for w, t in teachers.items()}
    with torch.no_grad():  # a "training step"
        for p in policy.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    for t in teachers.values():
        t.update(policy.model)
    after = {w: t.targets(group).full_logprobs for w, t in teachers.items()}
    assert torch.allclose(after["frozen"], before["frozen"])
    assert not torch.allclose(after["current"], before["current"], atol=1e-3)
    # EMA moved 5% of the way: between the old and new weights, closer to the old
    d_old = (after["ema"] - before["ema"]).abs().mean()
    d_new = (after["ema"] - after["current"]).abs().mean()
    assert 0 < d_old < d_new
    assert all(not p.requires_grad for p in teachers["ema"].copy.parameters())
    # trust region: log-softmax of the midpoint of frozen and current logits
    tr = SelfTeacher(fresh(), weights="trust_region", trust_region_alpha=0.0, top_k=3, exact=True)
    assert torch.allclose(tr.targets(group).full_logprobs, before["frozen"], atol=1e-5)


# ---------------------------------------------------------------------- model teacher
def test_model_teacher_same_tokenizer_matches_self_teacher(group, tiny_path, tiny_policy):
    teacher = ModelTeacher(tiny_path, student_tokenizer=tiny_policy.tokenizer, top_k=3)
    same = SelfTeacher(tiny_policy, top_k=3).targets(group)
    got = teacher.targets(group)
    assert torch.allclose(got.topk_logprobs, same.topk_logprobs, atol=1e-4)
    assert torch.equal(got.mask, same.mask)


def test_model_teacher_refuses_another_tokenizer(tiny_path, tiny_policy):
    from agents.tiny import train_tokenizer

    other = train_tokenizer(["completely different text " * 20, "with another vocabulary 123"], vocab_size=400)
    with pytest.raises(TokenizerMismatchError, match="same tokenizer"):
        ModelTeacher(tiny_policy.model, other, student_tokenizer=tiny_policy.tokenizer)
    with pytest.raises(ValueError, match="tokenizer="):
        ModelTeacher(tiny_policy.model, student_tokenizer=tiny_policy.tokenizer)


# ---------------------------------------------------------------------- oracle
EOS = 2


@pytest.mark.parametrize("student,expected", [
    ([], []),
    ([10, 11, 12, EOS], [[10], [11], [12], [EOS]]),   # on track, then EOS after the reference
    ([10, 99, 12], [[10], [11], [11, 12]]),            # after a substitution: retry 11 or skip to 12
    ([99, 10], [[10], [10, 11]]),                      # wrong start: insert 10 or substitute
    ([10, 10, 10], [[10], [11], [11, 12]]),            # repeated token: redo 11 or skip to 12
    ([10, 11, 12, 13, 14], [[10], [11], [12], [EOS], [EOS]]),  # overran: stop
])
def test_oracle_next_tokens_on_hand_made_prefixes(student, expected):
    assert optimal_next_tokens(student, [10, 11, 12], EOS) == expected


def test_oracle_targets(tiny_policy):
    tok = tiny_policy.tokenizer
    reference = "2 + 3 = 5.\nFinal answer: 5"
    ref_ids = tok(reference, add_special_tokens=False)["input_ids"]
    good = make_rollout(tok, reference, correct=True, correction=reference)
    assert good.completion.token_ids == ref_ids + [tok.eos_token_id]
    none = make_rollout(tok, "x", correct=False, correction="")
    oracle = OracleExpert(tok, smoothing=0.1, top_k=3, exact=True, reference=lambda r: r.task.solution)
    out = oracle.targets([good, none])
    n = len(ref_ids) + 1
    assert out.topk_ids[0, :n, 0].tolist() == ref_ids + [tok.eos_token_id]
    v = len(tok)
    assert torch.allclose(out.topk_logprobs[0, :n, 0], torch.full((n,), float(torch.log(torch.tensor(0.9 + 0.1 / v)))))
    total = out.topk_logprobs.exp().sum(-1) + out.tail_logprob.exp()
    assert torch.allclose(total[0, :n], torch.ones(n), atol=1e-5)
    assert torch.allclose(out.full_logprobs[0, :n].exp().sum(-1), torch.ones(n), atol=1e-5)
    assert out.mask[0].sum() == n and out.mask[1].sum() == 0
    assert out.signals[0]["correction"] and not out.signals[1]["correction"]


# ---------------------------------------------------------------------- gym wrapper
def test_expert_feedback_wrapper_puts_targets_in_info(tiny_policy):
    import gymnasium as gym
    from distil_envs.wrappers import ExpertFeedback

    tok = tiny_policy.tokenizer
    env = ExpertFeedback(gym.make("distil/math-arithmetic-v0", feedback="correction"), OracleExpert(tok), tok)
    prompt, _ = env.reset(seed=0)
    completion = "I think it is \\boxed{-1}"
    _, reward, terminated, _, info = env.step(completion)
    targets = info["expert"]
    n = len(tok(completion, add_special_tokens=False)["input_ids"]) + 1
    assert reward == 0.0 and terminated
    assert targets.topk_ids.shape[:2] == (1, n) and targets.mask.sum() == n
    assert targets.signals == [{"feedback": False, "sibling": False, "correction": True}]
    # the oracle's first target is the first token of the correction the env returned
    first = tok(info["feedback"]["correction"], add_special_tokens=False)["input_ids"][0]
    assert targets.topk_ids[0, 0, 0] == first


def test_oracle_default_puts_all_mass_on_the_reference(tiny_policy):
    tok = tiny_policy.tokenizer
    reference = "2 + 3 = 5.\nFinal answer: 5"
    good = make_rollout(tok, reference, correct=True, correction=reference)
    out = OracleExpert(tok, top_k=3, exact=True, reference=lambda r: r.task.solution).targets([good])
    n = len(good.completion.token_ids)
    assert torch.allclose(out.topk_logprobs[0, :n, 0], torch.zeros(n), atol=1e-5)  # q(reference token) = 1
    assert (out.full_logprobs[0, :n].exp().sum(-1) - 1).abs().max() < 1e-5
    assert out.tail_logprob[0, :n].exp().max() < 1e-5  # no mass left for the rest of the vocabulary
