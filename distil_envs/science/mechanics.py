"""Problem templates for kinematics, Newton's laws and energy (data for `physics.py`).

Each function draws textbook numbers from `rng` and returns a `Problem` with the
exact value, its unit and a worked solution. Lists at the bottom group them by
difficulty: 1 = one formula in SI units, 2 = two steps or a sign, 3 = several steps
with conversions (km/h, cm, kJ, kN).
"""

from __future__ import annotations

import math

import numpy as np

from distil_envs.science.quantity_env import Problem, fmt, nice

G = 9.81  # m/s^2, stated in every question that needs it
G_NOTE = "Use g = 9.81 m/s^2."
HALF_HINT = "Check the factor 1/2 in your formula."


# ------------------------------------------------------------------ kinematics
def constant_speed_distance(rng: np.random.Generator) -> Problem:
    v, t = nice(rng, 2, 30, 0.5), nice(rng, 5, 120, 5)
    return Problem(f"A cyclist rides at a constant {fmt(v)} m/s for {fmt(t)} s. How far does she travel?",
                   v * t, "m", f"d = v t = {fmt(v)} m/s x {fmt(t)} s = {fmt(v * t)} m.")


def average_speed(rng: np.random.Generator) -> Problem:
    d, t = nice(rng, 100, 5000, 50), nice(rng, 20, 600, 5)
    return Problem(f"A runner covers {fmt(d)} m in {fmt(t)} s. What is her average speed?",
                   d / t, "m/s", f"v = d / t = {fmt(d)} m / {fmt(t)} s = {fmt(d / t)} m/s.")


def travel_time(rng: np.random.Generator) -> Problem:
    d, v = nice(rng, 200, 9000, 100), nice(rng, 4, 40, 2)
    return Problem(f"A boat moves at a constant {fmt(v)} m/s. How long does it take to travel {fmt(d)} m?",
                   d / v, "s", f"t = d / v = {fmt(d)} m / {fmt(v)} m/s = {fmt(d / v)} s.")


def distance_from_rest(rng: np.random.Generator) -> Problem:
    a, t = nice(rng, 0.5, 5, 0.5), nice(rng, 2, 20)
    d = 0.5 * a * t**2
    return Problem(f"A car starts from rest and accelerates uniformly at {fmt(a)} m/s^2 for {fmt(t)} s. "
                   f"How far does it travel in that time?", d, "m",
                   f"From rest, d = (1/2) a t^2 = 0.5 x {fmt(a)} x {fmt(t)}^2 = {fmt(d)} m.",
                   traps=((a * t**2, HALF_HINT),))


def final_speed(rng: np.random.Generator) -> Problem:
    v0, a, t = nice(rng, 2, 20), nice(rng, 0.5, 4, 0.5), nice(rng, 2, 15)
    return Problem(f"A motorbike moving at {fmt(v0)} m/s accelerates uniformly at {fmt(a)} m/s^2 for {fmt(t)} s. "
                   f"What is its final speed?", v0 + a * t, "m/s",
                   f"v = v0 + a t = {fmt(v0)} + {fmt(a)} x {fmt(t)} = {fmt(v0 + a * t)} m/s.",
                   traps=((a * t, "Don't forget the initial speed."),))


def braking_acceleration(rng: np.random.Generator) -> Problem:
    v0, t = nice(rng, 15, 35), nice(rng, 2, 10)
    v1 = nice(rng, 0, v0 - 5)
    a = (v1 - v0) / t
    return Problem(f"A car slows uniformly from {fmt(v0)} m/s to {fmt(v1)} m/s in {fmt(t)} s. What is its "
                   f"acceleration (taking the direction of motion as positive)?", a, "m/s^2",
                   f"a = (v - v0) / t = ({fmt(v1)} - {fmt(v0)}) / {fmt(t)} = {fmt(a)} m/s^2 (negative: it slows).")


def free_fall_time(rng: np.random.Generator) -> Problem:
    h = nice(rng, 5, 120, 5)
    t = math.sqrt(2 * h / G)
    return Problem(f"A stone is dropped from rest from a height of {fmt(h)} m. Ignoring air resistance, how long "
                   f"does it take to reach the ground? {G_NOTE}", t, "s",
                   f"h = (1/2) g t^2, so t = sqrt(2h/g) = sqrt(2 x {fmt(h)} / 9.81) = {fmt(t)} s.",
                   traps=((math.sqrt(h / G), HALF_HINT),))


