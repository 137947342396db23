"""Problem templates for circuits, the ideal gas law and unit conversion (data for `physics.py`).

Difficulty 1 is one formula, 2 two steps (series/parallel, a temperature in °C),
3 several steps or unusual units (mA, kΩ, atm, mL, imperial units, °F).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from distil_envs.science.quantities import registry
from distil_envs.science.quantity_env import Problem, fmt, nice

R_GAS = 8.314  # J/(mol K), stated in every gas question
R_NOTE = "Use R = 8.314 J/(mol K)."
KELVIN_HINT = "Gas-law temperatures must be absolute: convert °C to kelvin."
SERIES_HINT = "Resistors in parallel do not add; use 1/R = 1/R1 + 1/R2."


def _parallel(*resistances: float) -> float:
    return 1 / sum(1 / r for r in resistances)


# ------------------------------------------------------------------ circuits
def ohm_voltage(rng: np.random.Generator) -> Problem:
    i, r = nice(rng, 0.1, 5, 0.1), nice(rng, 2, 200, 2)
    return Problem(f"A current of {fmt(i)} A flows through a {fmt(r)} Ω resistor. What is the voltage across it?",
                   i * r, "V", f"V = I R = {fmt(i)} A x {fmt(r)} Ω = {fmt(i * r)} V.")


def ohm_current(rng: np.random.Generator) -> Problem:
    v, r = nice(rng, 1.5, 240, 1.5), nice(rng, 5, 500, 5)
    return Problem(f"A {fmt(v)} V source is connected across a {fmt(r)} Ω resistor. What current flows?",
                   v / r, "A", f"I = V / R = {fmt(v)} V / {fmt(r)} Ω = {fmt(v / r)} A.")


def ohm_resistance(rng: np.random.Generator) -> Problem:
    v, i = nice(rng, 3, 240, 3), nice(rng, 0.05, 4, 0.05)
    return Problem(f"A device draws {fmt(i)} A from a {fmt(v)} V supply. What is its resistance?",
                   v / i, "Ω", f"R = V / I = {fmt(v)} V / {fmt(i)} A = {fmt(v / i)} Ω.")


def series_current(rng: np.random.Generator) -> Problem:
    v, r1, r2 = nice(rng, 3, 48, 1.5), nice(rng, 10, 200, 10), nice(rng, 10, 200, 10)
    i = v / (r1 + r2)
    return Problem(f"Resistors of {fmt(r1)} Ω and {fmt(r2)} Ω are connected in series to a {fmt(v)} V battery. "
                   f"What current flows?", i, "A",
                   f"In series R = {fmt(r1)} + {fmt(r2)} = {fmt(r1 + r2)} Ω; I = V / R = {fmt(i)} A.",
                   traps=((v / _parallel(r1, r2), "In series the resistances add."),))


def parallel_resistance(rng: np.random.Generator) -> Problem:
    r1, r2 = nice(rng, 10, 300, 10), nice(rng, 10, 300, 10)
    r = _parallel(r1, r2)
    return Problem(f"What is the equivalent resistance of {fmt(r1)} Ω and {fmt(r2)} Ω connected in parallel?",
                   r, "Ω", f"1/R = 1/{fmt(r1)} + 1/{fmt(r2)}, so R = R1 R2 / (R1 + R2) = {fmt(r)} Ω.",
                   traps=((r1 + r2, SERIES_HINT),))


def resistor_power(rng: np.random.Generator) -> Problem:
    v, r = nice(rng, 3, 120, 3), nice(rng, 5, 400, 5)
    return Problem(f"A {fmt(r)} Ω resistor is connected across {fmt(v)} V. What power does it dissipate?",
                   v**2 / r, "W", f"P = V^2 / R = {fmt(v)}^2 / {fmt(r)} = {fmt(v**2 / r)} W.")


def mixed_circuit_current_ma(rng: np.random.Generator) -> Problem:
    v = nice(rng, 5, 24, 1)
    r1, r2, r3 = nice(rng, 1, 10, 0.5), nice(rng, 1, 20, 1), nice(rng, 1, 20, 1)
    total = r1 + _parallel(r2, r3)
    i = v / total  # mA, since resistances are in kΩ
    return Problem(f"A {fmt(v)} V battery drives a {fmt(r1)} kΩ resistor in series with a parallel pair of "
                   f"{fmt(r2)} kΩ and {fmt(r3)} kΩ. What current, in mA, leaves the battery?", i, "mA",
                   f"Parallel pair: {fmt(_parallel(r2, r3))} kΩ; total {fmt(total)} kΩ; "
                   f"I = V / R = {fmt(v)} V / {fmt(total)} kΩ = {fmt(i)} mA.",
                   traps=((v / (r1 + r2 + r3), SERIES_HINT),))


def branch_current(rng: np.random.Generator) -> Problem:
    v = nice(rng, 6, 36, 1)
    r1, r2, r3 = nice(rng, 2, 20, 1), nice(rng, 10, 60, 5), nice(rng, 10, 60, 5)
    i_total = v / (r1 + _parallel(r2, r3))
    i2 = i_total * r3 / (r2 + r3)
    return Problem(f"A {fmt(v)} V supply feeds R1 = {fmt(r1)} Ω in series with R2 = {fmt(r2)} Ω and R3 = {fmt(r3)} Ω "
                   f"in parallel. What current flows through R2?", i2, "A",
                   f"R_eq = {fmt(r1)} + {fmt(_parallel(r2, r3))} = {fmt(r1 + _parallel(r2, r3))} Ω; I = {fmt(i_total)} A; "
                   f"the parallel voltage is {fmt(i_total * _parallel(r2, r3))} V, so I2 = {fmt(i2)} A.",
                   traps=((i_total, "That is the total current; find the share through R2."),))


def series_power(rng: np.random.Generator) -> Problem:
    v, r1, r2 = nice(rng, 6, 60, 3), nice(rng, 5, 100, 5), nice(rng, 5, 100, 5)
    i = v / (r1 + r2)
    return Problem(f"Resistors R1 = {fmt(r1)} Ω and R2 = {fmt(r2)} Ω are in series across {fmt(v)} V. "
                   f"What power does R1 dissipate?", i**2 * r1, "W",
                   f"I = {fmt(v)} / {fmt(r1 + r2)} = {fmt(i)} A; P1 = I^2 R1 = {fmt(i**2 * r1)} W.",
                   traps=((v**2 / r1, "R1 does not get the whole supply voltage in series."),))


# ------------------------------------------------------------------ ideal gas
def gas_pressure(rng: np.random.Generator) -> Problem:
    n, v, t = nice(rng, 0.5, 5, 0.25), nice(rng, 5, 50, 1), nice(rng, 250, 400, 5)
    p = n * R_GAS * t / (v / 1000) / 1000
    return Problem(f"{fmt(n)} mol of an ideal gas occupies {fmt(v)} L at {fmt(t)} K. What is its pressure in kPa? "
                   f"{R_NOTE}", p, "kPa", f"P = nRT / V = {fmt(n)} x 8.314 x {fmt(t)} / {fmt(v / 1000)} m^3 "
                   f"= {fmt(p * 1000)} Pa = {fmt(p)} kPa.")


def gas_moles(rng: np.random.Generator) -> Problem:
    p, v, t = nice(rng, 80, 300, 5), nice(rng, 1, 40, 1), nice(rng, 250, 400, 5)
    n = p * 1000 * v / 1000 / (R_GAS * t)
    return Problem(f"A {fmt(v)} L container holds an ideal gas at {fmt(p)} kPa and {fmt(t)} K. How many moles of gas "
                   f"does it contain? {R_NOTE}", n, "mol",
                   f"n = PV / (RT) = {fmt(p * 1000)} Pa x {fmt(v / 1000)} m^3 / (8.314 x {fmt(t)}) = {fmt(n)} mol.")


def gas_volume_celsius(rng: np.random.Generator) -> Problem:
    n, p, c = nice(rng, 0.2, 3, 0.1), nice(rng, 90, 250, 5), nice(rng, 0, 90, 5)
    v = n * R_GAS * (c + 273.15) / (p * 1000) * 1000
    return Problem(f"What volume, in litres, does {fmt(n)} mol of an ideal gas occupy at {fmt(c)} °C and {fmt(p)} kPa? "
                   f"{R_NOTE}", v, "L", f"T = {fmt(c)} + 273.15 = {fmt(c + 273.15, 5)} K; V = nRT / P = "
                   f"{fmt(v / 1000)} m^3 = {fmt(v)} L.",
                   traps=(() if c == 0 else ((n * R_GAS * c / p, KELVIN_HINT),)))


def gas_temperature(rng: np.random.Generator) -> Problem:
    n, p, v = nice(rng, 0.5, 4, 0.5), nice(rng, 100, 400, 10), nice(rng, 5, 40, 1)
    t = p * 1000 * v / 1000 / (n * R_GAS)
    return Problem(f"{fmt(n)} mol of an ideal gas is held at {fmt(p)} kPa in a {fmt(v)} L vessel. What is its "
                   f"temperature in kelvin? {R_NOTE}", t, "K",
                   f"T = PV / (nR) = {fmt(p * 1000)} x {fmt(v / 1000)} / ({fmt(n)} x 8.314) = {fmt(t)} K.")


def combined_gas_law(rng: np.random.Generator) -> Problem:
    p1, v1, c1 = nice(rng, 90, 200, 5), nice(rng, 2, 20, 0.5), nice(rng, 5, 40, 5)
    v2, c2 = nice(rng, 1, 20, 0.5), nice(rng, 50, 150, 10)
    t1, t2 = c1 + 273.15, c2 + 273.15
    p2 = p1 * v1 / t1 * t2 / v2
    return Problem(f"A gas at {fmt(p1)} kPa, {fmt(v1)} L and {fmt(c1)} °C is compressed to {fmt(v2)} L and heated to "
                   f"{fmt(c2)} °C. What is its new pressure in kPa?", p2, "kPa",
                   f"P1 V1 / T1 = P2 V2 / T2 with T in kelvin: P2 = {fmt(p1)} x {fmt(v1)} / {fmt(t1, 5)} x "
                   f"{fmt(t2, 5)} / {fmt(v2)} = {fmt(p2)} kPa.",
                   traps=((p1 * v1 / c1 * c2 / v2, KELVIN_HINT),))


def gas_mass(rng: np.random.Generator) -> Problem:
    gas, molar = [("oxygen (O2)", 32.00), ("nitrogen (N2)", 28.02), ("carbon dioxide (CO2)", 44.01),
                  ("helium (He)", 4.003)][int(rng.integers(4))]
    p_atm, v_ml, c = nice(rng, 0.5, 3, 0.25), nice(rng, 250, 5000, 250), nice(rng, 0, 60, 5)
    n = p_atm * 101325 * v_ml * 1e-6 / (R_GAS * (c + 273.15))
    return Problem(f"A flask of {fmt(v_ml)} mL holds {gas} at {fmt(p_atm)} atm and {fmt(c)} °C. What mass of gas, in "
                   f"grams, does it contain? Molar mass {molar} g/mol; 1 atm = 101325 Pa; {R_NOTE}", n * molar, "g",
                   f"n = PV / (RT) = {fmt(p_atm * 101325)} Pa x {fmt(v_ml * 1e-6)} m^3 / (8.314 x {fmt(c + 273.15, 5)}) "
                   f"= {fmt(n)} mol; m = n M = {fmt(n * molar)} g.")


# ------------------------------------------------------------------ unit conversion
def _conversion(name: str, source: str, target: str, low: float, high: float, step: float,
                note: str = "") -> Callable[[np.random.Generator], Problem]:
    """A template converting a drawn value in `source` to `target` (pint computes the exact value)."""

    def template(rng: np.random.Generator) -> Problem:
        x = nice(rng, low, high, step)
        value = float(registry().Quantity(x, registry().parse_units(source)).to(registry().parse_units(target))
                      .magnitude)
        if note:
            how = note
        else:
            factor = float(registry().Quantity(1, registry().parse_units(source)).to(registry().parse_units(target))
                           .magnitude)
            how = f"1 {source} = {fmt(factor, 6)} {target}"
        return Problem(f"Convert {fmt(x, 6)} {source} to {target}.", value, target,
                       f"{how}, so {fmt(x, 6)} {source} = {fmt(value)} {target}.", require_unit=True)

    template.__name__ = name
    return template


CONVERSIONS = {
    1: (_conversion("km_to_m", "km", "m", 0.5, 50, 0.25), _conversion("g_to_kg", "g", "kg", 50, 9000, 50),
        _conversion("mL_to_L", "mL", "L", 50, 5000, 25), _conversion("ms_to_s", "ms", "s", 5, 5000, 5),
        _conversion("kJ_to_J", "kJ", "J", 0.5, 90, 0.5)),
    2: (_conversion("kmh_to_ms", "km/h", "m/s", 10, 200, 2), _conversion("ms_to_kmh", "m/s", "km/h", 1, 60, 0.5),
        _conversion("gcm3_to_kgm3", "g/cm^3", "kg/m^3", 0.5, 20, 0.1),
        _conversion("kWh_to_MJ", "kWh", "MJ", 0.5, 50, 0.5), _conversion("h_to_s", "h", "s", 0.25, 12, 0.25)),
    3: (_conversion("mi_to_km", "mi", "km", 1, 300, 1), _conversion("ft_to_m", "ft", "m", 1, 3000, 5),
        _conversion("lb_to_kg", "lb", "kg", 1, 400, 1), _conversion("atm_to_kPa", "atm", "kPa", 0.25, 10, 0.25),
        _conversion("psi_to_kPa", "psi", "kPa", 5, 150, 1), _conversion("eV_to_J", "eV", "J", 0.5, 20, 0.5),
        _conversion("F_to_C", "°F", "°C", 50, 212, 1, note="T(°C) = (T(°F) - 32) x 5/9"),
        _conversion("C_to_K", "°C", "K", 1, 150, 1, note="T(K) = T(°C) + 273.15")),
}
CIRCUITS = {1: (ohm_voltage, ohm_current, ohm_resistance),
            2: (series_current, parallel_resistance, resistor_power),
            3: (mixed_circuit_current_ma, branch_current, series_power)}
IDEAL_GAS = {1: (gas_pressure, gas_moles),
             2: (gas_volume_celsius, gas_temperature),
             3: (combined_gas_law, gas_mass)}
