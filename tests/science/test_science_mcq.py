"""Multiple-choice science: letter extraction, loaders over local Hub-schema files, feedback."""

import json
from pathlib import Path

import pytest

import distil_envs
from distil_envs.errors import DatasetUnavailableError
from distil_envs.science.mcq import extract_choice

DATA = Path(__file__).resolve().parents[1] / "data"
MCQ = ["distil/science-sciknoweval-v0", "distil/science-gpqa-diamond-v0", "distil/science-sciq-v0",
       "distil/science-arc-challenge-v0"]
OPTIONS = ["carbon dioxide", "oxygen", "nitrogen", "helium"]


def local(env_id):
    return DATA / (env_id.replace("/", "__") + ".jsonl")


def make(env_id, **kwargs):
    return distil_envs.make(env_id, path=str(local(env_id)), **kwargs).unwrapped


# (completion, letter or None, problem)
EXTRACTION = [
    ("\\boxed{B}", "B", ""),
    ("\\boxed{(B)}", "B", ""),
    ("\\boxed{\\text{B}}", "B", ""),
    ("\\boxed{B) oxygen}", "B", ""),
    ("\\boxed{b}", "B", ""),
    ("Reasoning...\nAnswer: C", "C", ""),
    ("**Answer:** (D)", "D", ""),
    ("Final answer: Option A", "A", ""),
    ("So the answer is B.", "B", ""),
    ("I think the correct answer is (C) because gases...", "C", ""),
    ("The answer is: **D**", "D", ""),
    ("B", "B", ""),
    ("(A)", "A", ""),
    ("Looking at the choices, (C) is the only gas that plants absorb.", "C", ""),
    ("\\boxed{oxygen}", "B", ""),  # the option's text
    ("\\boxed{A} ... on reflection \\boxed{C}", "C", ""),  # the last boxed answer counts
    ("\\boxed{A, C}", None, "several"),
    ("\\boxed{A or B}", None, "several"),
    ("\\boxed{AC}", None, "several"),
    ("Answer: B and D", None, "several"),
    ("the answer is A/B", None, "several"),
    ("Either (A) or (C) could work.", None, "several"),
    ("\\boxed{E}", None, "not_an_option"),
    ("\\boxed{}", None, "none"),
    ("\\boxed{X}", None, "none"),
    ("I have no idea what the answer could be.", None, "none"),
    ("A bit of thought shows a clear pattern.", None, "none"),
]


@pytest.mark.parametrize("completion, letter, problem", EXTRACTION)
def test_extract_choice(completion, letter, problem):
    assert extract_choice(completion, "ABCD", OPTIONS) == (letter, problem)


@pytest.mark.parametrize("env_id, count", [("distil/science-sciknoweval-v0", 4), ("distil/science-gpqa-diamond-v0", 4),
                                           ("distil/science-sciq-v0", 4), ("distil/science-arc-challenge-v0", 4)])
def test_loaders_read_local_files(env_id, count):
    env = make(env_id)
    assert env.num_tasks() == count
    for index in range(count):
        task = env.task_at(index)
        assert task.answer in task.data["letters"] and f"({task.answer})" in task.prompt
        assert env.evaluate(env.reference_completion(task), task=task).correct


def test_sciknoweval_keeps_only_l3_multiple_choice():
    env = make("distil/science-sciknoweval-v0")
    prompts = " ".join(env.task_at(i).prompt for i in range(env.num_tasks()))
    assert "carbohydrate" not in prompts and "polar molecule" not in prompts


def test_gpqa_shuffle_is_deterministic_and_keeps_the_key():
    rows = [json.loads(line) for line in local("distil/science-gpqa-diamond-v0").read_text().splitlines()]
    first, second = make("distil/science-gpqa-diamond-v0"), make("distil/science-gpqa-diamond-v0")
    letters = []
    for index, row in enumerate(rows):
        task = first.task_at(index)
        assert task.prompt == second.task_at(index).prompt
        options = task.data["options"]
        assert options[task.data["letters"].index(task.answer)] == row["Correct Answer"]
        assert sorted(options) == sorted([row["Correct Answer"]] + [row[f"Incorrect Answer {k}"] for k in (1, 2, 3)])
        letters.append(task.answer)
    assert len(set(letters)) > 1  # the key is not always A


def test_arc_numeric_labels_and_five_options():
    env = make("distil/science-arc-challenge-v0")
    numeric = env.task_at(2)
    assert numeric.answer == "B" and "(B) electrical energy" in numeric.prompt
    five = env.task_at(3)
    assert five.data["letters"] == "ABCDE" and "(E) infiltration" in five.prompt


def test_wrong_choice_feedback_names_the_choice_but_not_the_answer():
    env = make("distil/science-sciq-v0")
    env.reset(options={"index": 0})
    task = env.task
    wrong = next(letter for letter in task.data["letters"] if letter != task.answer)
    chosen_text = task.data["options"][task.data["letters"].index(wrong)]
    message, reward, *_ = env.step(f"\\boxed{{{wrong}}}")
    assert reward == 0 and f"You chose ({wrong}) {chosen_text}" in message
    assert "carbon dioxide" not in message


def test_correction_has_letter_and_explanation():
    env = make("distil/science-sciq-v0", feedback="correction")
    env.reset(options={"index": 0})
    message, *_ , info = env.step(env.wrong_completion(env.task))
    assert f"({env.task.answer}) carbon dioxide" in message and "stomata" in message
    assert "stomata" in info["feedback"]["correction"]
    gpqa = make("distil/science-gpqa-diamond-v0", feedback="correction")
    gpqa.reset(options={"index": 1})
    message, *_ = gpqa.step(gpqa.wrong_completion(gpqa.task))
    assert "three carbon environments" in message


def test_several_letters_score_zero():
    env = make("distil/science-arc-challenge-v0")
    env.reset(options={"index": 0})
    _, reward, _, _, info = env.step("\\boxed{A, B, C, D}")
    assert reward == 0 and info["feedback"]["kind"] == "wrong_answer" and "several" in info["feedback"]["message"]


def test_json_list_file_and_limit(tmp_path):
    rows = [json.loads(line) for line in local("distil/science-sciq-v0").read_text().splitlines()]
    path = tmp_path / "sciq.json"
    path.write_text(json.dumps(rows))
    env = distil_envs.make("distil/science-sciq-v0", path=str(path), limit=2).unwrapped
    assert env.num_tasks() == 2


def test_file_without_usable_rows_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text(json.dumps({"question": "q", "choices": {"text": ["a"], "label": ["A"]}, "answerKey": "A",
                                "type": "open-ended-qa", "details": {"level": "L3"}}) + "\n")
    env = distil_envs.make("distil/science-sciknoweval-v0", path=str(path)).unwrapped
    with pytest.raises(DatasetUnavailableError, match="no usable rows"):
        env.num_tasks()
