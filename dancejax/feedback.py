"""Feedback for a dancer: a performance compared with a reference performance of the same
choreography (the paper's purpose: objective feedback to correct errors and prevent injuries).

**Alignment.**  Both takes are turned into pose features that do not depend on where the dancer
stands, how tall they are or (in 3D) which way they face: each frame's joints relative to its
mid-hip, divided by that frame's torso length (neck to mid-hip), and in 3D rotated about the
vertical so the hips lie along x.  Dynamic time warping aligns them with the *symmetric2* step
pattern (Sakoe & Chiba 1978: a diagonal step costs twice the local distance, a horizontal or
vertical step once, so the total does not favour either take) inside a Sakoe–Chiba band of
``band`` × the longer length (default 0.25; None for no band).  The timing offset of each
performance frame is ``(t_performance − t_reference)`` in seconds along the path: positive
means the dancer is behind the reference.

**Deviations** after alignment, per frame and joint: position in torso lengths (in the feature
space above) and, per joint angle (elbows, shoulders, hips, knees, neck), the difference of the
angle between the two bones in degrees.  They are summarised per body part (trunk, arms, legs)
and over time; the moments of largest deviation are the peaks of the mean position deviation,
at least ``min_separation`` seconds apart, ranked.

**Risk flags** (``RULES``) are checked on predicted next poses when a predictor is given (on
the observed poses otherwise, and the report says which); a rule that 2D input cannot support
says so instead of guessing.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.sequence import PoseSequence, canonical
from dancejax.skeleton import HIPS, LSP14, LSP14_PARTS, NECK, mid_hip

FPS = 25.0
J = LSP14.index
# joint angles: (name, the joint, its two neighbours)
ANGLES = (
    ("r_elbow", J("r_elbow"), J("r_shoulder"), J("r_wrist")),
    ("l_elbow", J("l_elbow"), J("l_shoulder"), J("l_wrist")),
    ("r_shoulder", J("r_shoulder"), J("neck"), J("r_elbow")),
    ("l_shoulder", J("l_shoulder"), J("neck"), J("l_elbow")),
    ("r_hip", J("r_hip"), J("neck"), J("r_knee")),
    ("l_hip", J("l_hip"), J("neck"), J("l_knee")),
    ("r_knee", J("r_knee"), J("r_hip"), J("r_ankle")),
    ("l_knee", J("l_knee"), J("l_hip"), J("l_ankle")),
    ("neck", J("neck"), J("head_top"), HIPS[0]),
)
PARTS = {
    "trunk": LSP14_PARTS["trunk"],
    "arms": LSP14_PARTS["left_arm"] + LSP14_PARTS["right_arm"],
    "legs": LSP14_PARTS["left_leg"] + LSP14_PARTS["right_leg"],
}
MIN_FRAMES = 10  # less than 0.4 s at 25 fps is not a performance to compare


# ---------------------------------------------------------------- features and alignment


def torso_length(x):
    """(T,) neck to mid-hip distance, floored at a small positive value."""
    return np.maximum(np.linalg.norm(x[:, NECK] - mid_hip(x), axis=-1), 1e-6)


def normalized_pose(x: np.ndarray) -> np.ndarray:
    """(T, J, D) -> (T, J, D): root-relative, divided by the torso length, and in 3D rotated about
    the vertical (Y) so that the hips lie along x (position-, scale- and heading-invariant)."""
    x = np.asarray(x, np.float64)
    rel = x - mid_hip(x)[:, None]
    rel = rel / torso_length(x)[:, None, None]
    if x.shape[-1] == 3:
        hv = rel[:, HIPS[0]] - rel[:, HIPS[1]]
        yaw = np.arctan2(hv[:, 2], hv[:, 0])
        c, s = np.cos(yaw), np.sin(yaw)
        r = np.zeros((len(x), 3, 3))
        r[:, 0, 0], r[:, 0, 2], r[:, 1, 1], r[:, 2, 0], r[:, 2, 2] = c, s, 1.0, -s, c
        rel = np.einsum("tij,tkj->tki", r, rel)
    return rel


def dtw(a: np.ndarray, b: np.ndarray, band: float | None = 0.25) -> tuple[np.ndarray, float]:
    """Symmetric2 DTW between (n, F) and (m, F) feature sequences (Euclidean local distance),
    vectorised over anti-diagonals.  Returns the path (k, 2) of index pairs and the total cost
    normalised by n + m."""
    n, m = len(a), len(b)
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    if band is not None:
        w = max(int(np.ceil(band * max(n, m))), abs(n - m) + 1)
        i, j = np.indices((n, m))
        cost = np.where(np.abs(i * (m - 1) / max(n - 1, 1) - j) <= w, cost, np.inf)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for k in range(2, n + m + 1):  # anti-diagonal k = i + j (1-based), each one vectorised
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)
        j = k - i
        c = cost[i - 1, j - 1]
        acc[i, j] = np.minimum(np.minimum(acc[i - 1, j - 1] + 2 * c, acc[i - 1, j] + c), acc[i, j - 1] + c)
    if not np.isfinite(acc[n, m]):
        raise DataError("feedback: no alignment within the band; widen it (band=None)")
    path = [(n - 1, m - 1)]
    i, j = n, m
    while (i, j) != (1, 1):
        steps = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
        cands = [acc[p] + (2 if s == 0 else 1) * cost[i - 1, j - 1] for s, p in enumerate(steps)]
        best = int(
            np.argmin([c if np.isfinite(c) and p[0] >= 1 and p[1] >= 1 else np.inf for c, p in zip(cands, steps)])
        )
        i, j = steps[best]
        path.append((i - 1, j - 1))
    return np.asarray(path[::-1]), float(acc[n, m] / (n + m))


def joint_angles(x: np.ndarray) -> np.ndarray:
    """(T, J, D) -> (T, len(ANGLES)) angles in degrees between each joint's two bones."""
    out = []
    for _, c, a, b in ANGLES:
        u, v = x[:, a] - x[:, c], x[:, b] - x[:, c]
        cos = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-9)
        out.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.stack(out, -1)


