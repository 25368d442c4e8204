"""Known answers for the feedback validation: a real take turned into a "performance" whose
differences from the take are known exactly.

* **Time warps** (``WARPS``): each maps performance time to reference time (seconds); the
  performance is the take sampled at the warped times, so the true matched reference frame of
  every performance frame is known.
* **Moves**: the dancer stands elsewhere, is taller or shorter, and faces another way.
* **Detector noise**: the detector-noise simulator (``dancejax.data.noise``, calibrated on
  real AIST++ detections: misses, left/right swaps, outliers, drifting jitter).  In 3D, two
  simulated views (front and side) are combined as a two-camera triangulation would: x from the
  front view, z from the side, y their mean; a joint is missing when either view misses it.
* **Inserted errors** (``lower_arm``, ``straighten_knee``, ``late_limb``, ``turn_forearm``):
  one body part changed for a stretch of time, ramped in and out over 0.2 s.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from dancejax.data.noise import NoiseParams, simulate_detections
from dancejax.feedback.features import ANGLE_INDEX, FPS, J, heading_rotation, joint_angles
from dancejax.io.sequence import PoseSequence
from dancejax.skeleton import NECK, mid_hip

RAMP = 5  # frames over which an inserted error fades in and out


def _swing(s, period=6.0, depth=0.2):
    return s + depth * period / (2 * np.pi) * (1 - np.cos(2 * np.pi * s / period))


def _drift(s):
    return 0.97 * s + 0.3 * np.sin(2 * np.pi * s / 11.0)


def _pause(s, at, hold=0.5):
    return np.where(s < at, s, np.where(s < at + hold, at, s - hold))


def _lead(s, lead=1.0):
    return np.maximum(0.0, s - lead)


# name -> (what it is, builder: reference duration in seconds -> warp)
WARPS = {
    "tempo -20 %": ("20 % slower throughout", lambda d: lambda s: 0.8 * s),
    "tempo +20 %": ("20 % faster throughout", lambda d: lambda s: 1.2 * s),
    "tempo ±20 %": ("tempo swinging smoothly between 80 % and 120 % (6 s period)", lambda d: _swing),
    "pause 0.5 s": ("a 0.5 s hold halfway through", lambda d: lambda s: _pause(s, d / 2)),
    "lead-in 1 s": ("a 1 s late start (the first pose held)", lambda d: _lead),
    "drift": ("3 % slower with a ±0.3 s wander (11 s period)", lambda d: _drift),
    "all": (
        "lead-in 1 s, then tempo ±20 %, a 0.5 s hold halfway and the drift, all at once",
        lambda d: lambda s: _drift(_swing(_pause(_lead(s), d / 2))),
    ),
}


def apply_warp(x: np.ndarray, warp) -> tuple[np.ndarray, np.ndarray]:
    """The take ``x`` (T, J, D) performed along ``warp`` (performance s -> reference s): the
    performance (N, J, D), linearly interpolated, and its true reference frame per frame (N,)."""
    t = len(x)
    s = np.arange(0.0, 4.0 * t / FPS, 1.0 / FPS)
    r = warp(s) * FPS
    n = int(np.searchsorted(r, t - 1, side="left")) + 1
    r = np.clip(r[:n], 0, t - 1)
    i0 = np.floor(r).astype(int)
    i1 = np.minimum(i0 + 1, t - 1)
    f = (r - i0)[:, None, None]
    return x[i0] * (1 - f) + x[i1] * f, r


def mover(rng: np.random.Generator, turn: bool = True, reach: float = 2.0):
    """A random change of place (±``reach`` m on the floor), size (±15 %) and, with ``turn``,
    facing (any direction), as a function of (T, J, 3) poses."""
    scale = rng.uniform(0.85, 1.15)
    yaw = rng.uniform(-np.pi, np.pi) if turn else 0.0
    shift = np.array([rng.uniform(-reach, reach), 0.0, rng.uniform(-reach, reach)])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return lambda x: (np.asarray(x, np.float64) @ rot.T) * scale + shift


def move(x: np.ndarray, rng: np.random.Generator, turn: bool = True, reach: float = 2.0) -> np.ndarray:
    """``x`` given a random change of place, size and facing (``mover``)."""
    return mover(rng, turn, reach)(x)


@functools.cache
def _simulator():
    return jax.jit(simulate_detections)


def detections(x2: np.ndarray, params: NoiseParams, key) -> tuple[np.ndarray, np.ndarray]:
    """Simulated detector keypoints and confidences of clean (T, J, 2) keypoints; the length is
    padded to a multiple of 256 frames so that few shapes are compiled."""
    t = len(x2)
    pad = -t % 256
    xp = np.concatenate([x2, np.repeat(x2[-1:], pad, 0)]) if pad else x2
    det, conf = _simulator()(key, np.asarray(xp, np.float32), params)
    return np.asarray(det, np.float64)[:t], np.asarray(conf)[:t]


def noisy(x: np.ndarray, params: NoiseParams, key, units: str = "m") -> PoseSequence:
    """Detector-like noise on a (T, 14, D) take, as a ``PoseSequence`` with confidences (see
    the module docstring for 3D)."""
    if x.shape[-1] == 2:
        det, conf = detections(x, params, key)
        return PoseSequence(det, conf, FPS, "lsp14", {"units": units})
    k1, k2 = jax.random.split(key)
    front, c1 = detections(x[..., [0, 1]], params, k1)
    side, c2 = detections(x[..., [2, 1]], params, k2)
    pos = np.stack([front[..., 0], 0.5 * (front[..., 1] + side[..., 1]), side[..., 0]], -1)
    return PoseSequence(pos, np.minimum(c1, c2), FPS, "lsp14", {"units": units})


def camera_view(x: np.ndarray, azimuth: float, centre: np.ndarray) -> np.ndarray:
    """(T, 14, 3) metres -> (T, 14, 2) pixels through a pinhole camera (focal 1200 px, 1920 × 1080)
    4.5 m from ``centre`` on the floor, 1.2 m high, in the direction ``azimuth`` (radians)."""
    eye = np.array([centre[0] + 4.5 * np.sin(azimuth), 1.2, centre[2] + 4.5 * np.cos(azimuth)])
    target = np.array([centre[0], 1.0, centre[2]])
    fwd = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    rot = np.stack([right, np.cross(fwd, right), fwd])
    xc = (np.asarray(x, np.float64) - eye) @ rot.T
    return xc[..., :2] / np.maximum(xc[..., 2:3], 0.1) * 1200.0 + np.array([960.0, 540.0])


# ---------------------------------------------------------------- inserted errors


def _ramp(n: int) -> np.ndarray:
    w = np.ones(n)
    k = min(RAMP, n // 2)
    if k:
        w[:k] = np.linspace(1.0 / (k + 1), 1.0, k)
        w[-k:] = w[:k][::-1]
    return w


def _rotate(v, axis, deg):
    """Rodrigues: (n, 3) vectors about (n, 3) unit axes by (n,) degrees."""
    th = np.radians(deg)[:, None]
    return v * np.cos(th) + np.cross(axis, v) * np.sin(th) + axis * (axis * v).sum(-1, keepdims=True) * (1 - np.cos(th))


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def lower_arm(x: np.ndarray, side: str, start: int, frames: int, degrees: float) -> np.ndarray:
    """The arm lowered by ``degrees`` about the shoulder (towards the trunk's downward
    direction, in the plane of the upper arm and the trunk) for ``frames`` frames."""
    s = "r" if side == "right" else "l"
    sh, el, wr = J(f"{s}_shoulder"), J(f"{s}_elbow"), J(f"{s}_wrist")
    y = np.array(x, np.float64)
    t = np.arange(start, start + frames)
    down = mid_hip(y[t]) - y[t, NECK]
    axis = _unit(np.cross(y[t, el] - y[t, sh], down))
    deg = degrees * _ramp(frames)
    for j in (el, wr):
        y[t, j] = y[t, sh] + _rotate(y[t, j] - y[t, sh], axis, deg)
    return y


def straighten_knee(x: np.ndarray, side: str, start: int, frames: int, degrees: float) -> np.ndarray:
    """The knee bent ``degrees`` less (the shin turned about the knee towards the thigh's line)."""
    s = "r" if side == "right" else "l"
    hip, knee, ank = J(f"{s}_hip"), J(f"{s}_knee"), J(f"{s}_ankle")
    y = np.array(x, np.float64)
    t = np.arange(start, start + frames)
    shin, thigh = y[t, ank] - y[t, knee], y[t, knee] - y[t, hip]
    axis = _unit(np.cross(shin, thigh))
    y[t, ank] = y[t, knee] + _rotate(shin, axis, degrees * _ramp(frames))
    return y


def turn_forearm(x: np.ndarray, side: str, start: int, frames: int, degrees: float) -> np.ndarray:
    """The forearm turned by ``degrees`` about the elbow, towards the vertical plane of the arm."""
    s = "r" if side == "right" else "l"
    el, wr = J(f"{s}_elbow"), J(f"{s}_wrist")
    y = np.array(x, np.float64)
    t = np.arange(start, start + frames)
    fore = y[t, wr] - y[t, el]
    axis = _unit(np.cross(fore, np.where(np.abs(_unit(fore)[:, 1:2]) > 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])))
    y[t, wr] = y[t, el] + _rotate(fore, axis, degrees * _ramp(frames))
    return y


