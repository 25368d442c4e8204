"""Plain sentences for a dancer: one per ranked moment and one per risk flag, with the body part
and side named, angles in degrees, distances in centimetres (or as a share of body height when
the take's units are unknown) and times in seconds in both takes."""

from __future__ import annotations

import math

from dancejax.feedback.features import FPS

RULE_WORDS = {
    "knee_inward": "{side} knee turned {value:.0f}° inward on a bent, loaded leg",
    "stiff_landing": "stiff landing on the {side} leg after a {fall_cm:.0f} cm jump: the knee bent only {value:.1f}° "
    "within 0.3 s of touching down (about {needed:.0f}° absorbs that fall)",
    "sudden_acceleration": "sudden acceleration of the {joint} ({value:.0f} m/s², {g:.0f} g)",
}
JOINT_WORDS = {
    "r_ankle": "right ankle",
    "r_knee": "right knee",
    "r_hip": "right hip",
    "l_hip": "left hip",
    "l_knee": "left knee",
    "l_ankle": "left ankle",
    "r_wrist": "right hand",
    "r_elbow": "right elbow",
    "r_shoulder": "right shoulder",
    "l_shoulder": "left shoulder",
    "l_elbow": "left elbow",
    "l_wrist": "left hand",
    "neck": "neck",
    "head_top": "head",
}


def seconds(frame: float) -> str:
    return f"{frame / FPS:.1f} s"


def distance(value: float, unit: str) -> str:
    """A distance in the report's unit: "12 cm" or "7 % of body height"."""
    return f"{value:.0f} cm" if unit == "cm" else f"{value:.0f} % of body height"


def times(frame: int, ref_frame: float, mirrored: bool = False) -> str:
    ref = "the mirrored reference" if mirrored else "the reference"
    return f"at {seconds(frame)} ({ref} at {seconds(ref_frame)})"


def moment_sentence(m: dict, mirrored: bool = False) -> str:
    """E.g. "right arm 28° lower than the reference at 12.4 s (the reference at 11.9 s), for 2.0 s;
    the hand 25 cm lower"."""
    ref = "the mirrored reference" if mirrored else "the reference"
    when = times(m["frame"], m["reference_frame"], mirrored)
    span = f", for {m['duration_s']:.1f} s" if m["duration_s"] >= 0.2 else ""
    if m.get("late_s") is not None:
        how = "late" if m["late_s"] > 0 else "early"
        return f"{m['part']} up to {abs(m['late_s']):.1f} s {how} against {ref} {when}{span}"
    a = m["angle"]
    if abs(a["difference_deg"]) >= 0.5 * m["direction_deg"]:
        words = a["more"] if a["difference_deg"] > 0 else a["less"]
        text = f"{a['label']} {abs(a['difference_deg']):.0f}° {words} than {ref} {when}{span}"
    else:
        text = f"{m['part']} points {m['direction_deg']:.0f}° away from {ref} {when}{span}"
    d = m.get("displacement")
    if d and d["value"] >= 1.0:
        text += f"; the {d['joint_words']} {distance(d['value'], d['unit'])} {d['direction']}"
    return text


def flag_sentence(f: dict, ref_frame: float | None, mirrored: bool = False) -> str:
    """E.g. "right knee turned 34° inward on a bent, loaded leg at 8.2 s (the reference at 8.0 s)"."""
    # a bend just under the threshold is not rounded up to it
    value = math.floor(f["value"] * 10) / 10 if f["rule"] == "stiff_landing" else f["value"]
    text = RULE_WORDS[f["rule"]].format(
        side=f.get("side") or "",
        value=value,
        joint=JOINT_WORDS.get(str(f.get("joint")), f.get("joint")),
        g=f["value"] / 9.81,
        fall_cm=f.get("fall_cm", 30.0),
        needed=f.get("needed", 45.0),
    )
    if ref_frame is None:
        return f"{text} at {seconds(f['frame'])}"
    return f"{text} {times(f['frame'], ref_frame, mirrored)}"


def direction_words(delta, dims: int, side: str | None = None) -> str:
    """The main direction of a displacement (performance minus reference) in the dancer's body
    frame (3D: x the dancer's right, y up, −z forward; 2D: y down the image), said from the
    joint's side: out to the side or in towards the body."""
    if dims == 2:
        return "higher" if delta[1] < 0 else "lower"
    k = int(abs(delta).argmax())
    if k == 1:
        return "higher" if delta[1] > 0 else "lower"
    if k == 2:
        return "further back" if delta[2] > 0 else "further forward"
    outward = delta[0] > 0 if side == "right" else delta[0] < 0 if side == "left" else None
    if outward is None:
        return "further to the right" if delta[0] > 0 else "further to the left"
    return "further out to the side" if outward else "further in"
