"""Known-answer validation of the feedback on real takes: timing recovery, localisation of
inserted errors, and the tables ``dancejax feedback-validate`` prints and saves (the score's
calibration and the risk rules' false alarms are in ``calibration``).

**Data.**  The shipped dataset's real takes, every style (CMU ballet/modern, salsa, walks;
AIST++ breakdance and street jazz), LSP-14 at 25 fps, 3D in metres; AIST++'s real 2D detections.

**Conditions** (``CONDITIONS``): the performance is a copy of the take (time-warped, and with an
inserted error for localisation) that is

* ``3D moved``: placed elsewhere (±2 m), resized (±15 %) and turned to any facing;
* ``3D moved + noise``: the same, plus the detector-noise simulator in two views (``perturb``);
* ``2D camera + noise``: seen through a pinhole camera from a random direction (the reference
  through the same camera), moved ±0.5 m and resized, plus the simulator's 2D detector noise;
* ``2D real detector`` (timing only, AIST++ takes): the real detections of camera 1, the
  reference being the ground truth projected through that camera;
* ``..., online``: the same timing test run causally by ``online.OnlineAligner``.

**Timing**: error = |matched reference frame − true reference frame| per performance frame,
pooled over takes, as median and 95th percentile in frames (1 frame = 40 ms); the target is a
median ≤ 2 and a 95th percentile ≤ 5 frames over all frames.  The same figures are also given
over the frames whose true reference frame is not in a still stretch (``still_reference``):
where the reference holds a pose, every timing within the hold matches equally well.

**Localisation**: one error per copy, on the ``tempo ±20 %`` warp: an arm 30° lower for 2 s
(where the arm is raised ≥ 40° throughout), a knee bent 20° less for 2 s (where it is bent
≥ 25°), a limb entering 0.5 s late for 2 s (the limb and stretch that move the most).  A hit:
the first ranked moment overlaps the error's stretch, names its body part and side, and measures
the angle within 5° (the arm's raise, the knee's bend) or the lateness within 0.12 s.  In 2D the
true angle is the one the camera sees: the median difference of the projected angles; a trial
whose camera sees less than half the change (it happens in depth) is counted as hidden and left
out of the rates.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jax
import numpy as np
from scipy.ndimage import uniform_filter1d

from dancejax.feedback import perturb as P
from dancejax.feedback.analysis import align, compare
from dancejax.feedback.features import ANGLE_INDEX, FPS, joint_angles, normalized_pose
from dancejax.io.sequence import PoseSequence
from dancejax.skeleton import mid_hip

CONDITIONS = ("3D moved", "3D moved + noise", "2D camera + noise")
REAL_2D = "2D real detector"
ERROR_FRAMES = 50  # 2 s
ANGLE_TOLERANCE = 5.0
LATE_TOLERANCE = 0.12
TIMING_MEDIAN, TIMING_P95 = 2.0, 5.0
STILL = 0.05  # body heights per second


def make_pair(y: np.ndarray, x: np.ndarray, condition: str, rng: np.random.Generator, params):
    """(performance, reference, view) for a clean performance copy ``y`` of the take ``x``:
    ``view`` applies the same move (and camera) without noise, e.g. to a twin copy of ``y``."""
    key = jax.random.key(int(rng.integers(2**31)))
    if condition in ("3D moved", "3D moved + noise"):
        m = P.mover(rng)
        perf = m(y) if condition == "3D moved" else P.noisy(m(y), params, key)
        return perf, x, m
    if condition == "2D camera + noise":
        m, az, centre = P.mover(rng, turn=False, reach=0.5), rng.uniform(0, 2 * np.pi), mid_hip(x).mean(0)
        view = lambda a: P.camera_view(m(a), az, centre)
        ref = PoseSequence(P.camera_view(x, az, centre), None, FPS, "lsp14", {"units": "px"})
        return P.noisy(view(y), params, key, units="px"), ref, view
    raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")


def _warped_pairs(take, params, conditions, warps, rng):
    """For each warp of ``take`` and each condition: (warp, condition, performance, reference,
    the true reference frame of every performance frame)."""
    x = np.asarray(take.positions, np.float64)
    for w in warps:
        y, true = P.apply_warp(x, P.WARPS[w][1](len(x) / FPS))
        for cond in conditions:
            perf, ref, _ = make_pair(y, x, cond, rng, params)
            yield w, cond, perf, ref, true


def timing(takes, params, conditions=CONDITIONS, warps=tuple(P.WARPS), seed: int = 0, log=None) -> list[dict]:
    """One row per take, warp and condition: the per-frame timing errors (frames)."""
    rng = np.random.default_rng(seed)
    rows = []
    for take in takes:
        still = still_reference(np.asarray(take.positions, np.float64))
        for w, cond, perf, ref, true in _warped_pairs(take, params, conditions, warps, rng):
            rows.append(_timing_row(take, w, cond, np.abs(align(perf, ref) - true), still, true))
            if log and cond == conditions[-1]:
                log(f"  timing: {take.name} {w}")
    return rows


def timing_online(takes, params, conditions=CONDITIONS, warps=tuple(P.WARPS), seed: int = 0, log=None) -> list[dict]:
    """``timing`` run causally: the ``OnlineAligner``'s answer after each frame, which sees no
    later frame (its condition is named with "online")."""
    rng = np.random.default_rng(seed)
    rows = []
    for take in takes:
        still = still_reference(np.asarray(take.positions, np.float64))
        for w, cond, perf, ref, true in _warped_pairs(take, params, conditions, warps, rng):
            got = online_frames(perf, ref)
            rows.append(_timing_row(take, w, f"{cond}, online", np.abs(got - true), still, true))
        if log:
            log(f"  online timing: {take.name}")
    return rows


def online_frames(perf, ref) -> np.ndarray:
    """(T,) the reference frame the ``OnlineAligner`` matches with each frame of ``perf`` (an
    array of poses or a ``PoseSequence`` with confidences), causally."""
    from dancejax.feedback.online import OnlineAligner

    frames, conf = (perf.positions, perf.confidence) if isinstance(perf, PoseSequence) else (perf, None)
    return np.array([m.reference_index for m in OnlineAligner(ref).run(frames, conf)])


def timing_real_2d(detection_sets, warps=tuple(P.WARPS), view: int = 0, online: bool = False) -> list[dict]:
    """Timing on real detector keypoints: each AIST++ sequence's detections of one camera,
    sampled at the warped times (nearest frame, so the detector's own noise is kept), against
    the ground truth projected through that camera; ``online``: aligned causally by the
    ``OnlineAligner`` (its condition is named with "online")."""
    rows = []
    for d in detection_sets:
        det, conf, gt = d.det[view], d.conf[view], d.gt[view]
        n = len(gt)
        ref = PoseSequence(gt, None, FPS, "lsp14", {"units": "px"})
        still = still_reference(gt)
        for w in warps:
            _, true = P.apply_warp(np.zeros((n, 1, 1)), P.WARPS[w][1](n / FPS))
            idx = np.clip(np.rint(true).astype(int), 0, n - 1)
            perf = PoseSequence(det[idx], conf[idx], FPS, "lsp14", {"units": "px"})
            if online:
                got = online_frames(perf, ref)
                rows.append(_timing_row(d, w, f"{REAL_2D}, online", np.abs(got - idx), still, idx))
            else:
                rows.append(_timing_row(d, w, REAL_2D, np.abs(align(perf, ref) - idx), still, idx))
    return rows


def still_reference(x: np.ndarray) -> np.ndarray:
    """(T,) True where the take holds still: the mean speed of its joints relative to the mid-hip,
    in body heights per second and averaged over 0.5 s, is below ``STILL``.  There every timing
    within the stillness matches the poses equally well."""
    f = normalized_pose(np.asarray(x, np.float64))
    v = np.linalg.norm(np.gradient(f, axis=0), axis=-1).mean(-1) * FPS
    return uniform_filter1d(v, 13, mode="nearest") < STILL


def _timing_row(take, warp, cond, err, still=None, true=None) -> dict:
    row = {"take": take.name, "style": take.style, "warp": warp, "condition": cond, "errors": err.tolist()}
    if still is not None:
        row["moving"] = (~still[np.clip(np.rint(true).astype(int), 0, len(still) - 1)]).tolist()
    return row


def summarize_timing(rows: list[dict]) -> list[dict]:
    """Per warp and condition: frames, takes, median and 95th percentile error (frames and ms)."""
    out = []
    for cond in dict.fromkeys(r["condition"] for r in rows):
        for w in dict.fromkeys(r["warp"] for r in rows):
            sel = [r for r in rows if r["condition"] == cond and r["warp"] == w]
            if not sel:
                continue
            e = np.concatenate([r["errors"] for r in sel])
            moving = e[np.concatenate([r["moving"] for r in sel])] if all("moving" in r for r in sel) else e
            med, p95 = float(np.median(e)), float(np.percentile(e, 95))
            out.append(
                {
                    "condition": cond,
                    "warp": w,
                    "takes": len(sel),
                    "frames": int(len(e)),
                    "median_frames": round(med, 2),
                    "p95_frames": round(p95, 2),
                    "median_ms": round(med * 1000 / FPS),
                    "p95_ms": round(p95 * 1000 / FPS),
                    "pass": bool(med <= TIMING_MEDIAN and p95 <= TIMING_P95),
                    "moving_share": round(len(moving) / max(len(e), 1), 2),
                    "moving_median_frames": round(float(np.median(moving)), 2) if len(moving) else None,
                    "moving_p95_frames": round(float(np.percentile(moving, 95)), 2) if len(moving) else None,
                }
            )
    return out


# ---------------------------------------------------------------- localisation


def inserted_errors(x: np.ndarray) -> list[dict]:
    """The known errors this take allows (see the module docstring): kind, part, the angle and
    its true change, the stretch, and the copy with the error."""
    out = []
    f = ERROR_FRAMES
    for side in ("right", "left"):
        s = P.arm_window(x, side, f, 30.0)
        if s is not None:
            name = f"{side[0]}_arm_raise"
            out.append(_err("arm 30° lower", f"{side} arm", name, -30.0, s, P.lower_arm(x, side, s, f, 30.0)))
            break
    for side in ("right", "left"):
        s = P.knee_window(x, side, f, 20.0)
        if s is not None:
            name = f"{side[0]}_knee_bend"
            y = P.straighten_knee(x, side, s, f, 20.0)
            out.append(_err("knee bent 20° less", f"{side} leg", name, -20.0, s, y))
            break
    part, s, _ = P.busiest_limb(x, f, 0.5)
    out.append(_err("0.5 s late entry", part, None, 0.5, s, P.late_limb(x, part, s, f, 0.5)))
    return out


def _err(kind, part, angle, want, start, y) -> dict:
    return {"kind": kind, "part": part, "angle": angle, "want": want, "start": start, "copy": y}


def localisation(takes, params, conditions=CONDITIONS, seed: int = 0, log=None) -> list[dict]:
    """One row per take, inserted error and condition: what the first ranked moment says."""
    rng = np.random.default_rng(seed)
    warp = P.WARPS["tempo ±20 %"][1]
    rows = []
    for take in takes:
        x = np.asarray(take.positions, np.float64)
        plain, true = P.apply_warp(x, warp(len(x) / FPS))
        for e in inserted_errors(x):
            y, _ = P.apply_warp(e["copy"], warp(len(x) / FPS))
            inside = np.nonzero((true >= e["start"]) & (true < e["start"] + ERROR_FRAMES))[0]
            for cond in conditions:
                perf, ref, view = make_pair(y, x, cond, rng, params)
                want = e["want"]
                if cond.startswith("2D") and e["angle"]:
                    k = ANGLE_INDEX[e["angle"]]
                    want = float(np.median(joint_angles(view(y))[inside, k] - joint_angles(view(plain))[inside, k]))
                    if abs(want) < 0.5 * abs(e["want"]):  # the change happens mostly in depth
                        rows.append({**_loc_row(take, e, cond, want, inside, []), "hidden": True})
                        continue
                r = compare(perf, ref)
                rows.append(_loc_row(take, e, cond, want, inside, r["moments"]))
            if log:
                log(f"  localisation: {take.name} {e['kind']}")
    return rows


def _loc_row(take, e, cond, want, inside, moments) -> dict:
    row = {
        "take": take.name,
        "style": take.style,
        "error": e["kind"],
        "condition": cond,
        "part": e["part"],
        "want": round(want, 2),
        "rank": None,
        "first_part": None,
        "got": None,
        "abs_error": None,
        "hit": False,
        "hidden": False,
    }
    lo, hi = inside[0] / FPS, (inside[-1] + 1) / FPS
    for rank, m in enumerate(moments, 1):
        if m["part"] == e["part"] and m["start_s"] < hi and m["end_s"] > lo:
            row["rank"] = rank
            break
    if not moments:
        return row
    m = moments[0]
    row["first_part"] = m["part"]
    if e["angle"] is None:
        got = m["late_s"]
        tol = LATE_TOLERANCE
    else:
        got = m["angle"]["difference_deg"] if m["angle"]["name"] == e["angle"] else None
        tol = ANGLE_TOLERANCE
    row["got"] = got
    row["abs_error"] = None if got is None else round(abs(got - want), 2)
    row["hit"] = bool(row["rank"] == 1 and got is not None and abs(got - want) <= tol)
    return row


def summarize_localisation(rows: list[dict]) -> list[dict]:
    """Per error and condition: trials (and those hidden from the camera), ranked first with the
    right part, hits, and the median and largest measurement error among the trials ranked first."""
    out = []
    for cond in dict.fromkeys(r["condition"] for r in rows):
        for kind in dict.fromkeys(r["error"] for r in rows):
            every = [r for r in rows if r["condition"] == cond and r["error"] == kind]
            sel = [r for r in every if not r["hidden"]]
            if not sel:
                continue
            errs = [r["abs_error"] for r in sel if r["rank"] == 1 and r["abs_error"] is not None]
            unit = "s" if "late" in kind else "°"
            out.append(
                {
                    "condition": cond,
                    "error": kind,
                    "trials": len(sel),
                    "hidden_from_camera": len(every) - len(sel),
                    "ranked_first": sum(r["rank"] == 1 for r in sel),
                    "hits": sum(r["hit"] for r in sel),
                    "hit_rate": round(sum(r["hit"] for r in sel) / len(sel), 3),
                    "median_measure_error": None if not errs else round(float(np.median(errs)), 2),
                    "max_measure_error": None if not errs else round(float(np.max(errs)), 2),
                    "unit": unit,
                }
            )
    return out


# ---------------------------------------------------------------- everything


QUICK_TAKES = ("05_09", "60_02", "131_01", "gBR_sBM_cAll_d04_mBR2_ch08", "gJS_sBM_cAll_d03_mJS2_ch07")
QUICK_PAIRS = ("05_02", "05_03", "05_09", "05_10", "05_12", "05_14", "05_15", "131_01", "131_02", "131_03")


def run_all(ds, params, quick: bool = False, seed: int = 0, log=None) -> dict:
    """Every table (``quick``: one take per style, fewer pairs), with the protocol and the data."""
    from dancejax.feedback import calibration as C
    from dancejax.feedback.rules import RULES

    takes = [ds.take(n) for n in QUICK_TAKES] if quick else list(ds.takes)
    pair_takes = [ds.take(n) for n in QUICK_PAIRS] if quick else list(ds.takes)
    say = log or (lambda m: None)
    say(f"timing: {len(takes)} takes × {len(P.WARPS)} warps × {len(CONDITIONS)} conditions")
    rows = timing(takes, params, seed=seed, log=log)
    real = [d for d in ds.detections if d.name in {t.name for t in takes}]
    rows += timing_real_2d(real)
    rows += timing_online(takes, params, seed=seed, log=log)
    rows += timing_real_2d(real, online=True)
    say("localisation")
    loc = localisation(takes, params, seed=seed, log=log)
    say("score by error size")
    size = C.score_by_size(takes, params, seed, noise=False) + C.score_by_size(takes, params, seed, noise=True)
    say("same against different choreography")
    sep = C.separation(ds, params, takes=pair_takes, seed=seed, log=log)
    say("mirror, real pairs, risk rules")
    train = [t for t in ds.takes if t.split == "train"]
    calibrated = C.calibrate_rules(train)
    rules = [
        {
            "rule": r.name,
            "literature": r.literature,
            "calibrated_on_train": calibrated.get(r.name),
            "in_use": r.threshold,
            "unit": r.unit,
        }
        for r in RULES
    ]
    return {
        "protocol": __doc__,
        "score_protocol": C.__doc__,
        "data": {
            "takes": [t.name for t in takes],
            "pairs_from": [t.name for t in pair_takes],
            "real_2d": [d.name for d in real],
            "fps": FPS,
            "seed": seed,
            "quick": quick,
        },
        "auc": {"all_same_choreography": sep["auc_all"], "real_pairs_only": sep["auc_real_pairs"]},
        "tables": {
            "timing": summarize_timing(rows),
            "localisation": summarize_localisation(loc),
            "localisation_trials": loc,
            "score_by_size": size,
            "score_monotone": C.monotone(size),
            "score_groups": sep["groups"],
            "score_pairs": sep["pairs"],
            "real_pairs": C.real_pairs(ds),
            "mirror": C.mirror_check(takes, params, seed),
            "rule_thresholds": rules,
            "risk_false_alarms": _with_literature(ds.takes),
            "landings": C.landing_table(ds.takes),
            "inserted_risks": C.inserted_risks(ds.takes),
        },
    }


def _with_literature(takes) -> list[dict]:
    """``calibration.rule_rates`` with the rate each rule would have at its literature's
    threshold (the same measure and gating; None where there is no literature value)."""
    from dancejax.feedback import calibration as C
    from dancejax.feedback.rules import RULES

    lit = {r.name: r.literature for r in RULES if r.literature is not None}
    before = {(r["takes"], r["rule"]): r["per_minute"] for r in C.rule_rates(C.rule_counts(takes, lit))}
    rows = C.rule_rates(C.rule_counts(takes))
    return [r | {"per_minute_at_literature": before[r["takes"], r["rule"]] if r["rule"] in lit else None} for r in rows]


PRINTED = {
    "timing": "Timing recovery (frames at 25 fps; target median ≤ 2, 95th percentile ≤ 5)",
    "localisation": "Localisation of inserted errors (hit: ranked first, right part and side, measured within "
    "5° or 0.12 s)",
    "score_groups": "Score of same- and different-choreography pairs",
    "real_pairs": "Pairs a new user would try",
    "mirror": "Mirror mode on mirrored copies (time-warped, moved, noisy)",
    "rule_thresholds": "Risk rule thresholds (literature, calibrated on the train split, in use)",
    "risk_false_alarms": "Risk flags per minute on the professional takes compared with themselves (target ≤ 1; "
    "the last column: the same rule at its literature's threshold)",
}


def report_text(result: dict) -> str:
    """The printed tables, with the AUC and the score's monotonicity."""
    t = result["tables"]
    parts = [format_table(t[k], title) for k, title in PRINTED.items()]
    mono = t["score_monotone"]
    for cond in dict.fromkeys(r["condition"] for r in mono):
        sel = [r for r in mono if r["condition"] == cond]
        ok = sum(r["monotone"] for r in sel)
        parts.append(f"Score never rises as the error grows ({cond}): {ok} of {len(sel)} takes")
    auc = result["auc"]
    parts.append(
        f"AUC same against different choreography: {auc['all_same_choreography']:.3f} "
        f"(real same-choreography pairs only: {auc['real_pairs_only']:.3f})"
    )
    caught = t["inserted_risks"]
    for rule in dict.fromkeys(r["rule"] for r in caught):
        sel = [r for r in caught if r["rule"] == rule]
        parts.append(f"Inserted {rule}: caught {sum(r['caught'] for r in sel)} of {len(sel)}")
    return "\n\n".join(parts)


# ---------------------------------------------------------------- tables


def write_tables(result: dict, out) -> list[Path]:
    """``validation.json`` (every number, the protocol and the data) and one CSV per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "validation.json"]
    files[0].write_text(json.dumps(result, indent=1))
    for name, rows in result["tables"].items():
        if rows:
            path = out / f"{name}.csv"
            with path.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            files.append(path)
    return files


def format_table(rows: list[dict], title: str) -> str:
    """A plain-text table of dict rows."""
    if not rows:
        return f"{title}: no rows"
    cols = list(rows[0])
    cells = [[("" if r[c] is None else str(r[c])) for c in cols] for r in rows]
    width = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, width))
    return "\n".join([title, line(cols), line(["-" * w for w in width]), *map(line, cells)])