LIMB_JOINTS = {
    "right arm": (J("r_shoulder"), (J("r_elbow"), J("r_wrist"))),
    "left arm": (J("l_shoulder"), (J("l_elbow"), J("l_wrist"))),
    "right leg": (J("r_hip"), (J("r_knee"), J("r_ankle"))),
    "left leg": (J("l_hip"), (J("l_knee"), J("l_ankle"))),
}


def late_profile(frames: int, lag: int) -> np.ndarray:
    """Delay in frames over the stretch: the limb holds (0 → lag), follows ``lag`` behind, and
    catches up at double speed over the last ``lag`` frames."""
    t = np.arange(frames)
    return np.minimum(np.minimum(t, lag), np.maximum(frames - 1 - t, 0)).astype(float)


def late_limb(x: np.ndarray, part: str, start: int, frames: int, lag_s: float) -> np.ndarray:
    """The limb enters ``lag_s`` late: for ``frames`` frames it follows the take's own movement
    delayed as ``late_profile`` says, in the body's heading frame, while the rest is on time."""
    root, joints = LIMB_JOINTS[part]
    y = np.array(x, np.float64)
    rot = heading_rotation(y) if y.shape[-1] == 3 else None
    d = late_profile(frames, int(round(lag_s * FPS)))
    for k, t in enumerate(range(start, start + frames)):
        src = float(t - d[k])
        i0 = int(np.floor(src))
        f = src - i0
        i1 = min(i0 + 1, len(x) - 1)
        for j in joints:
            rel = lambda i: (x[i, j] - x[i, root]) if rot is None else rot[i] @ (x[i, j] - x[i, root])
            v = (1 - f) * rel(i0) + f * rel(i1)
            y[t, j] = y[t, root] + (v if rot is None else rot[t].T @ v)
    return y


