"""Risk rules on 3D poses in metres (Y up): a knee turning in on a bent, loaded leg, a stiff
landing after a real flight phase, and a sudden joint acceleration.

Each rule starts from a published measure or threshold where one exists, says when that
literature is about a different movement, and is then calibrated on the professional takes of
the shipped dataset's *train* split (``dancejax.feedback.calibration.calibrate_rules``): the
threshold is moved from the literature's value, only in the lenient direction, until the rule
fires at most ``CALIBRATION_RATE`` times per minute there, pooled and in each style with at
least a minute of train takes; the false-alarm rate is then measured on the validation and test
takes it never saw (``dancejax feedback-validate``).  Where the literature's movement differs
from dance (a drop jump, a single-leg squat), the rule's source says so and how dancejax adapts
the measure (the landing's bend is scaled to the landing's own fall, ``bend_needed``; the knee
is read only with the trunk upright, as in the screening tests).

2D input cannot support any rule (a camera's view changes every one of these measures), and
the flags say so instead of guessing.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dancejax.feedback.features import ANGLE_INDEX, FPS, J, joint_angles
from dancejax.skeleton import HIPS, LSP14

G = 9.81
CALIBRATION_RATE = 0.5  # flags per minute per rule on the professional train-split takes
LIFT = 0.05  # metres above the floor that count as off the floor
STANCE = 0.05  # metres above the floor within which an ankle bears weight
MIN_FLIGHT = 2  # frames (80 ms) all joints off the floor
FREE_FALL = 0.5  # the body's mean vertical acceleration in flight is below −FREE_FALL × g
LOADED_BEND = 30.0  # degrees of knee bend from which a stance knee counts as loaded and bent
MIN_RUN = 5  # frames (0.2 s) a knee must stay turned in
UPRIGHT = 45.0  # degrees: the trunk's lean from vertical up to which the knee rule reads the knee
ABSORB_S = 0.3  # seconds after touch-down within which the knee's bend is read
MIN_DROP_S = 0.2  # flight time from which a landing is read: a fall of g t²/8 ≈ 5 cm or more
DEDUPE_S = 1.0  # one flag per rule and side per this many seconds
DROP_M = 0.30  # the drop-jump test's box height (Padua et al. 2009), the fall the literature's 45° is for


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    title: str
    threshold: float
    unit: str
    literature: float | None
    source: str
    calibration: str
    needs_3d: bool = True


RULES = (
    Rule(
        "knee_inward",
        "knee turning inward on a bent, loaded leg",
        35.0,
        "degrees",
        10.0,
        "Medial knee collapse (dynamic valgus) is screened by the 2D frontal-plane projection angle of the knee, "
        "with cut-offs around 10 degrees in single-leg squat and landing screening (Munro, Herrington & Carolan "
        "2012, J Sport Rehabil 21:7-11); greater knee abduction at landing predicted ACL injury in female athletes "
        "(Hewett et al. 2005, Am J Sports Med 33:492-501). That angle assumes the knee faces the camera; in dance "
        "the legs are turned out, and on turned-out bent legs it reads far beyond 10 degrees without any collapse. "
        "dancejax "
        "measures instead how far the knee points inward of the pelvis's forward direction (the knee's offset from "
        "the hip-ankle line, seen from above), on a stance leg bent at least 30 degrees, held for at least 0.2 s, "
        "while the trunk leans at most 45 degrees from vertical: the screening tests are upright single-leg squats "
        "and landings, and with the trunk tipped further (a cartwheel, an inversion, floor work) the pelvis no "
        "longer tells which way the knee should point. The feet are not tracked, so a turned-out foot under a "
        "forward-pointing knee cannot be seen.",
        "calibrated on the professional train-split takes (threshold raised from 10 degrees until at most 0.5 "
        "flags per minute fire there, pooled and in every style with at least a minute of train takes)",
    ),
    Rule(
        "stiff_landing",
        "stiff landing",
        45.0,
        "degrees of knee bend",
        45.0,
        "A landing absorbed with little knee bend is associated with high knee loads (Yu & Garrett 2007, Br J "
        "Sports Med 41:i47-i51); the Landing Error Scoring System counts a knee-flexion displacement under 45 "
        "degrees as an error in a 30 cm drop-jump test (Padua et al. 2009, Am J Sports Med 37:1996-2002). That "
        "is for a 30 cm fall; most dance jumps fall far less. dancejax scales the bend to the landing's own fall "
        "(a dancejax model, not literature): the fall h = g t^2/8 from the flight time t; absorbing it at the same "
        "mean deceleration as the drop jump needs a travel of the hips proportional to h, and a two-segment leg "
        "lowers the hips by 2l(1 - cos(bend/2)), so the bend needed is 2 arccos(1 - (h/0.30)(1 - cos(22.5 deg))): "
        "45 degrees after a 30 cm fall, 25 after a 10 cm one (a 0.28 s flight). A "
        "landing is the touch-down after a real flight phase: every joint at least 5 cm above the floor for at "
        "least 80 ms while the body falls freely (mean vertical acceleration below -0.5 g). Only landings after at "
        "least 0.2 s in the air are read (a fall of 5 cm or more; the drop jump's 30 cm is a 0.5 s flight). The "
        "measure is the most the landing knee bends within 0.3 s after touching down (not the displacement from "
        "the contact frame, which 25 fps places only to within 40 ms).",
        "calibrated on the professional train-split takes' landings (the bend needed after a 30 cm fall, lowered "
        "from 45 degrees until at most 0.5 flags per minute fire there, pooled and in every style with at least a "
        "minute of train takes): the literature's 45 degrees, scaled to each landing's fall, already does, so it "
        "is kept",
    ),
    Rule(
        "sudden_acceleration",
        "sudden acceleration",
        300.0,
        "m/s²",
        None,
        "A joint accelerating faster than professional dancers' joints do: a dancejax heuristic, not a clinical "
        "threshold (dancejax knows of no published limit for dance). Accelerations are second differences of the "
        "positions at 25 fps.",
        "calibrated on the professional train-split takes (the lowest threshold at which at most 0.5 flags per "
        "minute fire there, pooled and in every style with at least a minute of train takes)",
    ),
)
RULE_NOTE_2D = "not supported for 2D input: it needs metric 3D positions (a camera's view changes the 2D measure)"
SIDES = (("right", J("r_hip"), J("r_knee"), J("r_ankle")), ("left", J("l_hip"), J("l_knee"), J("l_ankle")))


def rule(name: str) -> Rule:
    return next(r for r in RULES if r.name == name)


def floor_height(x: np.ndarray) -> float:
    """The floor: the 5th percentile over frames of the lowest joint's height (metres, Y up)."""
    return float(np.percentile(np.asarray(x)[:, :, 1].min(1), 5))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def flight_phases(x: np.ndarray, floor: float | None = None, fps: float = FPS) -> list[tuple[int, int]]:
    """(start, end) frame ranges, end exclusive, in which the dancer is in the air: every joint
    at least ``LIFT`` above the floor for ``MIN_FLIGHT`` frames or more, while the mean joint
    height falls freely (mean vertical acceleration below −``FREE_FALL`` g).  Relevé, a raised
    leg or work on the hands keep a joint on the floor or do not fall freely, so they are not
    flights."""
    x = np.asarray(x, np.float64)
    floor = floor_height(x) if floor is None else floor
    if len(x) < 3:
        return []
    air = x[:, :, 1].min(1) > floor + LIFT
    height = x[:, :, 1].mean(1)
    out = []
    for a, b in _runs(air):
        if b - a < MIN_FLIGHT:
            continue
        # inside the flight only when it is long enough: the touch-down's own jolt is not free fall
        h = height[a:b] if b - a >= 4 else height[max(a - 1, 0) : b + 1]
        if (np.diff(h, 2) * fps**2).mean() < -FREE_FALL * G:
            out.append((a, b))
    return out


