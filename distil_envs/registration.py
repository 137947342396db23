"""Every environment id, registered in one place with string entry points.

Bump an id's version when its reward or feedback semantics change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator, register

from distil_envs.errors import UnknownEnvError

NAMESPACE = "distil"


def register_envs() -> None:
    """Register all ids (idempotent: re-registering is skipped)."""
    if f"{NAMESPACE}/math-arithmetic-v0" in gym.registry:
        return
    # Math: procedural families
    register(id="distil/math-arithmetic-v0", entry_point="distil_envs.math.arithmetic:ArithmeticEnv")
    register(id="distil/math-linear-v0", entry_point="distil_envs.math.linear:LinearEquationsEnv")
    register(id="distil/math-fractions-v0", entry_point="distil_envs.math.rationals:FractionsEnv")
    register(id="distil/math-modular-v0", entry_point="distil_envs.math.modular:ModularEnv")
    register(id="distil/math-polynomial-v0", entry_point="distil_envs.math.polynomial:PolynomialEnv")
    register(id="distil/math-word-problems-v0", entry_point="distil_envs.math.word_problems:WordProblemsEnv")
    register(id="distil/math-reasoning-gym-v0", entry_point="distil_envs.math.reasoning_gym_adapter:ReasoningGymEnv")
    # Math: benchmarks (Hub datasets, or path= to a local file)
    register(id="distil/math-gsm8k-v0", entry_point="distil_envs.math.benchmarks:GSM8KEnv")
    register(id="distil/math-math500-v0", entry_point="distil_envs.math.benchmarks:Math500Env")
    register(id="distil/math-aime2024-v0", entry_point="distil_envs.math.benchmarks:AIME2024Env")
    register(id="distil/math-aime2025-v0", entry_point="distil_envs.math.benchmarks:AIME2025Env")
    register(id="distil/math-amc2023-v0", entry_point="distil_envs.math.benchmarks:AMC2023Env")
    # Science: procedural physics and chemistry
    register(id="distil/science-kinematics-v0", entry_point="distil_envs.science.physics:KinematicsEnv")
    register(id="distil/science-newton-v0", entry_point="distil_envs.science.physics:NewtonEnv")
    register(id="distil/science-energy-v0", entry_point="distil_envs.science.physics:EnergyEnv")
    register(id="distil/science-circuits-v0", entry_point="distil_envs.science.physics:CircuitsEnv")
    register(id="distil/science-ideal-gas-v0", entry_point="distil_envs.science.physics:IdealGasEnv")
    register(id="distil/science-unit-conversion-v0", entry_point="distil_envs.science.physics:UnitConversionEnv")
    register(id="distil/science-molar-mass-v0", entry_point="distil_envs.science.chemistry:MolarMassEnv")
    register(id="distil/science-stoichiometry-v0", entry_point="distil_envs.science.chemistry:StoichiometryEnv")
    register(id="distil/science-balancing-v0", entry_point="distil_envs.science.chemistry:BalancingEnv")
    # Science: multiple choice (Hub datasets, or path=)
    register(id="distil/science-sciknoweval-v0", entry_point="distil_envs.science.mcq:SciKnowEvalEnv")
    register(id="distil/science-gpqa-diamond-v0", entry_point="distil_envs.science.mcq:GPQADiamondEnv")
    register(id="distil/science-sciq-v0", entry_point="distil_envs.science.mcq:SciQEnv")
    register(id="distil/science-arc-challenge-v0", entry_point="distil_envs.science.mcq:ARCChallengeEnv")
    # Code
    register(id="distil/code-humaneval-v0", entry_point="distil_envs.code.humaneval:HumanEvalEnv")
    register(id="distil/code-synth-v0", entry_point="distil_envs.code.synth:CodeSynthEnv")
    register(id="distil/code-mbpp-v0", entry_point="distil_envs.code.benchmarks:MBPPEnv")
    register(id="distil/code-livecodebench-v0", entry_point="distil_envs.code.benchmarks:LiveCodeBenchEnv")


def env_ids() -> list[str]:
    """All registered distil-envs ids, sorted."""
    return sorted(env_id for env_id in gym.registry if env_id.startswith(f"{NAMESPACE}/"))


def env_class(env_id: str) -> type:
    """The class behind an id, without constructing it."""
    if env_id not in gym.registry:
        raise UnknownEnvError(env_id, env_ids())
    return load_env_creator(gym.registry[env_id].entry_point)


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """`gym.make` with an error that suggests the closest registered id."""
    if env_id not in gym.registry:
        raise UnknownEnvError(env_id, env_ids())
    return gym.make(env_id, **kwargs)


@dataclass(frozen=True)
class EnvInfo:
    """One row of `distil envs list`."""

    env_id: str
    domain: str
    source: str
    feedback_kinds: tuple[str, ...]
    size: str
    summary: str


def describe(env_id: str) -> EnvInfo:
    cls = env_class(env_id)
    summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    size = getattr(cls, "catalogue_size", None)
    if size is None:
        size = "procedural" if cls.source == "procedural" else f"dataset ({getattr(cls, 'hub_id', '') or 'local'})"
    return EnvInfo(env_id=env_id, domain=cls.domain, source=cls.source,
                   feedback_kinds=tuple(k.value for k in cls.feedback_kinds), size=str(size), summary=summary)
