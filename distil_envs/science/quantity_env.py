"""`QuantityEnv`: the shared base of the procedural science families whose answer is a quantity.

A family is a table of problem templates, one list per difficulty. A template is a
function `rng -> Problem` (question text, exact value, unit, worked solution, and
optional traps: values a typical mistake produces, with a hint that names the
mistake but not the answer). This class turns a `Problem` into a `Task` and checks
completions with `quantities.check_quantity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from distil_envs.core import Feedback, FeedbackKind, Task
from distil_envs.env import ProceduralEnv, stable_task_id
from distil_envs.science.quantities import DEFAULT_REL_TOL, check_quantity, format_value


@dataclass(frozen=True)
class Problem:
    """One generated question whose answer is `value` in `unit` (a pint-readable unit string)."""

    question: str
    value: float
    unit: str
    solution: str
    traps: tuple[tuple[float, str], ...] = ()
    require_unit: bool = False  # unit conversion: the answer must be in `unit` itself


Template = Callable[[np.random.Generator], Problem]

_FEEDBACK_KINDS = (FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)


def nice(rng: np.random.Generator, low: float, high: float, step: float = 1.0) -> float:
    """A uniformly drawn multiple of `step` in [low, high] (numbers a textbook would print)."""
    count = int(round((high - low) / step))
    return round(low + step * int(rng.integers(count + 1)), 10)


def fmt(value: float, sig: int = 3) -> str:
    """A number as printed in questions and answers (3 significant figures by default)."""
    return format_value(value, sig)


class QuantityEnv(ProceduralEnv):
    """Base class: subclasses set `templates` (difficulty -> list of templates) and `family`.

    Arguments beyond `ProceduralEnv`'s: `rel_tol`, the relative tolerance of the check
    (default `default_rel_tol`, 1e-2 for physics; answers are printed with `answer_sig`
    significant figures, well inside it).
    """

    domain = "science"
    family: ClassVar[str] = ""
    templates: ClassVar[Mapping[int, Sequence[Template]]] = {}
    default_rel_tol: ClassVar[float] = DEFAULT_REL_TOL
    answer_sig: ClassVar[int] = 3  # significant figures of the printed answer (well inside rel_tol)
    feedback_kinds = _FEEDBACK_KINDS
    answer_format = "End with the value and its unit in \\boxed{...}: a number followed by a unit such as m/s or kJ."

    def __init__(self, *, rel_tol: float | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        rel_tol = self.default_rel_tol if rel_tol is None else rel_tol
        if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float)) or not 0 < rel_tol < 0.5:
            raise ValueError(f"rel_tol={rel_tol!r} must be a number in (0, 0.5), e.g. 1e-2")
        self.rel_tol = float(rel_tol)

    def generate(self, rng: np.random.Generator) -> Task:
        choices = self.templates[self.difficulty]
        template = choices[int(rng.integers(len(choices)))]
        problem = template(rng)
        answer = f"{fmt(problem.value, self.answer_sig)} {problem.unit}"
        prompt = (f"{problem.question}\n\nShow your reasoning, then give the final answer with its unit "
                  f"in \\boxed{{...}}.")
        return Task(
            task_id=stable_task_id(f"{self.family}", problem.question),
            prompt=prompt, answer=answer, solution=problem.solution,
            data={"value": problem.value, "unit": problem.unit, "require_unit": problem.require_unit,
                  "traps": [list(trap) for trap in problem.traps]},
            metadata={"family": self.family, "difficulty": self.difficulty, "template": template.__name__,
                      "source": "procedural"},
        )

    def check(self, task: Task, completion: str) -> Feedback:
        verdict = check_quantity(completion, float(task.data["value"]), str(task.data["unit"]),
                                 rel_tol=self.rel_tol, require_unit=bool(task.data.get("require_unit")),
                                 traps=[(float(v), str(h)) for v, h in task.data.get("traps", ())])
        if verdict.correct:
            return Feedback.right(details={"verdict": verdict.kind})
        if verdict.kind in ("no_answer", "unparseable"):
            return Feedback.format_error(verdict.message, details={"verdict": verdict.kind})
        return Feedback.wrong(verdict.message, details={"verdict": verdict.kind})

    def wrong_completion(self, task: Task) -> str:
        """A near miss: the template's typical mistake, else a slipped power of ten (a prefix mistake)."""
        traps = task.data.get("traps") or ()
        value = float(traps[0][0]) if traps else float(task.data["value"]) * 10
        return f"{task.solution}\n\nSo the answer is \\boxed{{{fmt(value)} {task.data['unit']}}}."
