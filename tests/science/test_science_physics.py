"""Procedural physics families: generator validity, difficulty, and diagnostic feedback on made-up mistakes."""

import math
from collections import Counter

import pytest

import distil_envs
from distil_envs.science.quantities import parse_quantity

PHYSICS = ["distil/science-kinematics-v0", "distil/science-newton-v0", "distil/science-energy-v0",
           "distil/science-circuits-v0", "distil/science-ideal-gas-v0", "distil/science-unit-conversion-v0"]


def make(env_id, **kwargs):
    return distil_envs.make(env_id, **kwargs).unwrapped


def first_task(env, template, seeds=range(400)):
    for seed in seeds:
        env.reset(seed=seed)
        if env.task.metadata["template"] == template:
            return env.task
    raise AssertionError(f"no {template} task in {len(seeds)} seeds")


@pytest.mark.parametrize("env_id", PHYSICS)
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_every_generated_task_is_valid(env_id, difficulty):
    env = make(env_id, difficulty=difficulty)
    for seed in range(60):
        env.reset(seed=seed)
        task = env.task
        value = float(task.data["value"])
        assert math.isfinite(value) and value != 0, task.prompt
        printed, problem = parse_quantity(task.answer)
        assert problem == "" and printed.units is not None, task.answer
        assert math.isclose(printed.value, value, rel_tol=0.005), (task.answer, value)
        assert "\\boxed" in task.prompt and task.solution
        assert env.evaluate(env.reference_completion(task)).correct, task.prompt
        wrong = env.evaluate(env.wrong_completion(task))
        assert not wrong.correct and wrong.message.strip()


@pytest.mark.parametrize("env_id", PHYSICS)
def test_difficulty_changes_the_templates(env_id):
    drawn = {}
    for difficulty in (1, 3):
        env = make(env_id, difficulty=difficulty)
        drawn[difficulty] = Counter(env.task_at(i).metadata["template"] for i in range(40))
    assert not set(drawn[1]) & set(drawn[3]), drawn
    assert len(drawn[1]) >= 2 and len(drawn[3]) >= 2


def test_difficulty_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match="difficulty"):
        make("distil/science-kinematics-v0", difficulty=4)
    with pytest.raises(ValueError, match="rel_tol"):
        make("distil/science-kinematics-v0", rel_tol=2.0)


def diagnose(env, task, answer):
    return env.evaluate(f"Working...\n\\boxed{{{answer}}}", task=task)


def test_dimension_error_names_what_was_asked():
    env = make("distil/science-kinematics-v0", difficulty=1)
    task = first_task(env, "constant_speed_distance")
    feedback = diagnose(env, task, f"{task.data['value']} m/s")
    assert feedback.kind.value == "wrong_answer"
    assert "a speed (m/s)" in feedback.message and "a distance" in feedback.message


def test_dropped_half_is_named():
    env = make("distil/science-kinematics-v0", difficulty=2)
    task = first_task(env, "distance_from_rest")
    feedback = diagnose(env, task, f"{2 * task.data['value']:.6g} m")
    assert "1/2" in feedback.message


def test_sign_and_power_of_ten_and_missing_unit():
    env = make("distil/science-kinematics-v0", difficulty=2)
    task = first_task(env, "braking_acceleration")
    value = task.data["value"]
    assert "wrong sign" in diagnose(env, task, f"{-value:.6g} m/s^2").message
    assert "power of ten" in diagnose(env, task, f"{value * 1000:.6g} m/s^2").message
    assert "no unit" in diagnose(env, task, f"{value:.6g}").message


def test_celsius_in_gas_law_is_named():
    env = make("distil/science-ideal-gas-v0", difficulty=3)
    task = first_task(env, "combined_gas_law")
    trap_value = task.data["traps"][0][0]
    assert "kelvin" in diagnose(env, task, f"{trap_value:.6g} kPa").message


def test_parallel_added_as_series_is_named():
    env = make("distil/science-circuits-v0", difficulty=2)
    task = first_task(env, "parallel_resistance")
    assert "parallel" in diagnose(env, task, f"{task.data['traps'][0][0]:.6g} ohm").message


def test_equivalent_units_accepted_except_in_unit_conversion():
    env = make("distil/science-kinematics-v0", difficulty=1)
    task = first_task(env, "average_speed")
    assert diagnose(env, task, f"{task.data['value'] * 3.6:.6g} km/h").correct
    conversion = make("distil/science-unit-conversion-v0", difficulty=2)
    task = first_task(conversion, "kmh_to_ms")
    source = float(task.prompt.split("Convert ")[1].split(" ")[0])
    feedback = diagnose(conversion, task, f"{source:g} km/h")
    assert not feedback.correct and "asks for it in m/s" in feedback.message


def test_feedback_levels():
    task_env = make("distil/science-energy-v0", difficulty=1, feedback="binary")
    task_env.reset(seed=3)
    message, reward, terminated, _, info = task_env.step("\\boxed{1 m}")
    assert message == "Incorrect." and reward == 0 and terminated
    correction = make("distil/science-energy-v0", difficulty=1, feedback="correction")
    correction.reset(seed=3)
    message, *_ = correction.step("\\boxed{1 m}")
    assert correction.task.answer in message and "a distance" in message


def test_multi_attempt_episode():
    env = make("distil/science-circuits-v0", max_attempts=2)
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step("\\boxed{1 kg}")
    assert reward == 0 and not terminated
    _, reward, terminated, _, info = env.step(env.reference_completion(env.task))
    assert reward == 1 and terminated and info["attempt"] == 2
