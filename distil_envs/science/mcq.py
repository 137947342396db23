"""Multiple-choice science from datasets: SciKnowEval (L3 MCQ), GPQA-Diamond, SciQ, ARC-Challenge.

Every row becomes a question with lettered options; the completion must name exactly
one letter (`\\boxed{B}`, "Answer: B", "the answer is (B)", or a lone "(B)"). Where
the dataset stores the correct answer in a fixed column (GPQA, SciQ) the options are
shuffled with a generator seeded by the row's content, so the order is the same on
every machine and run and the correct letter is not always A.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, ClassVar, Sequence

import numpy as np

from distil_envs.answers import extract_answer_line, extract_boxed
from distil_envs.core import Feedback, FeedbackKind, Task
from distil_envs.datasets import DatasetEnv
from distil_envs.env import stable_task_id
from distil_envs.errors import DatasetUnavailableError

LETTERS = "ABCDEFGHIJ"
_ANSWER_IS = re.compile(r"(?i:\b(?:the\s+)?(?:correct\s+|final\s+|best\s+)?(?:answer|option|choice)\s+is)\s*:?\s*(.{1,80})")
_SEVERAL = re.compile(r"^\)?\s*(?:,|;|/|&|\+|\band\b|\bor\b)\s*\(?[A-J]\)?(?![A-Za-z])")


def _clean(text: str) -> str:
    text = re.sub(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}", r"\1", text)
    text = text.replace("**", "").replace("$", "").strip()
    text = re.sub(r"^(?:option|choice)\s+", "", text, flags=re.IGNORECASE)
    return text.strip().rstrip(".").strip()


def parse_choice(text: str, letters: str, options: Sequence[str] = ()) -> tuple[str | None, str]:
    """(letter, problem) for a final-answer string; problem is "" / "none" / "several" / "not_an_option"."""
    text = _clean(text)
    if not text:
        return None, "none"
    if re.fullmatch(r"[A-J]{2,4}", text) and len(set(text)) == len(text):
        return None, "several"
    match = re.match(r"^\(?([A-Ja-j])\)?(?=$|[\s.):,;/&+])", text)
    if match and (match.group(1).isupper() or len(text) <= 3):
        if _SEVERAL.match(text[match.end():]):
            return None, "several"
        letter = match.group(1).upper()
        return (letter, "") if letter in letters else (None, "not_an_option")
    normalized = re.sub(r"\s+", " ", text).lower()
    for letter, option in zip(letters, options):
        if normalized == re.sub(r"\s+", " ", option.strip().rstrip(".")).lower():
            return letter, ""
    return None, "none"


def extract_choice(completion: str, letters: str, options: Sequence[str] = ()) -> tuple[str | None, str]:
    """The single option letter a completion gives: boxed answer, answer line, "the answer is",
    a lone letter, else the one distinct "(X)" it mentions."""
    for final in (extract_boxed(completion), extract_answer_line(completion)):
        if final is not None:
            return parse_choice(final, letters, options)
    for phrase in reversed(_ANSWER_IS.findall(completion)):  # the last phrase that names something
        letter, problem = parse_choice(phrase.split("\n")[0], letters, options)
        if problem != "none":
            return letter, problem
    stripped = completion.strip()
    if len(stripped) <= 4:
        return parse_choice(stripped, letters, options)
    mentioned = sorted(set(re.findall(r"\(([A-J])\)", completion)) & set(letters))
    if len(mentioned) == 1:
        return mentioned[0], ""
    return (None, "several") if mentioned else (None, "none")


def row_rng(*parts: Any) -> np.random.Generator:
    """A generator seeded by a row's content (stable across runs, machines and row order)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class MCQEnv(DatasetEnv):
    """Shared base: subclasses implement `row_options(row) -> (question, options, correct index, explanation)`."""

    domain = "science"
    short_name: ClassVar[str] = "mcq"
    feedback_kinds = (FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)
    answer_format = "End with the letter of the one correct option in \\boxed{...}, e.g. \\boxed{X} for option (X)."

    def row_options(self, row: dict[str, Any]) -> tuple[str, list[str], int, str]:
        raise NotImplementedError

    def row_to_task(self, row: dict[str, Any], index: int) -> Task:
        question, options, correct, explanation = self.row_options(row)
        letters = LETTERS[: len(options)]
        listing = "\n".join(f"({letter}) {str(option).strip()}" for letter, option in zip(letters, options))
        prompt = (f"{str(question).strip()}\n\n{listing}\n\nThink it through, then give the letter of the one correct "
                  f"option in \\boxed{{}}.")
        answer = letters[correct]
        solution = f"The correct option is ({answer}) {str(options[correct]).strip()}."
        if explanation and str(explanation).strip():
            solution += f"\n\n{str(explanation).strip()}"
        return Task(task_id=stable_task_id(self.short_name, question, *options), prompt=prompt, answer=answer,
                    solution=solution, data={"options": [str(o) for o in options], "letters": letters},
                    metadata={"source": self.source_name(), "index": index, "family": self.short_name})

    def check(self, task: Task, completion: str) -> Feedback:
        letters, options = str(task.data["letters"]), list(task.data["options"])
        letter, problem = extract_choice(completion, letters, options)
        if problem == "several":
            return Feedback.wrong("Your answer names several options; choose exactly one letter.",
                                  details={"verdict": "several"})
        if problem == "not_an_option":
            return Feedback.format_error(f"That letter is not one of the options ({', '.join(letters)}). "
                                         f"{self.answer_format}")
        if letter is None:
            return Feedback.format_error(f"No option letter found. {self.answer_format}")
        if letter == task.answer:
            return Feedback.right(details={"chosen": letter})
        chosen = options[letters.index(letter)].strip()
        chosen = chosen if len(chosen) <= 200 else chosen[:200] + "..."
        return Feedback.wrong(f"You chose ({letter}) {chosen}. That option is not correct.",
                              details={"chosen": letter})

    def reference_completion(self, task: Task) -> str:
        return f"{task.solution}\n\nThe answer is \\boxed{{{task.answer}}}."

    def wrong_completion(self, task: Task) -> str:
        """A confident pick of the next option after the correct one."""
        letters = str(task.data["letters"])
        wrong = letters[(letters.index(task.answer) + 1) % len(letters)]
        return f"Weighing the options, ({wrong}) fits best.\n\nThe answer is \\boxed{{{wrong}}}."