# ---------------------------------------------------------------- risk rules


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    threshold: float
    unit: str
    source: str
    needs_3d: bool = True


# The acceleration threshold is the 99.9th percentile of joint accelerations in the shipped motion
# capture (all 37 takes, 25 fps, second differences: 99.5 m/s²), rounded: measured by
# ``acceleration_percentile()`` and checked by the tests.
RULES = (
    Rule(
        "knee_valgus",
        10.0,
        "degrees",
        "frontal-plane projection angle of the knee (thigh against shank, seen in the plane of the hips and the "
        "vertical), as 2D knee-valgus screening measures it (Munro, Herrington & Carolan 2012, J Sport Rehabil); "
        "medial collapse beyond 10 degrees is flagged on a stance leg (ankle on the floor) with the knee flexed more "
        "than 10 degrees",
    ),
    Rule(
        "stiff_landing",
        30.0,
        "degrees of knee flexion",
        "landing (the first frame of ground contact after both ankles were off the floor) with the knee flexed "
        "less than 30 degrees, a landing pattern associated with high knee loads (Yu & Garrett 2007, Br J Sports Med)",
    ),
    Rule(
        "sudden_acceleration",
        100.0,
        "m/s²",
        "joint acceleration above the 99.9th percentile of the shipped dance motion capture (dancejax heuristic, "
        "not a clinical threshold)",
    ),
)
RULE_NOTE_2D = "not supported for 2D input: it needs metric 3D positions (a camera's view changes the 2D measure)"


def acceleration_percentile(positions: list[np.ndarray], q: float = 99.9, fps: float = FPS) -> float:
    """The q-th percentile of joint acceleration magnitudes (m/s²) over (T, J, 3) takes."""
    acc = np.concatenate([np.linalg.norm(np.diff(p, 2, axis=0), axis=-1).ravel() * fps**2 for p in positions])
    return float(np.percentile(acc, q))


def knee_fppa(x: np.ndarray) -> np.ndarray:
    """(T, J, 3) metres -> (T, 2) right/left knee frontal-plane projection angles in degrees;
    positive = medial collapse (valgus)."""
    hips = x[:, HIPS[0]] - x[:, HIPS[1]]  # left to right
    lateral = hips / np.maximum(np.linalg.norm(hips, axis=-1, keepdims=True), 1e-9)
    up = np.array([0.0, 1.0, 0.0])
    out = []
    for hip, knee, ankle, side in (
        (J("r_hip"), J("r_knee"), J("r_ankle"), 1.0),
        (J("l_hip"), J("l_knee"), J("l_ankle"), -1.0),
    ):
        proj = lambda p: np.stack([(p * lateral).sum(-1), p @ up], -1)  # frontal-plane coordinates
        h, k, a = proj(x[:, hip]), proj(x[:, knee]), proj(x[:, ankle])
        thigh, shank = k - h, a - k
        ang = np.degrees(np.arctan2(thigh[:, 0] * shank[:, 1] - thigh[:, 1] * shank[:, 0], (thigh * shank).sum(-1)))
        out.append(-side * ang)
    return np.stack(out, -1)