# ---------------------------------------------------------------- where an error can be inserted


def arm_window(x: np.ndarray, side: str, frames: int, degrees: float) -> int | None:
    """The first start at which the arm is raised at least ``degrees`` + 10° throughout the
    stretch (so that it can be lowered by ``degrees``), or None."""
    raise_ = joint_angles(x)[:, 0 if side == "right" else 1]
    return _first_window(raise_ >= degrees + 10.0, frames)


def knee_window(x: np.ndarray, side: str, frames: int, degrees: float) -> int | None:
    """The first start at which the knee is bent at least ``degrees`` + 5° throughout."""
    bend = joint_angles(x)[:, 6 if side == "right" else 7]
    return _first_window(bend >= degrees + 5.0, frames)


def _first_window(ok: np.ndarray, frames: int) -> int | None:
    run = 0
    for t, v in enumerate(ok):
        run = run + 1 if v else 0
        if run >= frames:
            return t - frames + 1
    return None


def busiest_limb(x: np.ndarray, frames: int, lag_s: float) -> tuple[str, int, float]:
    """The limb and start where entering ``lag_s`` late changes the limb the most (the largest
    mean angle between its delayed and on-time bones): (part, start, that mean angle)."""
    lag = int(round(lag_s * FPS))
    best = ("right arm", 0, -1.0)
    for part, (root, joints) in LIMB_JOINTS.items():
        a, b = x[:, joints[0]] - x[:, root], x[:, joints[1]] - x[:, joints[0]]
        move = np.zeros(len(x))
        for bone in (a, b):
            u, v = _unit(bone[lag:]), _unit(bone[:-lag])
            move[lag:] = np.maximum(move[lag:], np.degrees(np.arccos(np.clip((u * v).sum(-1), -1, 1))))
        if len(move) <= frames:
            continue
        score = np.convolve(move, late_profile(frames, lag) / lag / frames, mode="valid")
        t = int(score[: len(x) - frames].argmax())
        if score[t] > best[2]:
            best = (part, t, float(score[t]))
    return best