_MCQ_DOC = """
    ## Observation
    The question, then one option per line as "(A) ...", then "Think it through, then
    give the letter of the one correct option in \\boxed{}."

    ## Action
    The completion. The letter is read from the last `\\boxed{...}`, else an "Answer:"
    line, else "the answer is B", else a completion that is just the letter, else the
    one distinct "(B)" it mentions. Naming several letters ("A or C", "\\boxed{AC}")
    is never correct.

    ## Reward
    1 for the correct letter, else 0. Feedback kinds: `correct`, `format_error` (no
    letter, or a letter that is not an option), `wrong_answer` ("You chose (C) ...
    That option is not correct.", or "several options"). Diagnostic feedback never
    says which option is right; at level `correction` the right letter, its text and
    the dataset's explanation (where it has one) are shown.

    ## Episode end
    Terminated when correct or after `max_attempts` (default 1).

    ## Arguments
    `split`, `path` (a local JSON/JSONL/CSV/parquet file in the Hub schema instead of
    the Hub), `limit`, `feedback`, `max_attempts`, `render_mode`.

    ## Version history
    - v0: initial version.
"""


class SciKnowEvalEnv(MCQEnv):
    __doc__ = """SciKnowEval level L3 ("thinking profoundly") multiple-choice questions.

    ## Description
    Rows of `hicai-zju/SciKnowEval` (configs Biology, Chemistry, Physics, Material;
    split `test`) whose `details.level` is "L3" and whose `type` is a multiple-choice
    type ("mcq-4-choices", "mcq-2-choices"): scientific calculation, reaction and
    property prediction. Options come from `choices.text`, the key from `answerKey`.
    The dataset has no explanations, so the correction is the right option only.
    """ + _MCQ_DOC
    hub_id = "hicai-zju/SciKnowEval"
    hub_configs = ("Biology", "Chemistry", "Physics", "Material")
    default_split = "test"
    short_name = "sciknoweval"

    def keep_row(self, row: dict[str, Any]) -> bool:
        details = row.get("details") or {}
        choices = row.get("choices") or {}
        return (str(details.get("level", "")).upper() == "L3" and str(row.get("type", "")).startswith("mcq")
                and bool(choices.get("text")) and bool(row.get("answerKey")))

    def row_options(self, row: dict[str, Any]) -> tuple[str, list[str], int, str]:
        return _labelled_choices(row)