def landings(x: np.ndarray, lift: float = 0.05) -> np.ndarray:
    """Frames where both ankles come back to the floor after both were more than ``lift`` metres
    above it (the floor: the take's 5th percentile of ankle height)."""
    ank = x[:, [J("r_ankle"), J("l_ankle")], 1]
    floor = np.percentile(ank, 5)
    air = (ank > floor + lift).all(-1)
    return np.nonzero(air[:-1] & ~air[1:])[0] + 1


def risk_flags(x: np.ndarray, fps: float = FPS, frame_of=None) -> list[dict]:
    """Every rule on (T, J, D) poses; ``frame_of(k)`` maps a row to the performance frame it
    speaks for (predicted rows speak for the frame they were predicted from)."""
    frame_of = frame_of or (lambda k: int(k))
    flags = []
    if x.shape[-1] != 3:
        return [{"rule": r.name, "supported": False, "note": RULE_NOTE_2D} for r in RULES]
    fppa = knee_fppa(x)
    knee = joint_angles(x)[:, [6, 7]]
    ank = x[:, [J("r_ankle"), J("l_ankle")], 1]
    stance = ank <= np.percentile(ank, 5) + 0.05  # the foot on the floor
    loaded = stance & (180.0 - knee > 10.0)  # ... with the knee bent: valgus is read on a loaded, flexed knee
    bad = loaded & (fppa > RULES[0].threshold)
    for k in np.nonzero(bad.any(-1))[0]:
        flags.append(
            {"rule": "knee_valgus", "frame": frame_of(k), "value": float(fppa[k][bad[k]].max()), "unit": "degrees"}
        )
    for k in landings(x):
        flexion = 180.0 - knee[k]
        if (flexion < RULES[1].threshold).any():
            flags.append(
                {
                    "rule": "stiff_landing",
                    "frame": frame_of(k),
                    "value": float(flexion.min()),
                    "unit": "degrees of knee flexion",
                }
            )
    if len(x) >= 3:
        acc = np.linalg.norm(np.diff(x, 2, axis=0), axis=-1) * fps**2
        for k in np.nonzero(acc.max(-1) > RULES[2].threshold)[0]:
            j = int(acc[k].argmax())
            flags.append(
                {
                    "rule": "sudden_acceleration",
                    "frame": frame_of(k + 1),
                    "value": float(acc[k, j]),
                    "unit": "m/s²",
                    "joint": LSP14.joints[j],
                }
            )
    return flags


def dedupe(flags: list[dict], fps: float = FPS, within: float = 0.5) -> list[dict]:
    """One flag per rule per ``within`` seconds (the strongest)."""
    out = []
    for rule in sorted({f["rule"] for f in flags}):
        fs = sorted((f for f in flags if f["rule"] == rule and "frame" in f), key=lambda f: -f["value"])
        kept = []
        for f in fs:
            if all(abs(f["frame"] - g["frame"]) > within * fps for g in kept):
                kept.append(f)
        out += sorted(kept, key=lambda f: f["frame"])
    return out


# ---------------------------------------------------------------- comparison


def as_sequence(x, source) -> PoseSequence:
    if isinstance(x, PoseSequence):
        return canonical(x)
    arr = np.asarray(x, np.float32)
    return PoseSequence(arr, None, FPS, "lsp14", source=source)