def bend_needed(flight_s: float, at_drop: float = 45.0) -> float:
    """Degrees of knee bend a landing after ``flight_s`` seconds in the air needs, when
    ``at_drop`` degrees are needed after the drop-jump test's ``DROP_M`` fall (``RULES``'
    stiff_landing source): the same mean deceleration, a two-segment leg."""
    fall = G * flight_s**2 / 8.0
    c = 1.0 - (fall / DROP_M) * (1.0 - np.cos(np.radians(at_drop) / 2.0))
    return float(2.0 * np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def knee_inward(x: np.ndarray) -> np.ndarray:
    """(T, 2) right/left: degrees by which each knee points inward of the pelvis's forward
    direction, seen from above (0: straight ahead, negative: outward, as in turnout).  Read from
    the knee's offset from its hip–ankle line, so only meaningful on a bent knee."""
    x = np.asarray(x, np.float64)
    right = x[:, HIPS[0]] - x[:, HIPS[1]]
    right[:, 1] = 0.0
    right /= np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-9)
    forward = np.cross(np.array([0.0, 1.0, 0.0]), right)  # Y up: up × right points the way the pelvis faces
    out = []
    for side, hip, knee, ankle in SIDES:
        h, k, a = x[:, hip], x[:, knee], x[:, ankle]
        u = (a - h) / np.maximum(np.linalg.norm(a - h, axis=-1, keepdims=True), 1e-9)
        off = (k - h) - ((k - h) * u).sum(-1, keepdims=True) * u
        inward = -(off * right).sum(-1) if side == "right" else (off * right).sum(-1)
        out.append(np.degrees(np.arctan2(inward, (off * forward).sum(-1))))
    return np.stack(out, -1)


