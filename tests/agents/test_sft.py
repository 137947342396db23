"""The warm start: its data (plain, teacher-context and copy examples), its cache, and the
claim it exists for: after SFT, a self-teacher that sees the correction knows more than the
student (it gives the reference tokens higher probability and solves more tasks)."""

import random
import re

import pytest

from agents.sft import SFTConfig, build_examples, perturb_numbers, sft, teacher_signal, warm_start

ENV = "distil/math-linear-v0"


def test_perturb_numbers_maps_each_number_the_same_way_everywhere():
    texts = ["3x + 4 = 19, so x = 5", "x = 5 because 19 - 4 = 15", "no digits here"]
    a = perturb_numbers(texts, random.Random(0))
    assert a == perturb_numbers(texts, random.Random(0))  # seeded
    assert a[2] == texts[2]
    assert re.sub(r"\d", "#", a[0]) == re.sub(r"\d", "#", texts[0])  # same lengths, digits only
    nums = [re.findall(r"\d+", t) for t in a]
    assert nums[0][-1] == nums[1][0]  # "5" maps to one number in both texts
    assert nums[0][2] == nums[1][1] and nums[0][1] == nums[1][2]  # 19 and 4 too
    assert all(not n.startswith("0") or len(n) == 1 for ns in nums for n in ns)
    assert any(perturb_numbers(texts, random.Random(s))[0] != texts[0] for s in range(3))


def test_examples_follow_the_fractions(tiny_policy):
    tok = tiny_policy.tokenizer
    plain = build_examples(SFTConfig(envs=[ENV], tasks=12, teacher_fraction=0, copy_fraction=0), tok)
    assert len(plain) == 12
    for context, target in plain:
        assert "Correctly solve" not in tok.decode(context)
        assert target[-1] == tok.eos_token_id
    copies = build_examples(SFTConfig(envs=[ENV], tasks=12, teacher_fraction=0, copy_fraction=1), tok)
    for (_, real), (context, target) in zip(plain, copies):
        text, answer = tok.decode(context), tok.decode(target[:-1])
        assert "Correctly solve the original question." in text
        # every number of the (perturbed) target can be read off the context: only copying predicts it
        assert all(n in text for n in re.findall(r"\d+", answer))
    assert sum(real != target for (_, real), (_, target) in zip(plain, copies)) >= 10


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="copy_fraction"):
        SFTConfig(copy_fraction=1.5).validate()
    with pytest.raises(ValueError, match="sum to at most 1"):
        SFTConfig(teacher_fraction=0.6, copy_fraction=0.6).validate()
    with pytest.raises(ValueError, match="steps"):
        SFTConfig(steps=0).validate()
    with pytest.raises(Exception, match="did you mean"):
        SFTConfig(envs=["distil/math-linar-v0"]).validate()


def test_warm_start_is_cached_by_config(tmp_path):
    cfg = SFTConfig(envs=[ENV], tasks=4, steps=2, batch_size=2)
    first = warm_start(cfg, tmp_path, log=lambda _: None)
    stamp = (first / "sft_config.json").stat().st_mtime_ns
    assert warm_start(cfg, tmp_path, log=lambda _: None) == first
    assert (first / "sft_config.json").stat().st_mtime_ns == stamp  # reused, not retrained
    other = warm_start(SFTConfig(envs=[ENV], tasks=4, steps=3, batch_size=2), tmp_path, log=lambda _: None)
    assert other != first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, other.name])  # no temp dirs left


@pytest.mark.slow
def test_teacher_with_the_correction_beats_the_student_after_a_short_sft(tmp_path):
    from agents.policy import HFPolicy

    # Copy examples only: the numbers of the target can only come from the context.
    cfg = SFTConfig(envs=[ENV], tasks=200, teacher_fraction=0.0, copy_fraction=1.0, steps=200, batch_size=32)
    policy = HFPolicy.from_pretrained(sft(cfg, tmp_path / "sft", log=lambda _: None))
    probe = teacher_signal(policy, ENV, tasks=24)  # held-out eval seeds, never seen in SFT
    # measured: mean reference-token log-prob -0.72 (teacher) vs -1.39 (student) after 200 steps,
    # -0.49 vs -1.73 after 300 (then the teacher solves 41% of the held-out tasks, the student 0%)
    assert probe["teacher_logprob"] > probe["student_logprob"] + 0.3, probe
    assert probe["teacher_solve"] >= probe["student_solve"], probe
    # Before SFT the two are the same random model: the gap is what SFT taught.
    untrained = teacher_signal(HFPolicy.from_pretrained("tiny"), ENV, tasks=24, generate=False)
    assert abs(untrained["teacher_logprob"] - untrained["student_logprob"]) < 0.5, untrained


def test_teacher_signal_with_feedback_alone_gives_no_reference(tiny_policy, monkeypatch):
    from agents.context import ContextBuilder

    rendered = []
    original = ContextBuilder.render
    monkeypatch.setattr(ContextBuilder, "render", lambda self, prompt, texts: rendered.append(texts)
                        or original(self, prompt, texts))
    probe = teacher_signal(tiny_policy, ENV, tasks=3, signal="feedback", generate=False)
    assert set(probe) == {"student_logprob", "teacher_logprob"}
    assert [set(t) for t in rendered] == [{"feedback"}] * 3
    assert all(t["feedback"].strip() and "\\boxed" not in t["feedback"] for t in rendered)
    with pytest.raises(ValueError, match="'feedback'"):
        teacher_signal(tiny_policy, ENV, tasks=1, signal="hint")
