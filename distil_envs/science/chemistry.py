"""Procedural chemistry: molar mass, stoichiometry (moles, product mass, limiting reagent), balancing.

Masses come from the package's small periodic table (`elements.py`), so every
reference is computed, never typed in. Balancing is checked by counting atoms: any
positive integer coefficients that balance every element and share no common factor
are correct (the lowest-terms solution); a balanced multiple is called out as such.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import reduce
from typing import Any, Sequence

import numpy as np

from distil_envs.answers import extract_final
from distil_envs.core import Feedback, FeedbackKind, Task
from distil_envs.env import ProceduralEnv, stable_task_id
from distil_envs.science.elements import FormulaError, mass_breakdown, molar_mass, parse_formula
from distil_envs.science.quantity_env import Problem, QuantityEnv, fmt, nice

# Balanced reactions (reactants, products, lowest coefficients), grouped by difficulty.
REACTIONS: dict[int, tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]], ...]] = {
    1: ((("H2", "O2"), ("H2O",), (2, 1, 2)), (("N2", "H2"), ("NH3",), (1, 3, 2)),
        (("Na", "Cl2"), ("NaCl",), (2, 1, 2)), (("Mg", "O2"), ("MgO",), (2, 1, 2)),
        (("K", "Br2"), ("KBr",), (2, 1, 2)), (("Al", "O2"), ("Al2O3",), (4, 3, 2)),
        (("SO2", "O2"), ("SO3",), (2, 1, 2)), (("H2O2",), ("H2O", "O2"), (2, 2, 1)),
        (("KClO3",), ("KCl", "O2"), (2, 2, 3)), (("Fe", "Cl2"), ("FeCl3",), (2, 3, 2))),
    2: ((("CH4", "O2"), ("CO2", "H2O"), (1, 2, 1, 2)), (("Zn", "HCl"), ("ZnCl2", "H2"), (1, 2, 1, 1)),
        (("Fe2O3", "CO"), ("Fe", "CO2"), (1, 3, 2, 3)), (("Al", "HCl"), ("AlCl3", "H2"), (2, 6, 2, 3)),
        (("Na", "H2O"), ("NaOH", "H2"), (2, 2, 2, 1)), (("C2H6", "O2"), ("CO2", "H2O"), (2, 7, 4, 6)),
        (("C3H8", "O2"), ("CO2", "H2O"), (1, 5, 3, 4)), (("NaOH", "H2SO4"), ("Na2SO4", "H2O"), (2, 1, 1, 2)),
        (("CaCO3", "HCl"), ("CaCl2", "H2O", "CO2"), (1, 2, 1, 1, 1)), (("NH3", "O2"), ("NO", "H2O"), (4, 5, 4, 6))),
    3: ((("C8H18", "O2"), ("CO2", "H2O"), (2, 25, 16, 18)),
        (("Ca(OH)2", "H3PO4"), ("Ca3(PO4)2", "H2O"), (3, 2, 1, 6)),
        (("Al2(SO4)3", "NaOH"), ("Al(OH)3", "Na2SO4"), (1, 6, 2, 3)),
        (("Cu", "HNO3"), ("Cu(NO3)2", "NO", "H2O"), (3, 8, 3, 2, 4)),
        (("C6H12O6", "O2"), ("CO2", "H2O"), (1, 6, 6, 6)), (("Fe", "H2O"), ("Fe3O4", "H2"), (3, 4, 1, 4)),
        (("KMnO4", "HCl"), ("KCl", "MnCl2", "Cl2", "H2O"), (2, 16, 2, 2, 5, 8)),
        (("Pb(NO3)2",), ("PbO", "NO2", "O2"), (2, 2, 4, 1)), (("C2H5OH", "O2"), ("CO2", "H2O"), (1, 3, 2, 3)),
        (("FeS2", "O2"), ("Fe2O3", "SO2"), (4, 11, 2, 8))),
}

COMPOUNDS = {
    1: ("H2O", "CO2", "NaCl", "CH4", "NH3", "O2", "HCl", "KBr", "MgO", "N2", "CO", "NaOH", "HF", "CaO", "LiCl"),
    2: ("H2SO4", "CaCO3", "C6H12O6", "NaHCO3", "KMnO4", "HNO3", "H3PO4", "C2H5OH", "Na2CO3", "KClO3",
        "C12H22O11", "Fe2O3", "Na2SO4", "CH3COOH"),
    3: ("Ca(OH)2", "Al2(SO4)3", "CuSO4·5H2O", "Mg3(PO4)2", "(NH4)2SO4", "Fe2(SO4)3", "Ca3(PO4)2", "Pb(NO3)2",
        "MgSO4·7H2O", "K4[Fe(CN)6]", "Ba(OH)2·8H2O", "CoCl2·6H2O", "(NH4)3PO4", "Cu(NO3)2"),
}

_QUANTITY_DOC_TAIL = """
    ## Action
    The completion text; the final answer is the last `\\boxed{...}` (else an "Answer:"
    line), a number with its unit, e.g. `\\boxed{18.02 g/mol}`.

    ## Reward
    1 when the quantity matches the reference within `rel_tol` after unit conversion,
    else 0. Feedback kinds: `correct`, `format_error` (no final answer, unreadable
    quantity), `wrong_answer` with a diagnosis (missing unit, wrong dimension such as
    g for g/mol, a known mistake, power of ten, too large / too small). The reference
    appears only at feedback level `correction`.

    ## Episode end
    Terminated when correct or after `max_attempts` (default 1).

    ## Version history
    - v0: initial version.
