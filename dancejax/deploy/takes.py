"""A trained model on a take file: what ``dancejax predict`` and ``dancejax refine`` compute and
write.

**Prediction** (``predict_take``): from the last ``obs`` observed frames, the next ``horizon``;
with ``every=N`` a prediction after every N-th frame of the whole take (the first after frame
``obs``), each scored against what the take really did next where it goes on that long
(root-relative MPJPE, mm, beside the zero-velocity baseline).  ``write_prediction`` writes it as
a frame JSON (one prediction) or a ``dancejax-predictions`` JSON (several), an NPZ, or a BVH
(``write_bvh_positions``: every LSP-14 joint with position channels, under a mid-hip root);
``plot_prediction`` draws the observed and predicted poses.

**Refinement** (``refine_take``): 2D keypoints at any frame rate, refined at the model's 25 fps
and brought back to the input's own frames and frame rate.  A clip shorter than the model's
window is padded by repeating its first and last frames (and says so); a single frame is
refused, since the refiner needs motion.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.sequence import CANONICAL_FPS, PoseSequence, canonical, to_lsp14
from dancejax.skeleton import LSP14

FORMATS = ("json", "npz", "bvh")
PREDICTIONS_FORMAT = "dancejax-predictions"


def predict_take(model, positions: np.ndarray, every: int | None = None, horizon: int | None = None) -> dict:
    """Predictions over a (T, 14, 3) take at 25 fps (metres).

    Returns:
        ``starts`` (S,): the first predicted frame of each prediction (frames of the take at 25
        fps); ``predicted`` (S, horizon, 14, 3); ``mpjpe_mm`` (S,) root-relative error against
        the take where it goes on for the whole horizon (NaN where it does not) and
        ``zero_velocity_mm`` (S,) the same for repeating the last observed pose.
    """
    from dancejax.skeleton import root_relative

    mpjpe_mm = lambda a, b: 1000.0 * float(np.linalg.norm(root_relative(a) - root_relative(b), axis=-1).mean())

    obs, pred = model.cfg.obs, model.cfg.pred
    horizon = horizon or pred
    t = positions.shape[0]
    if t < obs:
        raise DataError(f"the model needs {obs} observed frames at 25 fps, the take has {t}")
    if every is not None and every < 1:
        raise DataError(f"every: expected a positive number of frames, got {every}")
    starts = np.arange(obs, t + 1, every) if every else np.array([t])
    windows = np.stack([positions[s - obs : s] for s in starts])
    out = np.concatenate([np.asarray(model(windows[i : i + 256], horizon)) for i in range(0, len(windows), 256)])
    err, zero = np.full(len(starts), np.nan), np.full(len(starts), np.nan)
    for k, s in enumerate(starts):
        if s + horizon <= t:
            truth = positions[s : s + horizon]
            err[k] = mpjpe_mm(out[k], truth)
            zero[k] = mpjpe_mm(np.repeat(positions[s - 1 : s], horizon, 0), truth)
    return {
        "starts": starts,
        "predicted": out.astype(np.float32),
        "observed": positions,
        "mpjpe_mm": err,
        "zero_velocity_mm": zero,
        "obs": obs,
        "horizon": horizon,
        "fps": CANONICAL_FPS,
    }


# a tree over the LSP-14 joints under a mid-hip root, for BVH output: (joint, parent) in order
BVH_TREE = (
    ("r_hip", "pelvis"),
    ("r_knee", "r_hip"),
    ("r_ankle", "r_knee"),
    ("l_hip", "pelvis"),
    ("l_knee", "l_hip"),
    ("l_ankle", "l_knee"),
    ("neck", "pelvis"),
    ("head_top", "neck"),
    ("r_shoulder", "neck"),
    ("r_elbow", "r_shoulder"),
    ("r_wrist", "r_elbow"),
    ("l_shoulder", "neck"),
    ("l_elbow", "l_shoulder"),
    ("l_wrist", "l_elbow"),
)


def write_bvh_positions(positions: np.ndarray, fps: float, path) -> Path:
    """LSP-14 poses (T, 14, 3), metres, as a BVH: a ``pelvis`` root at the mid-hip and every
    joint with three position channels (its translation from its parent; no rotations), so
    that any BVH reader, dancejax's included, gets the same joint positions back."""
    names = ["pelvis"] + [j for j, _ in BVH_TREE]
    parent = {j: p for j, p in BVH_TREE}
    idx = {n: i for i, n in enumerate(LSP14.joints)}
    world = {n: positions[:, idx[n]] for n in LSP14.joints}
    world["pelvis"] = positions[:, [idx["r_hip"], idx["l_hip"]]].mean(1)
    local = {n: world[n] - (world[parent[n]] if n in parent else 0.0) for n in names}
    children = {n: [j for j, p in BVH_TREE if p == n] for n in names}
    lines = ["HIERARCHY"]

    def block(n, depth):
        pad = "  " * depth
        o = local[n][0]
        lines.append(f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {n}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {o[0]:.6f} {o[1]:.6f} {o[2]:.6f}")
        lines.append(f"{pad}  CHANNELS 3 Xposition Yposition Zposition")
        for c in children[n]:
            block(c, depth + 1)
        if not children[n]:
            lines.extend([f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0.0 0.0 0.0", pad + "  }"])
        lines.append(pad + "}")

    block("pelvis", 0)
    order = []

    def walk(n):
        order.append(n)
        for c in children[n]:
            walk(c)

    walk("pelvis")
    motion = np.concatenate([local[n] for n in order], 1)
    lines += ["MOTION", f"Frames: {len(motion)}", f"Frame Time: {1.0 / fps:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_prediction(result: dict, dest, fmt: str | None = None, source: str | None = None) -> Path:
    """Write ``predict_take``'s result in ``fmt`` ('json', 'npz', 'bvh'; default: ``dest``'s
    suffix).  Joint names and units go with every format; predicted frames carry no
    confidence (the frame JSON's confidence column is 1 and its labels say so)."""
    from dancejax.io.jsonfmt import write_frames_json

    dest = Path(dest)
    fmt = fmt or (dest.suffix.lstrip(".").lower() or "json")
    if fmt not in FORMATS:
        raise DataError(f"{dest}: unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    single = len(result["starts"]) == 1
    info = {
        "units": "m",
        "fps": result["fps"],
        "joints": list(LSP14.joints),
        "observed_frames": int(result["obs"]),
        "horizon": int(result["horizon"]),
        "predicted_from": source,
    }
    if fmt == "npz":
        np.savez(
            dest,
            starts=result["starts"],
            predicted=result["predicted"],
            mpjpe_mm=result["mpjpe_mm"],
            zero_velocity_mm=result["zero_velocity_mm"],
            joints=np.array(LSP14.joints),
            info=json.dumps(info),
        )
    elif fmt == "bvh":
        if not single:
            raise DataError(f"{dest}: a BVH holds one prediction; with --every write json or npz")
        write_bvh_positions(result["predicted"][0], result["fps"], dest)
    elif single:
        labels = {
            **{k: v for k, v in info.items() if k not in ("units", "fps", "joints")},
            "first_predicted_frame": int(result["starts"][0]),
            "confidence": "none: a prediction has no confidence; the column is 1",
        }
        seq = PoseSequence(result["predicted"][0], None, result["fps"], "lsp14", {"units": "m", **labels}, source)
        write_frames_json(seq, dest)
    else:
        doc = {"format": PREDICTIONS_FORMAT, "version": 1, **info, "predictions": []}
        for k, s in enumerate(result["starts"]):
            e, z = result["mpjpe_mm"][k], result["zero_velocity_mm"][k]
            doc["predictions"].append(
                {
                    "first_frame": int(s),
                    "time_s": round(float(s) / result["fps"], 4),
                    "positions": np.round(result["predicted"][k].astype(np.float64), 6).tolist(),
                    "mpjpe_mm": None if np.isnan(e) else round(float(e), 2),
                    "zero_velocity_mm": None if np.isnan(z) else round(float(z), 2),
                }
            )
        dest.write_text(json.dumps(doc))
    return dest


def plot_prediction(result: dict, path, title: str = "") -> Path:
    """Front view (x, y) of the last observed poses (grey) and the predicted ones (coloured) of
    the last prediction; with several predictions, also their error along the take."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    several = len(result["starts"]) > 1
    fig, axes = plt.subplots(1, 2 if several else 1, figsize=(10 if several else 5, 4.5), squeeze=False)
    ax = axes[0][0]
    s, obs = int(result["starts"][-1]), result["obs"]
    seen = result["observed"][s - obs : s]
    pred = result["predicted"][-1]
    cmap = plt.get_cmap("viridis")
    for k, pose in enumerate(seen):
        _stick(ax, pose, color="0.6", alpha=0.3 + 0.7 * (k + 1) / len(seen), label="observed" if k == 0 else None)
    for k, pose in enumerate(pred):
        _stick(ax, pose, color=cmap(k / max(len(pred) - 1, 1)), alpha=0.9, label="predicted" if k == 0 else None)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m, up)")
    ax.set_title(f"frames {s - obs}-{s - 1} observed, {s}-{s + len(pred) - 1} predicted (25 fps)", fontsize=9)
    ax.legend(fontsize=8)
    if several:
        ax2 = axes[0][1]
        t = result["starts"] / result["fps"]
        ax2.plot(t, result["mpjpe_mm"], "o-", ms=3, label="model")
        ax2.plot(t, result["zero_velocity_mm"], "s--", ms=3, label="zero velocity")
        ax2.set_xlabel("time of the first predicted frame (s)")
        ax2.set_ylabel(f"MPJPE over {result['horizon']} frames (mm, root-relative)", fontsize=9)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _stick(ax, pose, color, alpha, label=None):
    for i, j in LSP14.edges:
        ax.plot(pose[[i, j], 0], pose[[i, j], 1], "-", color=color, alpha=alpha, lw=1.5, label=label)
        label = None


def refine_take(model, seq: PoseSequence, source, log=print) -> tuple[PoseSequence, np.ndarray]:
    """Refined LSP-14 keypoints at ``seq``'s own frames and frame rate, and the mean style
    posterior.  ``seq`` is 2D keypoints of any layout with an LSP-14 map, at any frame rate."""
    from dancejax.tasks.recognition import refine_sequence

    if seq.positions.shape[-1] != 2:
        raise DataError(f"{source}: field 'positions': the refiner takes 2D keypoints, got {seq.positions.shape[-1]}D")
    if seq.num_frames < 2:
        raise DataError(
            f"{source}: a single frame (an image): the refiner needs motion, a sequence of frames (it refines "
            f"each joint from its path over {model.cfg.window} frames at 25 fps)"
        )
    c = canonical(seq)
    x, conf = c.positions, c.confidence
    w, n = model.cfg.window, c.num_frames
    before = 0
    if n < w:
        before = (w - n) // 2
        after = w - n - before
        x = np.concatenate([np.repeat(x[:1], before, 0), x, np.repeat(x[-1:], after, 0)])
        conf = np.concatenate([np.repeat(conf[:1], before, 0), conf, np.repeat(conf[-1:], after, 0)])
        log(
            f"  {Path(str(source)).name}: {n} frames at 25 fps, shorter than the refiner's window of {w}; padded "
            f"by repeating its first and last frames (the padding is dropped from the output)"
        )
    try:
        refined, probs = refine_sequence(model, x, conf)
    except DataError as e:
        raise DataError(f"{source}: {str(e).removeprefix('input: ')}") from None
    refined = np.asarray(refined)[before : before + n]
    # back to the input's own frame times, by linear interpolation between the 25 fps frames
    times = np.arange(seq.num_frames) / seq.fps * CANONICAL_FPS
    pos = np.clip(times, 0, n - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    wgt = (pos - i0)[:, None, None].astype(np.float32)
    out = refined[i0] * (1 - wgt) + refined[i1] * wgt
    lsp = to_lsp14(seq)
    labels = {
        **seq.labels,
        "refined_from_layout": seq.layout,
        "confidence": "the detector's, mapped to LSP-14",
    }
    return PoseSequence(out, lsp.confidence, seq.fps, "lsp14", labels, source=str(source)), np.asarray(probs)
