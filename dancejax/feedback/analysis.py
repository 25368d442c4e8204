"""Feedback for a dancer: a performance compared with a reference performance of the same
choreography (the paper's purpose: objective feedback to correct errors and prevent injuries).

**Input.**  Both takes become LSP-14 at 25 fps; joints a detector missed are interpolated in
time, and a running median of 5 frames removes detector swaps and glitches (``features``).
``mirror=True`` compares with the mirror image of the reference (a teacher facing the class).

**Alignment** (``align``): DTW on each frame's joints relative to the mid-hip, divided by the
body height and, in 3D, turned to a common heading; the timing offset of every performance frame
follows from the path.

**Deviations** after alignment, per frame: the angle between each bone of the performance and
of the reference (upper arms, forearms, thighs, shins, trunk, head, shoulder line) in degrees,
the signed difference of the joint angles a dancer names (arm and leg raise, elbow and knee
bend, trunk lean, head tilt), and joint positions in centimetres (3D takes in metres) or as a
share of body height.  A body part's deviation is its largest bone angle, with a running
median of 0.3 s so that a single noisy frame is not a moment.

**Score.**  Each frame counts fully when every body part is within ``TOLERANCE`` degrees of the
reference, not at all when a part is off by ``OFF`` degrees or more, linearly in between; the
score is the percentage of the performance that matched, overall and per phrase of
``phrase_s`` seconds of the reference.

**Moments** are the stretches where a part exceeds the tolerance, ranked by size × duration:
the degrees beyond the part's usual deviation in this performance, summed over the seconds.
Each is described by the named angle that changed most (or by the bone direction when no named
angle explains it) and by how far the part's end joint moved; when the part matches the
reference shifted in time better than unshifted, it is described as early or late instead.

**Risk flags** (``rules``) are checked on predicted next poses when a predictor is given (on
the observed poses otherwise, and the report says which).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from dancejax.errors import DataError
from dancejax.feedback import words
from dancejax.feedback.align import dtw, matched_frames
from dancejax.feedback.features import (
    ANGLES,
    BONES,
    FPS,
    MIN_FRAMES,
    PARTS,
    ROOT,
    body_height,
    bone_deviation,
    bone_vectors,
    denoise,
    fill_missing,
    joint_angles,
    normalized_pose,
)
from dancejax.feedback.features import mirror as mirror_pose
from dancejax.feedback.rules import RULES, dedupe, floor_height, risk_flags
from dancejax.io.sequence import PoseSequence, canonical
from dancejax.skeleton import HIPS, LSP14, get_layout

TOLERANCE = 15.0  # degrees a body part may differ and still count as matching
OFF = 45.0  # degrees from which a frame counts as not matching at all
SEVERITY_FRAMES = 7  # running median of a part's deviation (0.3 s)
SPAN_FRAMES = 13  # running mean (0.5 s) over which a moment's stretch and weight are read
PHRASE_S = 4.0
MAX_LAG_S = 1.0  # early/late search range for a moment
PART_NAMES = tuple(PARTS)
BONE_PART = np.array([PART_NAMES.index(b[1]) for b in BONES])
END_JOINT = {"right arm": "r_wrist", "left arm": "l_wrist", "right leg": "r_ankle", "left leg": "l_ankle"}
END_JOINT["trunk and head"] = "head_top"


def _take(x, name: str) -> tuple[np.ndarray, np.ndarray, str | None, str | None, str]:
    """(T, 14, D) float64 positions at 25 fps, the (T, 14) mask of joints seen, the original
    layout, the units and the source."""
    if isinstance(x, PoseSequence):
        source = x.source or name
        layout = get_layout(x.layout, source).name
        units = x.labels.get("units")
        seq = canonical(x)
        return *fill_missing(seq.positions, seq.confidence, source), layout, units, source
    arr = np.asarray(x, np.float64)
    if arr.ndim != 3 or arr.shape[1] != LSP14.num_joints or arr.shape[2] not in (2, 3):
        raise DataError(f"{name}: expected LSP-14 poses of shape (frames, 14, 2 or 3), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataError(f"{name}: positions hold non-finite values (NaN/inf)")
    return *fill_missing(arr, None, name), None, "m" if arr.shape[-1] == 3 else None, name


def check_inputs(performance, reference, mirror: bool = False):
    """Both takes read and checked (the errors ``compare`` raises on bad input)."""
    if mirror and isinstance(reference, PoseSequence) and not get_layout(reference.layout).lr_pairs:
        lay = get_layout(reference.layout).name
        raise DataError(
            f"{reference.source or 'reference'}: --mirror needs left/right joint pairs, and the {lay} layout has none"
        )
    x, seen, lay_x, units, src_x = _take(performance, "performance")
    y, _, lay_y, _, src_y = _take(reference, "reference")
    if lay_x and lay_y and lay_x != lay_y:
        raise DataError(
            f"{src_x} is in the {lay_x} layout but {src_y} is in {lay_y}: the LSP-14 joints of different layouts are "
            "not placed alike (e.g. COCO's neck is the mid-shoulder point, its head top is extrapolated), which would "
            "show as deviations; compare takes of the same layout"
        )
    for s, src in ((x, src_x), (y, src_y)):
        if len(s) < MIN_FRAMES:
            raise DataError(f"{src}: {len(s)} frames at 25 fps; at least {MIN_FRAMES} are needed to compare")
    if x.shape[-1] != y.shape[-1]:
        raise DataError(f"{src_x} is {x.shape[-1]}D but {src_y} is {y.shape[-1]}D: compare takes of the same kind")
    return x, y, seen, units


def bones_seen(seen: np.ndarray) -> np.ndarray:
    """(T, J) joints seen -> (T, B) bones whose two ends were both seen."""
    pick = lambda j: seen[:, list(HIPS)].all(-1) if j == ROOT else seen[:, j]
    return np.stack([pick(a) & pick(b) for _, _, a, b in BONES], -1)


def part_severity(dev_bones: np.ndarray, seen_bones: np.ndarray | None = None) -> np.ndarray:
    """(T, B) bone deviations -> (T, P) each part's largest among the bones seen (a bone filled
    in from neighbouring frames is not judged), with a running median."""
    if seen_bones is not None:
        dev_bones = np.where(seen_bones, dev_bones, 0.0)
    sev = np.stack([dev_bones[:, BONE_PART == p].max(-1) for p in range(len(PART_NAMES))], -1)
    return median_filter(sev, size=(SEVERITY_FRAMES, 1), mode="nearest") if len(sev) >= SEVERITY_FRAMES else sev


def agreement(severity: np.ndarray) -> np.ndarray:
    """(T, P) degrees -> (T,) in [0, 1]: how fully each frame matched (its worst part decides)."""
    return np.clip((OFF - severity) / (OFF - TOLERANCE), 0.0, 1.0).min(-1)


def lags(bp, bq, ref_idx, frames: np.ndarray, bones) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame of ``frames``: the shift k (|k| ≤ MAX_LAG_S) at which the part's bones best match
    the reference at ``ref_idx − k`` (over ±0.2 s around the frame), that best deviation, and the
    unshifted one (degrees)."""
    shifts = np.arange(-int(MAX_LAG_S * FPS), int(MAX_LAG_S * FPS) + 1)
    u = bp[frames][:, bones]
    devs = []
    for k in shifts:
        v = bq[np.clip(ref_idx[frames] - k, 0, len(bq) - 1)][:, bones]
        cos = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-9)
        devs.append(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean(-1))
    devs = uniform_filter1d(np.stack(devs), 11, axis=1, mode="nearest")
    best = devs.argmin(0)
    return shifts[best], devs[best, np.arange(len(frames))], devs[len(shifts) // 2]


def find_moments(sev, seen_parts, top: int, min_separation: float) -> list[tuple[int, int, int, int, float]]:
    """(peak frame, part, start, end, weight) of the stretches where a part exceeds the
    tolerance (read on a 0.5 s running mean, so that a steady error is one stretch), strongest
    first by weight: how far (up to ``OFF``) and how long the part deviates
    beyond its own usual deviation in this performance (its median; detector noise on short
    bones makes that larger for arms than for legs), in degree-seconds, times the share of the
    stretch in which the part's joints were seen rather than filled in."""
    found = []
    usual = np.median(sev, 0)
    sev = uniform_filter1d(sev, SPAN_FRAMES, axis=0, mode="nearest")
    taken = np.zeros(sev.shape, bool)
    sep = int(min_separation * FPS)
    order = np.argsort(-sev, axis=None, kind="stable")
    for t, p in zip(*np.unravel_index(order, sev.shape)):
        if sev[t, p] < TOLERANCE:
            break
        if taken[max(0, t - sep) : t + sep + 1, p].any():
            continue
        level = max(TOLERANCE, 0.5 * sev[t, p])
        a, b = t, t + 1
        while a > 0 and sev[a - 1, p] >= level:
            a -= 1
        while b < len(sev) and sev[b, p] >= level:
            b += 1
        taken[a:b, p] = True
        excess = (np.minimum(sev[a:b, p], OFF) - usual[p]).clip(0).sum() / FPS
        found.append((int(t), int(p), int(a), int(b), float(excess * seen_parts[a:b, p].mean())))
    return sorted(found, key=lambda m: -m[4])[:top]


def describe(m, fx, fy, ref_idx, dev_b, diff_a, bp, bq, dims, unit, scale) -> dict:
    t, p, a, b, weight = m
    part = PART_NAMES[p]
    frames = np.arange(a, b)
    bones = np.nonzero(BONE_PART == p)[0]
    direction = float(np.median(dev_b[a:b][:, bones], 0).max())
    cands = [k for k, ang in enumerate(ANGLES) if ang.part == part]
    med = {k: float(np.median(diff_a[a:b, k])) for k in cands}
    k = max(cands, key=lambda c: abs(med[c]))
    ang = ANGLES[k]
    end = LSP14.index(END_JOINT[part])
    delta = np.median(fx[a:b, end] - fy[ref_idx[a:b], end], 0)
    lag, lag_dev, unshifted = lags(bp, bq, ref_idx, frames, bones)
    late = None
    sure = lag_dev <= 0.5 * unshifted  # frames that a shift in time explains
    if sure.mean() >= 0.5:
        most = float(np.median(lag[sure]))
        late = round(most / FPS, 2) if abs(most) >= 5 else None
    out = {
        "frame": int(t),
        "time_s": round(t / FPS, 2),
        "reference_frame": int(ref_idx[t]),
        "reference_time_s": round(ref_idx[t] / FPS, 2),
        "start_s": round(a / FPS, 2),
        "end_s": round(b / FPS, 2),
        "duration_s": round((b - a) / FPS, 2),
        "part": part,
        "side": part.split()[0] if part.split()[0] in ("right", "left") else None,
        "weight_deg_s": round(weight, 2),
        "direction_deg": round(direction, 1),
        "angle": {
            "name": ang.name,
            "label": ang.label,
            "difference_deg": round(med[k], 1),
            "more": ang.more,
            "less": ang.less,
        },
        "displacement": {
            "joint": END_JOINT[part],
            "joint_words": words.JOINT_WORDS[END_JOINT[part]].split()[-1],
            "value": round(float(np.linalg.norm(delta)) * scale, 1),
            "unit": unit,
            "direction": words.direction_words(delta, dims, part.split()[0]),
        },
        "late_s": late,
    }
    return out


def phrases(score_t: np.ndarray, sev: np.ndarray, ref_idx: np.ndarray, m: int, phrase_s: float) -> list[dict]:
    """A score per phrase of ``phrase_s`` seconds of the reference."""
    out = []
    step = max(1, int(round(phrase_s * FPS)))
    for a in range(0, m, step):
        sel = np.nonzero((ref_idx >= a) & (ref_idx < a + step))[0]
        if len(sel) == 0:
            continue
        worst = int(sev[sel].mean(0).argmax())
        out.append(
            {
                "reference_start_s": round(a / FPS, 2),
                "reference_end_s": round(min(a + step, m) / FPS, 2),
                "start_s": round(sel[0] / FPS, 2),
                "end_s": round((sel[-1] + 1) / FPS, 2),
                "score": round(100.0 * float(score_t[sel].mean()), 1),
                "worst_part": PART_NAMES[worst],
                "worst_part_deg": round(float(sev[sel, worst].mean()), 1),
            }
        )
    return out


def prepare(performance, reference, mirror: bool = False):
    """Both takes checked, cleaned and normalised: (x, y, fx, fy, seen, units, heights)."""
    x, y, seen, units = check_inputs(performance, reference, mirror)
    x, y = denoise(x), denoise(y)
    if mirror:
        y = mirror_pose(y)
    hx, hy = body_height(x), body_height(y)
    return x, y, normalized_pose(x, hx), normalized_pose(y, hy), seen, units, hx


def align(performance, reference, band: float | str | None = "auto", mirror: bool = False) -> np.ndarray:
    """Only the alignment: (n,) the reference frame each performance frame is matched with."""
    x, _, fx, fy, *_ = prepare(performance, reference, mirror)
    return matched_frames(dtw(fx, fy, band)[0], len(x))


def compare(
    performance,
    reference,
    band: float | str | None = "auto",
    predictor=None,
    top: int = 5,
    min_separation: float = 1.0,
    mirror: bool = False,
    phrase_s: float = PHRASE_S,
) -> dict:
    """Align ``performance`` with ``reference`` (``PoseSequence``s of one layout at any rate, or
    (T, 14, D) LSP-14 arrays at 25 fps, 3D in metres) and measure how it deviates (see the module
    docstring).

    Args:
        performance: the take to assess.
        reference: the take of the same choreography to compare with.
        band: Sakoe–Chiba band as a fraction of the longer take; "auto" widens 0.25 by the
            difference in length; None: no band.
        predictor: a 3D ``Predictor`` whose next poses feed the risk rules (None: the rules
            run on the performance itself).
        top: how many moments to rank.
        min_separation: seconds between ranked moments.
        mirror: compare with the mirror image of the reference.
        phrase_s: seconds of the reference per phrase score.

    Returns:
        A JSON-able dict of every number, the sentences for the dancer, and both takes' poses.
    """
    x, y, fx, fy, seen, units, hx = prepare(performance, reference, mirror)
    dims = x.shape[-1]
    metric = dims == 3 and units == "m" and 1.0 <= hx <= 2.5
    unit, scale = ("cm", 100.0 * hx) if metric else ("%", 100.0)
    path, cost = dtw(fx, fy, band)
    matched = matched_frames(path, len(x))
    ref_idx = np.clip(np.rint(matched).astype(int), 0, len(y) - 1)
    offset = (np.arange(len(x)) - matched) / FPS
    dev_b = bone_deviation(fx, fy[ref_idx])
    diff_a = joint_angles(x) - joint_angles(y)[ref_idx]
    pos = np.linalg.norm(fx - fy[ref_idx], axis=-1) * scale
    sev = part_severity(dev_b, bones_seen(seen))
    score_t = agreement(sev)
    bp, bq = bone_vectors(fx), bone_vectors(fy)
    seen_parts = np.stack([seen[:, list(PARTS[p])].all(-1) for p in PART_NAMES], -1)
    moments = [
        describe(m, fx, fy, ref_idx, dev_b, diff_a, bp, bq, dims, unit, scale)
        for m in find_moments(sev, seen_parts, top, min_separation)
    ]
    for m in moments:
        m["sentence"] = words.moment_sentence(m, mirror)
    flags, risk_source = _risk(x, predictor)
    for f in flags:
        if "frame" in f:
            f["time_s"] = round(f["frame"] / FPS, 2)
            f["reference_time_s"] = round(float(matched[min(f["frame"], len(x) - 1)]) / FPS, 2)
            f["sentence"] = words.flag_sentence(f, matched[min(f["frame"], len(x) - 1)], mirror)
    return {
        "frames": {"performance": int(len(x)), "reference": int(len(y)), "fps": FPS},
        "dims": int(dims),
        "mirror": bool(mirror),
        "units": {
            "distance": "cm" if metric else "% of body height",
            "angle": "degrees",
            "time": "seconds",
            "body_height": round(hx * (100.0 if metric else 1.0), 1),
            "body_height_unit": "cm" if metric else "take units",
        },
        "alignment": {
            "method": "DTW, symmetric2 step pattern with a step penalty",
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
            "per_part_over_time": {k: sev[:, i].tolist() for i, k in enumerate(PART_NAMES)},
            "per_part_mean_deg": {k: float(sev[:, i].mean()) for i, k in enumerate(PART_NAMES)},
            "angle_difference_mean_deg": {a.name: float(diff_a[:, i].mean()) for i, a in enumerate(ANGLES)},
            "angle_difference_abs_mean_deg": {a.name: float(np.abs(diff_a[:, i]).mean()) for i, a in enumerate(ANGLES)},
            "position_per_joint_mean": dict(zip(LSP14.joints, map(float, pos.mean(0)))),
            "mean_bone_deg": float(dev_b.mean()),
            "mean_position": float(pos.mean()),
        },
        "score": {
            "value": round(100.0 * float(score_t.mean()), 1),
            "per_frame": score_t.tolist(),
            "phrases": phrases(score_t, sev, ref_idx, len(y), phrase_s),
            "definition": (
                f"the percentage of the performance that matched the reference: a frame counts fully when every body "
                f"part is within {TOLERANCE:.0f}° of the reference, not at all when one is {OFF:.0f}° or more off, "
                "linearly in between (a part the detector did not see in a frame is not judged there)"
            ),
        },
        "moments": moments,
        "risk": {"checked_on": risk_source, "rules": [_rule_dict(r) for r in RULES], "flags": flags},
        "poses": {"performance": x.tolist(), "reference": y.tolist()},
    }


def _rule_dict(r) -> dict:
    return {k: getattr(r, k) for k in ("name", "title", "threshold", "unit", "literature", "source", "calibration")}


def _risk(x: np.ndarray, predictor) -> tuple[list[dict], str]:
    rx = denoise(x, 3)
    if predictor is None or x.shape[-1] != 3:
        flags = risk_flags(rx)
        return ([f for f in flags if f.get("supported") is False] or dedupe(flags)), (
            "the observed performance (no predictor given)" if predictor is None else "the observed performance"
        )
    floor = floor_height(rx)
    obs = predictor.cfg.obs
    windows = np.stack([x[t - obs + 1 : t + 1] for t in range(obs - 1, len(x))])
    pred = np.asarray(predictor(windows))
    flags = []
    for k, w in enumerate(pred):
        t = obs - 1 + k
        seq = np.concatenate([rx[max(0, t - 1) : t + 1], w], 0)
        flags += risk_flags(seq, frame_of=lambda _r, t=t: t, floor=floor)
    return dedupe(flags), f"predicted next {pred.shape[1]} frames (each frame's prediction from the {obs} before it)"


def write_report(result: dict, out, title: str = "dancejax feedback", extra_sections=()) -> dict[str, Path]:
    """The figures (PNG, GIF), the JSON of every number and the self-contained HTML report;
    ``extra_sections`` are (heading, HTML) pairs placed before the method section."""
    from dancejax.feedback.report import write_all

    return write_all(result, Path(out), title, extra_sections=extra_sections)


def save_json(result: dict, path: Path) -> Path:
    path.write_text(json.dumps(result, indent=1))
    return path