def braking_distance(rng: np.random.Generator) -> Problem:
    v_kmh, a = nice(rng, 36, 144, 6), nice(rng, 2, 8, 0.5)
    v = v_kmh / 3.6
    d = v**2 / (2 * a)
    return Problem(f"A car travelling at {fmt(v_kmh)} km/h brakes with a constant deceleration of {fmt(a)} m/s^2. "
                   f"What is its stopping distance?", d, "m",
                   f"v = {fmt(v_kmh)} km/h / 3.6 = {fmt(v)} m/s; v^2 = 2 a d gives d = v^2 / (2a) = {fmt(d)} m.",
                   traps=((v_kmh**2 / (2 * a), "Convert km/h to m/s before using SI formulas."),))


def horizontal_launch_range(rng: np.random.Generator) -> Problem:
    v, h = nice(rng, 2, 20), nice(rng, 1, 50)
    t = math.sqrt(2 * h / G)
    return Problem(f"A ball rolls off a horizontal table top {fmt(h)} m high with a speed of {fmt(v)} m/s. "
                   f"How far from the foot of the table does it land? {G_NOTE}", v * t, "m",
                   f"Fall time t = sqrt(2h/g) = {fmt(t)} s; horizontal distance x = v t = {fmt(v * t)} m.")


# ------------------------------------------------------------------ Newton's laws
def force_from_acceleration(rng: np.random.Generator) -> Problem:
    m, a = nice(rng, 2, 200), nice(rng, 0.5, 10, 0.5)
    return Problem(f"What net force is needed to accelerate a {fmt(m)} kg cart at {fmt(a)} m/s^2?",
                   m * a, "N", f"F = m a = {fmt(m)} kg x {fmt(a)} m/s^2 = {fmt(m * a)} N.")


def acceleration_from_force(rng: np.random.Generator) -> Problem:
    m, f = nice(rng, 2, 80), nice(rng, 10, 900, 10)
    return Problem(f"A net force of {fmt(f)} N acts on a {fmt(m)} kg crate. What is its acceleration?",
                   f / m, "m/s^2", f"a = F / m = {fmt(f)} N / {fmt(m)} kg = {fmt(f / m)} m/s^2.")


def weight(rng: np.random.Generator) -> Problem:
    m = nice(rng, 1, 120, 0.5)
    return Problem(f"What is the weight of a {fmt(m)} kg object on Earth? {G_NOTE}", m * G, "N",
                   f"W = m g = {fmt(m)} x 9.81 = {fmt(m * G)} N.")


def friction_acceleration(rng: np.random.Generator) -> Problem:
    m, mu = nice(rng, 5, 60), nice(rng, 0.1, 0.5, 0.05)
    f = math.ceil(mu * m * G / 10) * 10 + nice(rng, 10, 200, 10)
    a = (f - mu * m * G) / m
    return Problem(f"A {fmt(m)} kg box is pulled across a floor by a horizontal force of {fmt(f)} N. The coefficient "
                   f"of kinetic friction is {fmt(mu)}. What is the box's acceleration? {G_NOTE}", a, "m/s^2",
                   f"Friction = mu m g = {fmt(mu * m * G)} N; net force = {fmt(f)} - {fmt(mu * m * G)} = "
                   f"{fmt(f - mu * m * G)} N; a = F_net / m = {fmt(a)} m/s^2.",
                   traps=((f / m, "Include the friction force in the net force."),))


def opposing_forces(rng: np.random.Generator) -> Problem:
    m, f1 = nice(rng, 2, 50), nice(rng, 20, 300, 5)
    f2 = nice(rng, 5, f1 - 5, 5)
    a = (f1 - f2) / m
    return Problem(f"Two people push a {fmt(m)} kg sled in opposite directions, one with {fmt(f1)} N and the other "
                   f"with {fmt(f2)} N. Ignoring friction, what is the magnitude of the sled's acceleration?",
                   a, "m/s^2", f"Net force = {fmt(f1)} - {fmt(f2)} = {fmt(f1 - f2)} N; a = {fmt(a)} m/s^2.",
                   traps=(((f1 + f2) / m, "Forces in opposite directions subtract."),))