# ---------------------------------------------------------------- inserted risks (for the rules)


def stiffen_landing(x: np.ndarray, side: str, frame: int, bend: float = 10.0, seconds: float = 0.3) -> np.ndarray:
    """The ``side`` knee held at no more than ``bend`` degrees from the touch-down ``frame`` for
    ``seconds`` (the shin turned about the knee towards the thigh's line), easing back after; the
    whole body is raised so that the foot lands where it did (a stiff leg holds the hips higher)."""
    s = "r" if side == "right" else "l"
    hip, knee, ank = J(f"{s}_hip"), J(f"{s}_knee"), J(f"{s}_ankle")
    y = np.array(x, np.float64)
    n = int(round(seconds * FPS)) + 1
    t = np.arange(frame, min(len(x), frame + n + RAMP))
    now = joint_angles(y[t])[:, 6 if side == "right" else 7]
    ease = np.concatenate([np.ones(n), np.linspace(1.0, 0.0, RAMP + 2)[1:-1]])[: len(t)]
    shin, thigh = y[t, ank] - y[t, knee], y[t, knee] - y[t, hip]
    y[t, ank] = y[t, knee] + _rotate(shin, _unit(np.cross(shin, thigh)), np.maximum(now - bend, 0.0) * ease)
    y[t, :, 1] += (x[t, ank, 1] - y[t, ank, 1])[:, None]
    return y


def loaded_bent_window(x: np.ndarray, frames: int, bend: float = 35.0) -> tuple[str, int] | None:
    """A side and start where that ankle stays on the floor, the knee bent ≥ ``bend`` degrees and
    the trunk upright enough for the knee rule to read it."""
    from dancejax.feedback.rules import STANCE, UPRIGHT, floor_height

    floor = floor_height(x)
    angles = joint_angles(x)
    upright = angles[:, ANGLE_INDEX["trunk_lean"]] <= UPRIGHT
    for side, k, ank in (("right", 6, J("r_ankle")), ("left", 7, J("l_ankle"))):
        s = _first_window((x[:, ank, 1] <= floor + STANCE) & (angles[:, k] >= bend) & upright, frames)
        if s is not None:
            return side, s
    return None


def turn_knee_in(x: np.ndarray, side: str, start: int, frames: int, to: float) -> np.ndarray:
    """The knee swung inward about its hip–ankle line (hip and foot stay put), as in a medial
    collapse, until it points ``to`` degrees inward of the pelvis's forward direction, for
    ``frames`` frames, ramped in and out."""
    from dancejax.feedback.rules import knee_inward

    s = "r" if side == "right" else "l"
    hip, knee, ank = J(f"{s}_hip"), J(f"{s}_knee"), J(f"{s}_ankle")
    col = 0 if side == "right" else 1
    t = np.arange(start, start + frames)
    axis = _unit(x[t, ank] - x[t, hip])
    deg = np.maximum(to - knee_inward(x[t])[:, col], 0.0) * _ramp(frames)
    tries = []
    for sign in (1.0, -1.0):
        y = np.array(x, np.float64)
        y[t, knee] = y[t, hip] + _rotate(y[t, knee] - y[t, hip], axis, sign * deg)
        tries.append((float((knee_inward(y[t])[:, col] - knee_inward(x[t])[:, col]).mean()), sign, y))
    return max(tries, key=lambda g: g[0])[2]