def compare(
    performance, reference, band: float | None = 0.25, predictor=None, top: int = 5, min_separation: float = 1.0
) -> dict:
    """Align ``performance`` with ``reference`` (``PoseSequence``s of any layout and rate, or
    (T, 14, D) LSP-14 arrays at 25 fps) and measure how it deviates (see the module docstring).

    Args:
        performance: the take to assess.
        reference: the take of the same choreography to compare with.
        band: Sakoe–Chiba band as a fraction of the longer take (None: no band).
        predictor: a 3D ``Predictor`` whose next poses feed the risk rules (None: the rules
            run on the performance itself).
        top: how many moments of largest deviation to rank.
        min_separation: seconds between ranked moments.

    Returns:
        A JSON-able dict of every number: alignment path and offsets, deviations per joint and
        body part over time, ranked moments, risk flags, summary scores.
    """
    p, r = as_sequence(performance, "performance"), as_sequence(reference, "reference")
    for name, s in (("performance", p), ("reference", r)):
        if s.num_frames < MIN_FRAMES:
            raise DataError(
                f"{s.source or name}: {s.num_frames} frames at 25 fps; at least {MIN_FRAMES} are needed to compare"
            )
    if p.positions.shape[-1] != r.positions.shape[-1]:
        raise DataError(
            f"{p.source or 'performance'} is {p.positions.shape[-1]}D but {r.source or 'reference'} is "
            f"{r.positions.shape[-1]}D: compare takes of the same kind"
        )
    x, y = p.positions.astype(np.float64), r.positions.astype(np.float64)
    fx, fy = normalized_pose(x), normalized_pose(y)
    path, cost = dtw(fx.reshape(len(fx), -1), fy.reshape(len(fy), -1), band)
    # per performance frame: the mean matched reference frame (the path may hold a frame)
    matched = np.zeros(len(x))
    counts = np.zeros(len(x))
    np.add.at(matched, path[:, 0], path[:, 1])
    np.add.at(counts, path[:, 0], 1)
    matched /= counts
    ref_idx = np.rint(matched).astype(int)
    offset = (np.arange(len(x)) - matched) / FPS
    pos_dev = np.linalg.norm(fx - fy[ref_idx], axis=-1)  # (T, J) torso lengths
    ang_dev = np.abs(joint_angles(x) - joint_angles(y)[ref_idx])  # (T, A) degrees
    part_dev = {k: pos_dev[:, list(v)].mean(-1) for k, v in PARTS.items()}
    mean_dev = pos_dev.mean(-1)
    order = np.argsort(-mean_dev)
    moments = []
    for t in order:
        if len(moments) >= top:
            break
        if all(abs(int(t) - m["frame"]) >= min_separation * FPS for m in moments):
            j = int(pos_dev[t].argmax())
            moments.append(
                {
                    "frame": int(t),
                    "time_s": round(float(t / FPS), 2),
                    "reference_frame": int(ref_idx[t]),
                    "deviation_torso": float(mean_dev[t]),
                    "worst_joint": LSP14.joints[j],
                    "worst_joint_deviation_torso": float(pos_dev[t, j]),
                }
            )
    if predictor is not None:
        obs = predictor.cfg.obs
        windows = np.stack([x[t - obs + 1 : t + 1] for t in range(obs - 1, len(x))])
        pred = np.asarray(predictor(windows))
        flags = []
        for k, w in enumerate(pred):
            t = obs - 1 + k
            seq = np.concatenate([x[t - 1 : t + 1], w], 0)
            flags += risk_flags(seq, frame_of=lambda _r, t=t: t)
        risk_source = f"predicted next {pred.shape[1]} frames (each frame's prediction from the {obs} before it)"
    else:
        flags = risk_flags(x)
        risk_source = "the observed performance (no predictor given)"
    unsupported = [f for f in flags if f.get("supported") is False]
    flags = unsupported or dedupe(flags)
    score = 100.0 * max(0.0, 1.0 - float(mean_dev.mean()) / 0.5)
    return {
        "frames": {"performance": int(len(x)), "reference": int(len(y)), "fps": FPS},
        "dims": int(x.shape[-1]),
        "alignment": {
            "method": "DTW, symmetric2 step pattern",
            "band": band,
            "cost": cost,
            "path": path.tolist(),
            "matched_reference_frame": matched.tolist(),
        },
        "timing_offset_s": {
            "per_frame": offset.tolist(),
            "mean": float(offset.mean()),
            "max_behind": float(offset.max()),
            "max_ahead": float(offset.min()),
            "meaning": "positive: the dancer is behind the reference",
        },
        "deviation": {
            "units": {"position": "torso lengths (neck to mid-hip)", "angle": "degrees"},
            "position_per_joint_mean": dict(zip(LSP14.joints, map(float, pos_dev.mean(0)))),
            "angle_per_joint_mean": {a[0]: float(v) for a, v in zip(ANGLES, ang_dev.mean(0))},
            "per_part_mean": {k: float(v.mean()) for k, v in part_dev.items()},
            "per_part_over_time": {k: v.tolist() for k, v in part_dev.items()},
            "mean_over_time": mean_dev.tolist(),
            "mean_position": float(mean_dev.mean()),
            "mean_angle": float(ang_dev.mean()),
        },
        "moments": moments,
        "risk": {"checked_on": risk_source, "rules": [dataclasses.asdict(r) for r in RULES], "flags": flags},
        "score": {"value": score, "definition": "100 × max(0, 1 − mean position deviation / 0.5 torso lengths)"},
        "poses": {"performance": x.tolist(), "reference": y.tolist()},
    }


def write_report(result: dict, out, title: str = "dancejax feedback") -> dict[str, Path]:
    """The figures (PNG, GIF), the JSON of every number and the self-contained HTML report."""
    from dancejax.feedback_report import write_all

    return write_all(result, Path(out), title)


def save_json(result: dict, path: Path) -> Path:
    path.write_text(json.dumps(result, indent=1))
    return path