def landings(x: np.ndarray, floor: float | None = None, fps: float = FPS) -> list[dict]:
    """Touch-downs after each flight phase: the frame, the legs that touch down (ankles within
    ``STANCE`` of the floor; the lower one if neither), and the flight's duration in seconds."""
    x = np.asarray(x, np.float64)
    floor = floor_height(x) if floor is None else floor
    out = []
    for a, b in flight_phases(x, floor, fps):
        if b >= len(x):
            continue
        ank = x[b, [J("r_ankle"), J("l_ankle")], 1]
        legs = [s[0] for s, h in zip(SIDES, ank) if h <= floor + STANCE] or [SIDES[int(ank.argmin())][0]]
        out.append({"frame": int(b), "legs": legs, "flight_s": (b - a) / fps})
    return out


def risk_flags(
    x: np.ndarray, fps: float = FPS, frame_of=None, floor: float | None = None, thresholds: dict | None = None
) -> list[dict]:
    """Every rule on (T, J, D) poses.  ``frame_of(k)`` maps a row to the performance frame it
    speaks for (predicted rows speak for the frame they were predicted from); ``floor`` is the
    take's floor height when ``x`` is a short window of it; ``thresholds`` overrides rules'
    thresholds by name (calibration; the stiff landing's is the bend needed after a 30 cm fall,
    scaled by ``bend_needed`` to each landing's).  Each flag: rule, frame, side ("right"/"left"/
    None), joint, value and unit (a stiff landing's also the bend needed and the fall in cm)."""
    frame_of = frame_of or (lambda k: int(k))
    if x.shape[-1] != 3:
        return [{"rule": r.name, "supported": False, "note": RULE_NOTE_2D} for r in RULES]
    thr = {r.name: r.threshold for r in RULES} | (thresholds or {})
    x = np.asarray(x, np.float64)
    floor = floor_height(x) if floor is None else floor
    angles = joint_angles(x)
    bend = angles[:, [ANGLE_INDEX["r_knee_bend"], ANGLE_INDEX["l_knee_bend"]]]
    flags = []
    upright = angles[:, ANGLE_INDEX["trunk_lean"]] <= UPRIGHT
    loaded = (x[:, [J("r_ankle"), J("l_ankle")], 1] <= floor + STANCE) & (bend >= LOADED_BEND) & upright[:, None]
    inward = knee_inward(x)
    for s, (side, _, knee, _) in enumerate(SIDES):
        for a, b in _runs(loaded[:, s] & (inward[:, s] > thr["knee_inward"])):
            if b - a >= MIN_RUN:
                k = a + int(inward[a:b, s].argmax())
                flags.append(_flag("knee_inward", frame_of(k), side, knee, float(inward[k, s])))
    span = int(round(ABSORB_S * fps))
    for land in landings(x, floor, fps):
        k = land["frame"]
        for side, _, knee, _ in SIDES:
            if side in land["legs"] and land["flight_s"] >= MIN_DROP_S:
                peak = float(bend[k : k + span + 1, 0 if side == "right" else 1].max())
                need = bend_needed(land["flight_s"], thr["stiff_landing"])
                if peak < need:
                    fall = {"needed": need, "fall_cm": 100.0 * G * land["flight_s"] ** 2 / 8.0}
                    flags.append(_flag("stiff_landing", frame_of(k), side, knee, peak) | fall)
    if len(x) >= 3:
        acc = np.linalg.norm(np.diff(x, 2, axis=0), axis=-1) * fps**2
        for k, j in zip(*np.nonzero(acc > thr["sudden_acceleration"])):
            name = LSP14.joints[j]
            which = "right" if name.startswith("r_") else "left" if name.startswith("l_") else None
            flags.append(_flag("sudden_acceleration", frame_of(k + 1), which, int(j), float(acc[k, j])))
    return flags


def _flag(name: str, frame: int, side: str | None, joint: int, value: float) -> dict:
    return {
        "rule": name,
        "frame": int(frame),
        "side": side,
        "joint": LSP14.joints[joint],
        "value": float(value),
        "unit": rule(name).unit,
    }


def dedupe(flags: list[dict], fps: float = FPS, within: float = DEDUPE_S) -> list[dict]:
    """One flag per rule and side per ``within`` seconds (the strongest: the largest value, or
    the smallest knee bend for a stiff landing)."""
    out = []
    for name, side in sorted({(f["rule"], str(f.get("side"))) for f in flags if "frame" in f}):
        sign = 1.0 if name == "stiff_landing" else -1.0
        same = (f for f in flags if f["rule"] == name and str(f.get("side")) == side)
        fs = sorted(same, key=lambda f: sign * f["value"])
        kept: list[dict] = []
        for f in fs:
            if all(abs(f["frame"] - g["frame"]) > within * fps for g in kept):
                kept.append(f)
        out += kept
    return sorted(out, key=lambda f: (f["frame"], f["rule"]))


def acceleration_percentile(positions: list[np.ndarray], q: float = 99.9, fps: float = FPS) -> float:
    """The q-th percentile of joint acceleration magnitudes (m/s²) over (T, J, 3) takes."""
    acc = np.concatenate([np.linalg.norm(np.diff(p, 2, axis=0), axis=-1).ravel() * fps**2 for p in positions])
    return float(np.percentile(acc, q))
