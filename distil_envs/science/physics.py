"""Procedural physics with units: kinematics, Newton's laws, energy, circuits, ideal gas, unit conversion.

Every family is a `QuantityEnv` over a table of templates (`mechanics.py`,
`circuits_gases.py`); answers are quantities checked with pint, so any equivalent
unit is accepted within the relative tolerance (unit conversion excepted: there
the asked unit is the point).
"""

from __future__ import annotations

from distil_envs.science.circuits_gases import CIRCUITS, CONVERSIONS, IDEAL_GAS
from distil_envs.science.mechanics import ENERGY, KINEMATICS, NEWTON
from distil_envs.science.quantity_env import QuantityEnv

_COMMON_DOC = """
    ## Observation
    The prompt: a word problem with numbers and units, ending "Show your reasoning, then
    give the final answer with its unit in \\boxed{...}."

    ## Action
    The completion text. The final answer is the last `\\boxed{...}` (else an "Answer:"
    line): a number (decimal, `1.2e3`, `1.2 \\times 10^{3}`) followed by a unit (`m/s`,
    `\\mathrm{m\\,s^{-1}}`, `kΩ`, `°C`, `m²` ...).

    ## Reward
    1 when the quantity equals the reference within `rel_tol` (default 1 %) after
    conversion to the reference unit, else 0. Feedback kinds: `correct`,
    `format_error` (no final answer, unreadable number or unit), `wrong_answer` with a
    diagnosis: missing unit, wrong dimension ("you gave a speed (m/s); the question
    asks for a distance"), a known mistake of the template (a dropped 1/2, km/h used as
    m/s, °C in a gas law...), wrong sign, off by a power of ten, too large / too small.
    The reference value and worked solution appear only at feedback level `correction`.

    ## Episode end
    Terminated when the answer is correct or `max_attempts` (default 1) are used.

    ## Arguments
    `difficulty` (1-3, see Description), `rel_tol` (default 1e-2), `feedback`
    ("binary" | "diagnostic" | "correction"), `max_attempts`, `render_mode`.

    ## Version history
    - v0: initial version.
"""


class KinematicsEnv(QuantityEnv):
    __doc__ = """Motion in one dimension and projectiles.

    ## Description
    Difficulty 1: distance, speed or time at constant speed. Difficulty 2: uniform
    acceleration (distance from rest, final speed, braking acceleration with its sign).
    Difficulty 3: free fall, stopping distance from a speed in km/h, horizontal launch.
    Example: "A car starts from rest and accelerates uniformly at 2.5 m/s^2 for 8 s.
    How far does it travel in that time?" -> `80 m`.
    """ + _COMMON_DOC
    family = "kinematics"
    templates = KINEMATICS


class NewtonEnv(QuantityEnv):
    __doc__ = """Newton's second law: forces, masses and accelerations.

    ## Description
    Difficulty 1: F = m a, a = F / m, weight. Difficulty 2: kinetic friction, opposing
    forces. Difficulty 3: Atwood machine, incline with friction, a truck's net force in
    kN from a speed in km/h. Example: "What net force is needed to accelerate a 12 kg
    cart at 1.5 m/s^2?" -> `18 N`.
    """ + _COMMON_DOC
    family = "newton"
    templates = NEWTON


class EnergyEnv(QuantityEnv):
    __doc__ = """Work, energy and power.

    ## Description
    Difficulty 1: kinetic and potential energy, work of a force along the motion.
    Difficulty 2: work at an angle, average power, speed after a drop. Difficulty 3: a
    car's kinetic energy in kJ from km/h, spring energy with cm, a crane's power in kW.
    Example: "What is the kinetic energy of a 2 kg object moving at 3 m/s?" -> `9 J`.
    """ + _COMMON_DOC
    family = "energy"
    templates = ENERGY


class CircuitsEnv(QuantityEnv):
    __doc__ = """DC circuits: Ohm's law, series and parallel resistors, power.

    ## Description
    Difficulty 1: V = I R in each direction. Difficulty 2: series current, parallel
    equivalent resistance, dissipated power. Difficulty 3: a resistor in series with a
    parallel pair (current in mA with kΩ values, a branch current, power in one
    resistor). Example: "What is the equivalent resistance of 30 Ω and 60 Ω connected
    in parallel?" -> `20 Ω`.
    """ + _COMMON_DOC
    family = "circuits"
    templates = CIRCUITS


class IdealGasEnv(QuantityEnv):
    __doc__ = """The ideal gas law PV = nRT and the combined gas law.

    ## Description
    Difficulty 1: pressure or amount from the other three (SI-ish units, T in K).
    Difficulty 2: volume with T in °C, temperature from P, V, n. Difficulty 3: combined
    gas law with °C, mass of a gas from atm, mL and °C. Example: "1 mol of an ideal gas
    occupies 24 L at 300 K. What is its pressure in kPa?" -> `104 kPa`.
    """ + _COMMON_DOC
    family = "ideal-gas"
    templates = IDEAL_GAS


class UnitConversionEnv(QuantityEnv):
    __doc__ = """Convert a quantity to a named unit.

    ## Description
    Difficulty 1: SI prefixes (km -> m, g -> kg, mL -> L). Difficulty 2: compound units
    (km/h <-> m/s, g/cm^3 -> kg/m^3, kWh -> MJ). Difficulty 3: imperial and other units
    (mi, ft, lb, atm, psi, eV) and temperature scales (°F -> °C, °C -> K). Unlike the
    other physics families, an equivalent quantity in another unit is *not* accepted:
    the feedback says it is equivalent but in the wrong unit (kind `wrong_answer`).
    Example: "Convert 72 km/h to m/s." -> `20 m/s`.
    """ + _COMMON_DOC
    family = "unit-conversion"
    templates = CONVERSIONS