def atwood_acceleration(rng: np.random.Generator) -> Problem:
    m2 = nice(rng, 1, 10, 0.5)
    m1 = m2 + nice(rng, 0.5, 5, 0.5)
    a = (m1 - m2) * G / (m1 + m2)
    return Problem(f"Masses of {fmt(m1)} kg and {fmt(m2)} kg hang on either side of a light frictionless pulley "
                   f"(an Atwood machine). What is the magnitude of their acceleration? {G_NOTE}", a, "m/s^2",
                   f"a = (m1 - m2) g / (m1 + m2) = ({fmt(m1)} - {fmt(m2)}) x 9.81 / {fmt(m1 + m2)} = {fmt(a)} m/s^2.")


def incline_acceleration(rng: np.random.Generator) -> Problem:
    theta, mu = nice(rng, 20, 60, 5), nice(rng, 0.0, 0.3, 0.05)
    a = G * (math.sin(math.radians(theta)) - mu * math.cos(math.radians(theta)))
    return Problem(f"A block slides down a {fmt(theta)} degree incline; the coefficient of kinetic friction is "
                   f"{fmt(mu)}. What is its acceleration along the incline? {G_NOTE}", a, "m/s^2",
                   f"a = g (sin theta - mu cos theta) = 9.81 x (sin {fmt(theta)} - {fmt(mu)} cos {fmt(theta)}) "
                   f"= {fmt(a)} m/s^2.")


def truck_force_kn(rng: np.random.Generator) -> Problem:
    tonnes, v_kmh, t = nice(rng, 2, 40, 0.5), nice(rng, 18, 90, 9), nice(rng, 5, 30)
    a = v_kmh / 3.6 / t
    f = tonnes * 1000 * a / 1000
    return Problem(f"A {fmt(tonnes)} tonne truck speeds up uniformly from rest to {fmt(v_kmh)} km/h in {fmt(t)} s. "
                   f"What net force acts on it, in kN?", f, "kN",
                   f"m = {fmt(tonnes * 1000)} kg, v = {fmt(v_kmh / 3.6)} m/s, a = v / t = {fmt(a)} m/s^2; "
                   f"F = m a = {fmt(f * 1000)} N = {fmt(f)} kN.")


# ------------------------------------------------------------------ energy and work
def kinetic_energy(rng: np.random.Generator) -> Problem:
    m, v = nice(rng, 0.5, 80, 0.5), nice(rng, 1, 30)
    ke = 0.5 * m * v**2
    return Problem(f"What is the kinetic energy of a {fmt(m)} kg object moving at {fmt(v)} m/s?", ke, "J",
                   f"KE = (1/2) m v^2 = 0.5 x {fmt(m)} x {fmt(v)}^2 = {fmt(ke)} J.",
                   traps=((m * v**2, HALF_HINT),))


def potential_energy(rng: np.random.Generator) -> Problem:
    m, h = nice(rng, 0.5, 60, 0.5), nice(rng, 1, 80)
    return Problem(f"How much gravitational potential energy does a {fmt(m)} kg mass gain when lifted {fmt(h)} m? "
                   f"{G_NOTE}", m * G * h, "J", f"PE = m g h = {fmt(m)} x 9.81 x {fmt(h)} = {fmt(m * G * h)} J.")


def work_constant_force(rng: np.random.Generator) -> Problem:
    f, d = nice(rng, 5, 500, 5), nice(rng, 1, 50)
    return Problem(f"A constant force of {fmt(f)} N pushes a trolley {fmt(d)} m in the direction of the force. "
                   f"How much work does the force do?", f * d, "J", f"W = F d = {fmt(f)} x {fmt(d)} = {fmt(f * d)} J.")