class GPQADiamondEnv(MCQEnv):
    __doc__ = """GPQA-Diamond: graduate-level, "Google-proof" biology, chemistry and physics questions.

    ## Description
    Rows of `Idavidrein/gpqa`, config `gpqa_diamond`, split `train` (the only split;
    198 questions; the dataset is gated: accept its terms on the Hub, or pass `path=`).
    The four options ("Correct Answer", "Incorrect Answer 1-3") are shuffled with a
    generator seeded by the row's content, so each row always shows the same order.
    The correction includes the row's "Explanation".
    """ + _MCQ_DOC
    hub_id = "Idavidrein/gpqa"
    hub_configs = ("gpqa_diamond",)
    default_split = "train"
    short_name = "gpqa-diamond"

    def row_options(self, row: dict[str, Any]) -> tuple[str, list[str], int, str]:
        options = [str(row["Correct Answer"]).strip()] + [str(row[f"Incorrect Answer {k}"]).strip() for k in (1, 2, 3)]
        return _shuffled(row["Question"], options, row.get("Explanation") or "", row.get("Record ID", ""))


class SciQEnv(MCQEnv):
    __doc__ = """SciQ: crowd-sourced school science questions with four options.

    ## Description
    Rows of `allenai/sciq` (splits train / validation / test; default `test`). The
    options ("correct_answer", "distractor1-3") are shuffled with a generator seeded by
    the row's content. The correction includes the row's "support" paragraph.
    """ + _MCQ_DOC
    hub_id = "allenai/sciq"
    default_split = "test"
    short_name = "sciq"

    def row_options(self, row: dict[str, Any]) -> tuple[str, list[str], int, str]:
        options = [str(row["correct_answer"]).strip()] + [str(row[f"distractor{k}"]).strip() for k in (1, 2, 3)]
        return _shuffled(row["question"], options, row.get("support") or "")


class ARCChallengeEnv(MCQEnv):
    __doc__ = """ARC-Challenge: grade-school science questions that retrieval and co-occurrence fail on.

    ## Description
    Rows of `allenai/ai2_arc`, config `ARC-Challenge` (splits train / validation /
    test; default `test`). Options keep the dataset's order; numeric labels ("1"-"4"),
    used by a few rows, are shown as letters A-D. No explanations.
    """ + _MCQ_DOC
    hub_id = "allenai/ai2_arc"
    hub_configs = ("ARC-Challenge",)
    default_split = "test"
    short_name = "arc-challenge"

    def row_options(self, row: dict[str, Any]) -> tuple[str, list[str], int, str]:
        return _labelled_choices(row)


def _labelled_choices(row: dict[str, Any]) -> tuple[str, list[str], int, str]:
    """Question, options and key from the `choices: {text, label}` / `answerKey` schema."""
    choices = row["choices"]
    texts, labels = [str(t) for t in choices["text"]], [str(label).strip() for label in choices["label"]]
    key = str(row["answerKey"]).strip()
    if key not in labels:
        raise DatasetUnavailableError(f"row {row.get('id', row.get('question', ''))!r}: answerKey {key!r} is not "
                                      f"one of the labels {labels}")
    return str(row["question"]), texts, labels.index(key), ""


def _shuffled(question: str, options: list[str], explanation: str, *salt: Any) -> tuple[str, list[str], int, str]:
    """Options in a row-seeded order; the correct one is `options[0]` on input."""
    order = [int(k) for k in row_rng(question, *options, *salt).permutation(len(options))]
    return str(question), [options[k] for k in order], order.index(0), str(explanation)

