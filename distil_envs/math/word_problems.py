"""Multi-step word problems with named intermediate quantities."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from distil_envs.core import Feedback, Task
from distil_envs.env import stable_task_id
from distil_envs.math.base import BOXED_INSTRUCTION, MathProceduralEnv, num

NAMES = ("Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam")


@dataclass(frozen=True)
class Problem:
    text: str  # the story and the question
    steps: tuple[tuple[str, Fraction, str], ...]  # (quantity name, value, worked line); the last is the answer
    unit: str  # what the answer counts ("dollars", "bags")
    slips: tuple[tuple[str, Fraction], ...] = ()  # (what went wrong, the value it gives)


def shopping(rng: np.random.Generator, level: int) -> Problem:
    name = NAMES[int(rng.integers(len(NAMES)))]
    n1, p1, n2, p2 = (int(v) for v in rng.integers([2, 2, 2, 5], [6, 5 + 5 * level, 5, 10 + 10 * level]))
    cost1, cost2 = n1 * p1, n2 * p2
    total = cost1 + cost2
    steps = [("cost of the notebooks", Fraction(cost1), f"Notebooks: {n1} × ${p1} = ${cost1}."),
             ("cost of the backpacks", Fraction(cost2), f"Backpacks: {n2} × ${p2} = ${cost2}."),
             ("total price", Fraction(total), f"Total: ${cost1} + ${cost2} = ${total}.")]
    slips = [("forgot the backpacks", Fraction(cost1)), ("forgot the notebooks", Fraction(cost2))]
    story = f"{name} buys {n1} notebooks at ${p1} each and {n2} backpacks at ${p2} each."
    paid = total
    if level >= 2:
        percent = int(rng.choice([10, 20, 25, 50]))
        discount = Fraction(total * percent, 100)
        paid = total - discount
        story += f" The shop takes {percent}% off the total price."
        steps += [("discount", discount, f"Discount: {percent}% of ${total} = ${num(discount)}."),
                  ("price after the discount", paid, f"After the discount: ${total} - ${num(discount)} = ${num(paid)}.")]
        slips.append(("forgot the discount", Fraction(total)))
    if level >= 3:
        bill = int(np.ceil(float(paid) / 50) * 50 + 50 * int(rng.integers(0, 2)))
        change = bill - paid
        story += f" {name} pays with ${bill} in $50 notes."
        steps.append(("change", change, f"Change: ${bill} - ${num(paid)} = ${num(change)}."))
        slips.append(("forgot the discount", bill - Fraction(total)))
        question = f"How much change, in dollars, does {name} get back?"
    else:
        question = f"How much, in dollars, does {name} pay?"
    return Problem(f"{story} {question}", tuple(steps), "dollars", tuple(slips))


def travel(rng: np.random.Generator, level: int) -> Problem:
    name = NAMES[int(rng.integers(len(NAMES)))]
    s1, s2 = (int(v) for v in 10 * rng.integers(3, 12, size=2))
    t1, t2 = (int(v) for v in rng.integers(1, 3 + level, size=2))
    d1, d2 = s1 * t1, s2 * t2
    steps = [("distance of the first leg", Fraction(d1), f"First leg: {s1} km/h × {t1} h = {d1} km."),
             ("distance of the second leg", Fraction(d2), f"Second leg: {s2} km/h × {t2} h = {d2} km."),
             ("total distance", Fraction(d1 + d2), f"Total distance: {d1} + {d2} = {d1 + d2} km.")]
    slips = [("used only the first leg", Fraction(d1)), ("used only the second leg", Fraction(d2))]
    story = f"{name} drives at {s1} km/h for {t1} hours, then at {s2} km/h for {t2} hours."
    question = "How many kilometres does the trip cover?"
    if level >= 2 and (d1 + d2) % (t1 + t2) == 0:
        average = Fraction(d1 + d2, t1 + t2)
        steps += [("total time", Fraction(t1 + t2), f"Total time: {t1} + {t2} = {t1 + t2} h."),
                  ("average speed", average, f"Average speed: {d1 + d2} km / {t1 + t2} h = {num(average)} km/h.")]
        slips.append(("averaged the two speeds instead of dividing total distance by total time",
                      Fraction(s1 + s2, 2)))
        question = "What is the average speed of the whole trip, in km/h?"
    if level >= 3 and question.startswith("How many"):
        litres = Fraction(d1 + d2, 10) * int(rng.integers(5, 9))
        steps.append(("fuel used", litres, f"Fuel: {d1 + d2} km × {num(litres / (d1 + d2) * 100)} L / 100 km "
                                           f"= {num(litres)} L."))
        story += f" The car uses {num(litres / (d1 + d2) * 100)} litres per 100 km."
        question = "How many litres of fuel does the trip use?"
    return Problem(f"{story} {question}", tuple(steps), "km/h" if "speed" in question else
                   ("litres" if "litres" in question else "kilometres"), tuple(slips))


def baking(rng: np.random.Generator, level: int) -> Problem:
    base = int(rng.integers(2, 7))
    people = base * int(rng.integers(2, 3 + 2 * level))
    flour = 50 * int(rng.integers(2, 8))
    needed = Fraction(flour * people, base)
    steps = [("number of batches", Fraction(people, base), f"Batches: {people} / {base} = {people // base}."),
             ("flour needed", needed, f"Flour: {people // base} × {flour} g = {num(needed)} g.")]
    slips = [("used the flour for one batch only", Fraction(flour))]
    story = f"A recipe for {base} people needs {flour} g of flour. The recipe is made for {people} people."
    question, unit = "How many grams of flour are needed?", "grams"
    if level >= 2:
        bag = int(rng.choice([500, 1000]))
        bags = -(-needed // bag)
        steps.append(("bags of flour", Fraction(bags), f"Bags: {num(needed)} / {bag} rounded up = {bags}."))
        slips.append(("did not round up to whole bags", needed / bag))
        story += f" Flour is sold in {bag} g bags."
        question, unit = "How many bags of flour must be bought?", "bags"
    if level >= 3:
        price = int(rng.integers(2, 6))
        steps.append(("cost of the flour", Fraction(int(bags) * price), f"Cost: {int(bags)} × ${price} = ${int(bags) * price}."))
        slips.append(("did not round up to whole bags", needed / bag * price))
        story += f" Each bag costs ${price}."
        question, unit = "How many dollars does the flour cost?", "dollars"
    return Problem(f"{story} {question}", tuple(steps), unit, tuple(slips))


def ages(rng: np.random.Generator, level: int) -> Problem:
    a, b, c = (NAMES[i] for i in rng.choice(len(NAMES), size=3, replace=False))
    age_c = int(rng.integers(5, 15))
    fewer, times = int(rng.integers(1, age_c)), int(rng.integers(2, 3 + level))
    age_b = age_c - fewer
    age_a = times * age_b
    steps = [(f"{b}'s age", Fraction(age_b), f"{b}: {age_c} - {fewer} = {age_b}."),
             (f"{a}'s age", Fraction(age_a), f"{a}: {times} × {age_b} = {age_a}.")]
    slips = [(f"multiplied {c}'s age instead of {b}'s", Fraction(times * age_c))]
    story = f"{c} is {age_c}. {b} is {fewer} year{'s' * (fewer > 1)} younger than {c}, and {a} is {times} times as old as {b}."
    question = f"How old is {a}?"
    if level >= 2:
        total = age_a + age_b + age_c
        steps.append(("sum of the ages", Fraction(total), f"Sum: {age_a} + {age_b} + {age_c} = {total}."))
        slips.append((f"left out {c}", Fraction(age_a + age_b)))
        question = "What is the sum of their three ages?"
    if level >= 3:
        years = int(rng.integers(2, 10))
        steps.append((f"sum of the ages in {years} years", Fraction(total + 3 * years),
                      f"In {years} years each is {years} older: {total} + 3 × {years} = {total + 3 * years}."))
        slips.append(("added the years only once", Fraction(total + years)))
        question = f"What will the sum of their three ages be in {years} years?"
    return Problem(f"{story} {question}", tuple(steps), "years", tuple(slips))


TEMPLATES = (shopping, travel, baking, ages)


class WordProblemsEnv(MathProceduralEnv):
    """Multi-step word problems (shopping, travel, recipes, ages).

    Description:
        A short story with two to six steps of arithmetic, e.g. prices, a discount and the
        change from a note; distances, times and average speed; scaling a recipe and
        buying whole bags. Every intermediate quantity has a name.

    Observation:
        The prompt: the story, one question naming the unit, and the \\boxed{...} instruction.

    Action:
        The completion text; the answer is the last \\boxed{...}, else an "Answer:" line,
        else the last number. Units, "$" and thousands separators are ignored.

    Reward:
        1 if the number is exactly right, else 0.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no final answer / not a number.
        wrong_answer (diagnostic): which intermediate quantity the answer equals ("that is
        the total price; the question asks for the change"), a recognised slip ("it looks
        like you forgot the discount", "did not round up to whole bags"), "the answer
        should be a whole number of bags", too large / too small. The steps and the value
        appear only at level `correction`.

    Arguments:
        difficulty: 1 (two or three steps) to 3 (up to six steps, discounts, rounding up,
        averages).

    Version history:
        v0: initial version.
    """

    family = "word_problems"
    max_difficulty = 3

    def generate(self, rng: np.random.Generator) -> Task:
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        problem = template(rng, self.difficulty)
        answer = problem.steps[-1][1]
        return Task(
            task_id=stable_task_id("math-word-problems", problem.text),
            prompt=f"{problem.text}\n\n{BOXED_INSTRUCTION}",
            answer=num(answer) if answer.denominator == 1 else str(float(answer)),
            solution="\n".join(line for _, _, line in problem.steps),
            data={"problem": problem},
            metadata=self.metadata_for(template=template.__name__, steps=len(problem.steps)),
        )

    def check(self, task: Task, completion: str) -> Feedback:
        verdict, early = self.screen(task, completion, "a number")
        if early is not None:
            return early
        problem: Problem = task.data["problem"]
        gold, got = problem.steps[-1][1], verdict.value
        parts = []
        if got.denominator != 1 and gold.denominator == 1:
            parts.append(f"The answer should be a whole number of {problem.unit}.")
        for name, value, _ in problem.steps[:-1]:
            if value == got and value != gold:
                parts.append(f"That is the {name}; the question asks for the {problem.steps[-1][0]}.")
                break
        else:
            for slip, value in problem.slips:
                if value == got and value != gold:
                    parts.append(f"It looks like you {slip}.")
                    break
        parts.append(f"Your answer is too {'large' if got > gold else 'small'}.")
        return self.wrong(task, parts)

    def wrong_completion(self, task: Task) -> str:
        problem: Problem = task.data["problem"]
        gold = problem.steps[-1][1]
        near = next((v for _, v in reversed(problem.slips) if v != gold and v > 0), gold + 1)  # the last step's slip
        return f"Putting it together, the answer is {num(near)} {problem.unit}.\n\n\\boxed{{{num(near)}}}"