def work_at_angle(rng: np.random.Generator) -> Problem:
    f, d, theta = nice(rng, 10, 300, 5), nice(rng, 2, 40), nice(rng, 15, 75, 5)
    w = f * d * math.cos(math.radians(theta))
    return Problem(f"A sled is pulled {fmt(d)} m along level snow by a rope that makes {fmt(theta)} degrees with the "
                   f"horizontal; the tension is {fmt(f)} N. How much work does the tension do?", w, "J",
                   f"W = F d cos theta = {fmt(f)} x {fmt(d)} x cos {fmt(theta)} = {fmt(w)} J.",
                   traps=((f * d, "Only the component of the force along the displacement does work."),))


def average_power(rng: np.random.Generator) -> Problem:
    m, h, t = nice(rng, 20, 120, 5), nice(rng, 2, 20), nice(rng, 2, 30)
    p = m * G * h / t
    return Problem(f"A {fmt(m)} kg person climbs stairs with a vertical rise of {fmt(h)} m in {fmt(t)} s. What "
                   f"average power does she develop against gravity? {G_NOTE}", p, "W",
                   f"Work = m g h = {fmt(m * G * h)} J; P = W / t = {fmt(p)} W.")


def speed_after_drop(rng: np.random.Generator) -> Problem:
    h = nice(rng, 1, 60, 0.5)
    v = math.sqrt(2 * G * h)
    return Problem(f"A roller coaster car starts from rest and descends a frictionless drop of {fmt(h)} m. What is "
                   f"its speed at the bottom? {G_NOTE}", v, "m/s",
                   f"m g h = (1/2) m v^2, so v = sqrt(2 g h) = sqrt(2 x 9.81 x {fmt(h)}) = {fmt(v)} m/s.",
                   traps=((math.sqrt(G * h), HALF_HINT),))


def kinetic_energy_kj(rng: np.random.Generator) -> Problem:
    m, v_kmh = nice(rng, 600, 2500, 50), nice(rng, 18, 144, 6)
    ke = 0.5 * m * (v_kmh / 3.6) ** 2 / 1000
    return Problem(f"What is the kinetic energy, in kJ, of a {fmt(m)} kg car travelling at {fmt(v_kmh)} km/h?",
                   ke, "kJ", f"v = {fmt(v_kmh)} / 3.6 = {fmt(v_kmh / 3.6)} m/s; KE = (1/2) m v^2 = "
                   f"{fmt(ke * 1000)} J = {fmt(ke)} kJ.",
                   traps=((0.5 * m * v_kmh**2 / 1000, "Convert km/h to m/s before using SI formulas."),))


def spring_energy(rng: np.random.Generator) -> Problem:
    k, x_cm = nice(rng, 50, 2000, 50), nice(rng, 1, 30)
    e = 0.5 * k * (x_cm / 100) ** 2
    return Problem(f"A spring with constant {fmt(k)} N/m is compressed by {fmt(x_cm)} cm. How much elastic "
                   f"potential energy does it store?", e, "J",
                   f"x = {fmt(x_cm / 100)} m; E = (1/2) k x^2 = 0.5 x {fmt(k)} x {fmt(x_cm / 100)}^2 = {fmt(e)} J.",
                   traps=((k * (x_cm / 100) ** 2, HALF_HINT),))


def crane_power_kw(rng: np.random.Generator) -> Problem:
    m, h, t = nice(rng, 200, 3000, 50), nice(rng, 5, 40), nice(rng, 5, 60)
    p = m * G * h / t / 1000
    return Problem(f"A crane lifts a {fmt(m)} kg load {fmt(h)} m at constant speed in {fmt(t)} s. What power, in kW, "
                   f"does it deliver to the load? {G_NOTE}", p, "kW",
                   f"Work = m g h = {fmt(m * G * h)} J; P = W / t = {fmt(p * 1000)} W = {fmt(p)} kW.")


KINEMATICS = {1: (constant_speed_distance, average_speed, travel_time),
              2: (distance_from_rest, final_speed, braking_acceleration),
              3: (free_fall_time, braking_distance, horizontal_launch_range)}
NEWTON = {1: (force_from_acceleration, acceleration_from_force, weight),
          2: (friction_acceleration, opposing_forces),
          3: (atwood_acceleration, incline_acceleration, truck_force_kn)}
ENERGY = {1: (kinetic_energy, potential_energy, work_constant_force),
          2: (work_at_angle, average_power, speed_after_drop),
          3: (kinetic_energy_kj, spring_energy, crane_power_kw)}
