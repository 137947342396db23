"""Chemistry: formula parser, molar masses, stoichiometry and balancing feedback."""

import math
from collections import Counter
from functools import reduce

import pytest

import distil_envs
from distil_envs.science.chemistry import COMPOUNDS, REACTIONS, atom_table
from distil_envs.science.elements import FormulaError, molar_mass, parse_formula


def make(env_id, **kwargs):
    return distil_envs.make(env_id, **kwargs).unwrapped


@pytest.mark.parametrize("formula, counts", [
    ("H2O", {"H": 2, "O": 1}),
    ("Ca(OH)2", {"Ca": 1, "O": 2, "H": 2}),
    ("Al2(SO4)3", {"Al": 2, "S": 3, "O": 12}),
    ("(NH4)2SO4", {"N": 2, "H": 8, "S": 1, "O": 4}),
    ("K4[Fe(CN)6]", {"K": 4, "Fe": 1, "C": 6, "N": 6}),
    ("CuSO4·5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}),
    ("CuSO4.5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}),
    ("Ba(OH)2*8H2O", {"Ba": 1, "O": 10, "H": 18}),
    ("CH3COOH", {"C": 2, "H": 4, "O": 2}),
])
def test_parse_formula(formula, counts):
    assert parse_formula(formula) == Counter(counts)


@pytest.mark.parametrize("bad", ["", "Xx2", "Ca(OH", "OH)2", "2", "h2o", "NaCl!"])
def test_parse_formula_errors(bad):
    with pytest.raises(FormulaError):
        parse_formula(bad)


@pytest.mark.parametrize("formula, grams", [("H2O", 18.015), ("CO2", 44.009), ("NaCl", 58.44),
                                            ("C6H12O6", 180.156), ("CuSO4·5H2O", 249.68), ("Ca3(PO4)2", 310.17)])
def test_molar_mass_reference_values(formula, grams):
    assert molar_mass(formula) == pytest.approx(grams, rel=1e-4)


def test_every_compound_parses():
    for level in COMPOUNDS.values():
        for formula in level:
            assert molar_mass(formula) > 0


@pytest.mark.parametrize("level", [1, 2, 3])
def test_reaction_table_is_balanced_in_lowest_terms(level):
    for reactants, products, coefficients in REACTIONS[level]:
        species = [*reactants, *products]
        assert len(coefficients) == len(species)
        table = atom_table(species, coefficients, len(reactants))
        assert all(left == right for left, right in table.values()), (species, table)
        assert reduce(math.gcd, coefficients) == 1


@pytest.mark.parametrize("env_id", ["distil/science-molar-mass-v0", "distil/science-stoichiometry-v0",
                                    "distil/science-balancing-v0"])
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_generated_tasks_verify(env_id, difficulty):
    env = make(env_id, difficulty=difficulty)
    for seed in range(60):
        env.reset(seed=seed)
        assert env.evaluate(env.reference_completion(env.task)).correct, env.task.prompt
        wrong = env.evaluate(env.wrong_completion(env.task))
        assert not wrong.correct and wrong.message.strip()


@pytest.mark.parametrize("env_id", ["distil/science-molar-mass-v0", "distil/science-stoichiometry-v0",
                                    "distil/science-balancing-v0"])
def test_difficulty_changes_the_distribution(env_id):
    prompts = {d: {make(env_id, difficulty=d).task_at(i).prompt.split("\n")[0] for i in range(30)} for d in (1, 3)}
    assert not prompts[1] & prompts[3]


# ------------------------------------------------------------------ balancing feedback
def water_task(env):
    for seed in range(500):
        env.reset(seed=seed)
        if env.task.data["species"] == ["H2", "O2", "H2O"]:
            return env.task
    raise AssertionError("no H2 + O2 -> H2O task")


def test_balancing_feedback_lists_atom_counts():
    env = make("distil/science-balancing-v0", difficulty=1)
    task = water_task(env)
    feedback = env.evaluate("\\boxed{1, 1, 1}", task=task)
    assert feedback.kind.value == "wrong_answer"
    assert "H: 2 on the left, 2 on the right" in feedback.message
    assert "O: 2 on the left, 1 on the right  <- not balanced" in feedback.message
    assert feedback.details["atoms"] == {"H": [2, 2], "O": [2, 1]}


def test_balancing_multiple_is_not_lowest_terms():
    env = make("distil/science-balancing-v0", difficulty=1)
    task = water_task(env)
    feedback = env.evaluate("\\boxed{4, 2, 4}", task=task)
    assert not feedback.correct and "not in lowest terms" in feedback.message


@pytest.mark.parametrize("answer", ["2, 1, 2", "2 1 2", "2H_2 + O_2 \\rightarrow 2H_2O", "2 H2 + O2 -> 2 H2O",
                                    "2\\,\\mathrm{H_2} + \\mathrm{O_2} \\to 2\\,\\mathrm{H_2O}"])
def test_balancing_accepts_lists_and_equations(answer):
    env = make("distil/science-balancing-v0", difficulty=1)
    assert env.evaluate(f"\\boxed{{{answer}}}", task=water_task(env)).correct


@pytest.mark.parametrize("answer, kind", [("2, 1", "format_error"), ("2, 0, 2", "wrong_answer"),
                                          ("H2O + O2 -> H2", "format_error"), ("two, one, two", "format_error"),
                                          ("2 H2 + O2 -> 2 H2O -> x", "format_error")])
def test_balancing_bad_answers(answer, kind):
    env = make("distil/science-balancing-v0", difficulty=1)
    assert env.evaluate(f"\\boxed{{{answer}}}", task=water_task(env)).kind.value == kind


# ------------------------------------------------------------------ quantity feedback in chemistry
def test_limiting_reagent_trap_names_the_excess_reactant():
    env = make("distil/science-stoichiometry-v0", difficulty=3)
    env.reset(seed=0)
    excess_yield = env.task.data["traps"][0][0]
    feedback = env.evaluate(f"\\boxed{{{excess_yield:.6g} g}}")
    assert "excess" in feedback.message and not feedback.correct


def test_molar_mass_hydrate_and_dimension_feedback():
    env = make("distil/science-molar-mass-v0", difficulty=3)
    for seed in range(200):
        env.reset(seed=seed)
        if "·" in env.task.prompt:
            break
    value = env.task.data["value"]
    assert "water of crystallisation" in env.evaluate(f"\\boxed{{{env.task.data['traps'][-1][0]:.6g} g/mol}}").message
    assert "a mass (g)" in env.evaluate(f"\\boxed{{{value:.6g} g}}").message
    assert env.evaluate(f"\\boxed{{{value:.6g} kg/mol}}").kind.value == "wrong_answer"  # power of ten
    assert env.evaluate(f"\\boxed{{{value / 1000:.6g} kg/mol}}").correct