"""


def _all_reactions() -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]]:
    return [reaction for level in sorted(REACTIONS) for reaction in REACTIONS[level]]


# ------------------------------------------------------------------ molar mass
def _molar_mass_problem(formula: str) -> Problem:
    traps = []
    if re.search(r"[)\]]\d", formula):  # subscript after parentheses ignored
        flat = re.sub(r"([)\]])\d+", r"\1", formula)
        traps.append((molar_mass(flat), "Multiply every atom inside parentheses by the subscript after them."))
    if "·" in formula:
        traps.append((molar_mass(formula.split("·")[0]), "Include the water of crystallisation (the ·xH2O part)."))
    return Problem(f"What is the molar mass of {formula}? Use standard atomic masses.", molar_mass(formula),
                   "g/mol", f"Sum the atomic masses: {mass_breakdown(formula)}.", traps=tuple(traps))


def _compound_template(level: int):
    def template(rng: np.random.Generator) -> Problem:
        return _molar_mass_problem(COMPOUNDS[level][int(rng.integers(len(COMPOUNDS[level])))])

    template.__name__ = f"molar_mass_level{level}"
    return template


class MolarMassEnv(QuantityEnv):
    __doc__ = """Molar mass of a compound from its formula.

    ## Description
    Difficulty 1: simple binary compounds and diatomic gases (H2O, NaCl, NH3).
    Difficulty 2: oxyacids, salts and organics (H2SO4, KMnO4, C6H12O6). Difficulty 3:
    parentheses, brackets and hydrates (Al2(SO4)3, K4[Fe(CN)6], CuSO4·5H2O). The
    tolerance is 0.2 % (rounded atomic masses pass; a missing atom does not).

    ## Observation
    "What is the molar mass of CuSO4·5H2O? Use standard atomic masses. Show your
    reasoning, then give the final answer with its unit in \\boxed{...}."

    ## Arguments
    `difficulty` (1-3), `rel_tol` (default 2e-3), `feedback`, `max_attempts`, `render_mode`.
    """ + _QUANTITY_DOC_TAIL
    family = "molar-mass"
    default_rel_tol = 2e-3
    answer_sig = 5

    templates = {level: (_compound_template(level),) for level in COMPOUNDS}


# ------------------------------------------------------------------ stoichiometry
def _equation(reactants: Sequence[str], products: Sequence[str], coefficients: Sequence[int]) -> str:
    terms = [f"{c} {s}" if c != 1 else s for c, s in zip(coefficients, [*reactants, *products])]
    return " + ".join(terms[: len(reactants)]) + " -> " + " + ".join(terms[len(reactants):])


def grams_to_moles(rng: np.random.Generator) -> Problem:
    formula = COMPOUNDS[2][int(rng.integers(len(COMPOUNDS[2])))]
    m, mm = nice(rng, 2, 250, 0.5), molar_mass(formula)
    return Problem(f"How many moles are in {fmt(m)} g of {formula}?", m / mm, "mol",
                   f"M({formula}) = {mm:.2f} g/mol; n = m / M = {fmt(m)} / {mm:.2f} = {fmt(m / mm)} mol.",
                   traps=((m * mm, "Divide the mass by the molar mass (n = m / M)."),))


def moles_to_grams(rng: np.random.Generator) -> Problem:
    formula = COMPOUNDS[1][int(rng.integers(len(COMPOUNDS[1])))]
    n, mm = nice(rng, 0.05, 8, 0.05), molar_mass(formula)
    return Problem(f"What is the mass of {fmt(n)} mol of {formula}?", n * mm, "g",
                   f"M({formula}) = {mm:.2f} g/mol; m = n M = {fmt(n)} x {mm:.2f} = {fmt(n * mm)} g.",
                   traps=((n / mm, "Multiply the amount by the molar mass (m = n M)."),))


def product_mass(rng: np.random.Generator) -> Problem:
    reactions = [r for r in _all_reactions() if len(r[0]) == 2]
    reactants, products, coefs = reactions[int(rng.integers(len(reactions)))]
    i, j = int(rng.integers(2)), int(rng.integers(len(products)))
    given, wanted = reactants[i], products[j]
    ci, cj = coefs[i], coefs[len(reactants) + j]
    m = nice(rng, 1, 200, 0.5)
    n_given = m / molar_mass(given)
    out = n_given * cj / ci * molar_mass(wanted)
    return Problem(f"For the reaction {_equation(reactants, products, coefs)}, what mass of {wanted} forms from "
                   f"{fmt(m)} g of {given} with the other reactant in excess?", out, "g",
                   f"n({given}) = {fmt(m)} / {molar_mass(given):.2f} = {fmt(n_given)} mol; mole ratio {cj}:{ci} gives "
                   f"{fmt(n_given * cj / ci)} mol of {wanted}; mass = {fmt(out)} g.",
                   traps=(() if ci == cj else ((n_given * molar_mass(wanted), "Use the mole ratio from the "
                                                "balanced equation."),)))


def limiting_reagent(rng: np.random.Generator) -> Problem:
    reactions = [r for r in _all_reactions() if len(r[0]) == 2]
    reactants, products, coefs = reactions[int(rng.integers(len(reactions)))]
    j = int(rng.integers(len(products)))
    wanted, cw = products[j], coefs[len(reactants) + j]
    masses = [nice(rng, 2, 100, 0.5), nice(rng, 2, 100, 0.5)]
    yields = [masses[k] / molar_mass(reactants[k]) / coefs[k] * cw * molar_mass(wanted) for k in range(2)]
    if math.isclose(yields[0], yields[1], rel_tol=0.05):  # no clear limiting reagent: make the first one scarce
        masses[0] = round(masses[0] / 2, 2)
        yields[0] = yields[0] / 2
    limiting = int(np.argmin(yields))
    return Problem(f"For the reaction {_equation(reactants, products, coefs)}, {fmt(masses[0])} g of {reactants[0]} "
                   f"reacts with {fmt(masses[1])} g of {reactants[1]}. What is the maximum mass of {wanted} "
                   f"that can form?", yields[limiting], "g",
                   f"{reactants[0]} alone would give {fmt(yields[0])} g and {reactants[1]} alone {fmt(yields[1])} g "
                   f"of {wanted}; {reactants[limiting]} is the limiting reagent, so {fmt(yields[limiting])} g forms.",
                   traps=((yields[1 - limiting], "That is what the reactant in excess would give; the limiting "
                           "reagent decides the yield."),))


class StoichiometryEnv(QuantityEnv):
    __doc__ = """Stoichiometry: grams and moles, product mass, limiting reagent.

    ## Description
    Difficulty 1: grams to moles and moles to grams. Difficulty 2: mass of a product
    from a mass of one reactant through the balanced equation. Difficulty 3: limiting
    reagent: two reactant masses, the maximum product mass. Diagnostic feedback names
    typical mistakes (multiplying instead of dividing by M, ignoring the mole ratio,
    using the reactant in excess) without the value.

    ## Observation
    "For the reaction 2 H2 + O2 -> 2 H2O, 4 g of H2 reacts with 40 g of O2. What is the
    maximum mass of H2O that can form? Show your reasoning, then give the final answer
    with its unit in \\boxed{...}."

    ## Arguments
    `difficulty` (1-3), `rel_tol` (default 1e-2), `feedback`, `max_attempts`, `render_mode`.
    """ + _QUANTITY_DOC_TAIL
    family = "stoichiometry"
    templates = {1: (grams_to_moles, moles_to_grams), 2: (product_mass,), 3: (limiting_reagent,)}


# ------------------------------------------------------------------ balancing
def _coefficients(text: str, species: Sequence[str], n_reactants: int) -> tuple[list[int] | None, str]:
    """Submitted coefficients, from a list ("2, 1, 2") or an equation ("2 H2 + O2 -> 2 H2O")."""
    text = re.sub(r"\\(?:text|mathrm|ce)\s*\{([^{}]*)\}", r"\1", text)
    text = text.replace("_", "").replace("{", "").replace("}", "").replace("$", "")
    text = re.sub(r"\\[,;: ]|~", " ", text)
    text = re.sub(r"\\(?:rightarrow|longrightarrow|to)|→|⟶|=>|->|=", " -> ", text)
    if "->" not in text:
        if not re.fullmatch(r"\s*\d+(?:\s*[,;:]\s*\d+|\s+\d+)*\s*", text):
            return None, "write the coefficients as a list such as \\boxed{1, 2, 3}, or the balanced equation"
        return [int(x) for x in re.findall(r"\d+", text)], ""
    sides = text.split("->")
    if len(sides) != 2:
        return None, "the equation must have exactly one arrow"
    found: list[int] = []
    for side, names in ((sides[0], species[:n_reactants]), (sides[1], species[n_reactants:])):
        terms = [t.strip() for t in side.split(" + ") if t.strip()] if " + " in side else \
            [t.strip() for t in side.split("+") if t.strip()]
        if len(terms) != len(names):
            return None, f"the equation should have {len(names)} species on that side, in the question's order"
        for term, name in zip(terms, names):
            match = re.fullmatch(r"(\d*)\s*(\S+)", term)
            try:
                ok = match is not None and parse_formula(match.group(2)) == parse_formula(name)
            except FormulaError:
                ok = False
            if not ok:
                return None, f"expected {name} where the equation has {term[:30]!r} (keep the question's order)"
            found.append(int(match.group(1) or 1))
    return found, ""


def atom_table(species: Sequence[str], coefficients: Sequence[int], n_reactants: int) -> dict[str, tuple[int, int]]:
    """element -> (atoms on the left, atoms on the right) for these coefficients."""
    left, right = Counter(), Counter()
    for k, (name, c) in enumerate(zip(species, coefficients)):
        side = left if k < n_reactants else right
        for element, n in parse_formula(name).items():
            side[element] += c * n
    return {el: (left[el], right[el]) for el in sorted(set(left) | set(right))}


class BalancingEnv(ProceduralEnv):
    """Balance a chemical equation with the lowest whole-number coefficients.

    ## Description
    Difficulty 1: two or three species, small coefficients (H2 + O2 -> H2O).
    Difficulty 2: combustion and acid-metal reactions with four or five species.
    Difficulty 3: parentheses, redox, large coefficients (C8H18 combustion, KMnO4 +
    HCl). The species order on each side is shuffled per task.

    ## Observation
    "Balance the equation: O2 + H2 -> H2O. Give the lowest whole-number coefficients in
    the order the species appear, e.g. \\boxed{a, b, c}; write 1 where no coefficient is
    needed."

    ## Action
    The completion; the final answer is the last `\\boxed{...}` (else an "Answer:" line),
    either a list of integers or the balanced equation itself ("2 H2 + O2 -> 2 H2O").

    ## Reward
    1 when every element balances and the coefficients are positive integers with no
    common factor, else 0. Feedback kinds: `correct`; `format_error` (no answer, wrong
    number of coefficients, unreadable equation); `wrong_answer`, whose diagnostic
    message lists the atoms of each element on each side for the submitted
    coefficients, or says "balanced but not in lowest terms". The balanced equation
    appears only at feedback level `correction`.

    ## Episode end
    Terminated when correct or after `max_attempts` (default 1).

    ## Arguments
    `difficulty` (1-3), `feedback`, `max_attempts`, `render_mode`.

    ## Version history
    - v0: initial version.
    """

    domain = "science"
    feedback_kinds = (FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)
    answer_format = ("End with one whole-number coefficient per species, in the question's order, in "
                     "\\boxed{...}, e.g. \\boxed{a, b, c} with numbers for a, b, c.")

    def generate(self, rng: np.random.Generator) -> Task:
        reactions = REACTIONS[self.difficulty]
        reactants, products, coefs = reactions[int(rng.integers(len(reactions)))]
        left = [int(k) for k in rng.permutation(len(reactants))]
        right = [int(k) for k in rng.permutation(len(products))]
        species = [reactants[k] for k in left] + [products[k] for k in right]
        answer = [coefs[k] for k in left] + [coefs[len(reactants) + k] for k in right]
        n = len(reactants)
        skeleton = " + ".join(species[:n]) + " -> " + " + ".join(species[n:])
        letters = ", ".join("abcdefgh"[: len(species)])
        prompt = (f"Balance the equation: {skeleton}\n\nGive the lowest whole-number coefficients in the order the "
                  f"species appear, as \\boxed{{{letters}}}; write 1 where no coefficient is needed.")
        table = atom_table(species, answer, n)
        solution = (f"Balanced: {_equation(species[:n], species[n:], answer)}. Atom check: "
                    + ", ".join(f"{el} {l} = {r}" for el, (l, r) in table.items()) + ".")
        return Task(task_id=stable_task_id("balancing", skeleton), prompt=prompt,
                    answer=", ".join(map(str, answer)), solution=solution,
                    data={"species": species, "n_reactants": n},
                    metadata={"family": "balancing", "difficulty": self.difficulty, "source": "procedural"})

    def check(self, task: Task, completion: str) -> Feedback:
        species, n = list(task.data["species"]), int(task.data["n_reactants"])
        final = extract_final(completion)
        if final is None:
            return Feedback.format_error(f"No final answer found. {self.answer_format}")
        coefficients, problem = _coefficients(final[:500], species, n)
        if coefficients is None:
            return Feedback.format_error(f"Could not read your coefficients: {problem}.")
        if len(coefficients) != len(species):
            return Feedback.format_error(f"There are {len(species)} species, so give {len(species)} coefficients; "
                                         f"you gave {len(coefficients)}.")
        if any(c <= 0 or c > 10_000 for c in coefficients):
            return Feedback.wrong("Every coefficient must be a positive whole number (at least 1).")
        table = atom_table(species, coefficients, n)
        shown = ", ".join(map(str, coefficients))
        if all(l == r for l, r in table.values()):
            factor = reduce(math.gcd, coefficients)
            if factor > 1:
                return Feedback.wrong(f"With coefficients {shown} the equation is balanced but not in lowest terms: "
                                      f"every coefficient is divisible by {factor}.", details={"verdict": "multiple"})
            return Feedback.right()
        lines = [f"  {el}: {l} on the left, {r} on the right" + ("" if l == r else "  <- not balanced")
                 for el, (l, r) in table.items()]
        return Feedback.wrong(f"With coefficients {shown} the atoms do not balance:\n" + "\n".join(lines),
                              details={"verdict": "unbalanced", "atoms": {el: list(v) for el, v in table.items()}})

    def reference_completion(self, task: Task) -> str:
        return f"{task.solution}\n\nFinal answer: \\boxed{{{task.answer}}}"

    def wrong_completion(self, task: Task) -> str:
        """A near miss: the right coefficients except the last one, off by one."""
        coefficients = [int(c) for c in task.answer.split(",")]
        coefficients[-1] += 1
        return f"Balancing atom by atom gives \\boxed{{{', '.join(map(str, coefficients))}}}."

    def describe_atoms(self, task: Task, coefficients: Sequence[int]) -> dict[str, Any]:
        """Atom counts per element for `coefficients` (used by tests and tools)."""
        return atom_table(list(task.data["species"]), coefficients, int(task.data["n_reactants"]))
