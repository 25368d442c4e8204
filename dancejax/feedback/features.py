"""Pose features shared by the feedback analysis, its report and the online aligner: clean-up of
detector keypoints, position-, scale- and heading-invariant poses, bone directions, the joint
angles a dancer names, and the body parts (with their side) they are summarised by.

Conventions: LSP-14 joints at 25 fps; 3D takes are Y-up (metres when their units are known);
2D takes are image coordinates with y pointing down.  The dancer's right is their own right.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import median_filter

from dancejax.data.noise import MISS_CONF
from dancejax.errors import DataError
from dancejax.skeleton import HIPS, LSP14, NECK, mid_hip

FPS = 25.0
MIN_FRAMES = 10  # less than 0.4 s at 25 fps is not a performance to compare
J = LSP14.index
DENOISE_FRAMES = 5  # a running median this long removes detector swaps and outliers of up to 2 frames

# The body parts a dancer names, with the LSP-14 joints each one moves.
PARTS = {
    "right arm": (J("r_shoulder"), J("r_elbow"), J("r_wrist")),
    "left arm": (J("l_shoulder"), J("l_elbow"), J("l_wrist")),
    "right leg": (J("r_hip"), J("r_knee"), J("r_ankle")),
    "left leg": (J("l_hip"), J("l_knee"), J("l_ankle")),
    "trunk and head": (J("neck"), J("head_top")),
}
ROOT = -1  # stands for the mid-hip in BONES

# Bones whose direction is compared, by part: (name, from joint, to joint).
BONES = (
    ("right upper arm", "right arm", J("r_shoulder"), J("r_elbow")),
    ("right forearm", "right arm", J("r_elbow"), J("r_wrist")),
    ("left upper arm", "left arm", J("l_shoulder"), J("l_elbow")),
    ("left forearm", "left arm", J("l_elbow"), J("l_wrist")),
    ("right thigh", "right leg", J("r_hip"), J("r_knee")),
    ("right shin", "right leg", J("r_knee"), J("r_ankle")),
    ("left thigh", "left leg", J("l_hip"), J("l_knee")),
    ("left shin", "left leg", J("l_knee"), J("l_ankle")),
    ("trunk", "trunk and head", ROOT, NECK),
    ("head", "trunk and head", NECK, J("head_top")),
    ("shoulders", "trunk and head", J("l_shoulder"), J("r_shoulder")),
)


@dataclasses.dataclass(frozen=True)
class Angle:
    """A joint angle in degrees, named as a dancer would; ``more``/``less`` describe a positive /
    negative difference (performance minus reference)."""

    name: str
    part: str
    label: str
    more: str
    less: str


# Raises are measured from the trunk's downward direction (0° hanging, 90° level with the
# shoulder or hip, 180° overhead); bends are 180° minus the angle between the two bones (0° straight).
ANGLES = (
    Angle("r_arm_raise", "right arm", "right arm", "higher", "lower"),
    Angle("l_arm_raise", "left arm", "left arm", "higher", "lower"),
    Angle("r_elbow_bend", "right arm", "right elbow", "more bent", "straighter"),
    Angle("l_elbow_bend", "left arm", "left elbow", "more bent", "straighter"),
    Angle("r_leg_raise", "right leg", "right leg", "higher", "lower"),
    Angle("l_leg_raise", "left leg", "left leg", "higher", "lower"),
    Angle("r_knee_bend", "right leg", "right knee", "more bent", "straighter"),
    Angle("l_knee_bend", "left leg", "left knee", "more bent", "straighter"),
    Angle("trunk_lean", "trunk and head", "trunk", "leaning more", "more upright"),
    Angle("head_tilt", "trunk and head", "head", "tilted more", "held straighter"),
)
ANGLE_INDEX = {a.name: k for k, a in enumerate(ANGLES)}


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _between(u, v):
    """Degrees between vectors (..., D)."""
    return np.degrees(np.arccos(np.clip((_unit(u) * _unit(v)).sum(-1), -1.0, 1.0)))


def up_vector(dims: int) -> np.ndarray:
    """The vertical: +Y in 3D, image up (−y) in 2D."""
    return np.array([0.0, 1.0, 0.0]) if dims == 3 else np.array([0.0, -1.0])


# Each joint's parent: a missing joint is filled from its parent's position and the parent-to-joint
# vector interpolated in time (the vector changes more slowly than the position of a moving dancer).
PARENT = {
    J("r_knee"): J("r_hip"),
    J("r_ankle"): J("r_knee"),
    J("l_knee"): J("l_hip"),
    J("l_ankle"): J("l_knee"),
    J("r_elbow"): J("r_shoulder"),
    J("r_wrist"): J("r_elbow"),
    J("l_elbow"): J("l_shoulder"),
    J("l_wrist"): J("l_elbow"),
    J("head_top"): NECK,
}
FILL_ORDER = (J("r_hip"), J("l_hip"), NECK, J("r_shoulder"), J("l_shoulder"), *PARENT)
OUTLIER_BONE = 0.3  # a bone this much longer (2D) or longer or shorter (3D) than usual marks its far joint


def bone_outliers(x: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(T, J) True where a limb or head joint is implausibly far from its parent: a detector's
    left/right swap or outlier.  The usual length of a bone is its median (3D: bones keep their
    length) or its 90th percentile (2D: a bone only looks shorter when it points at the camera)."""
    bad = np.zeros(seen.shape, bool)
    for j, parent in PARENT.items():  # parents before children
        ok = seen[:, j] & seen[:, parent] & ~bad[:, parent]
        if ok.sum() < 3:
            continue
        length = np.linalg.norm(x[:, j] - x[:, parent], axis=-1)
        usual = np.median(length[ok]) if x.shape[-1] == 3 else np.percentile(length[ok], 90)
        ratio = length / max(usual, 1e-9)
        off = ratio > 1 + OUTLIER_BONE if x.shape[-1] == 2 else np.abs(ratio - 1) > OUTLIER_BONE
        bad[:, j] = off | (bad[:, parent] & ~seen[:, parent])
        bad[:, j] &= seen[:, j]
    return bad


def fill_missing(x: np.ndarray, conf: np.ndarray | None, source: str = "take") -> tuple[np.ndarray, np.ndarray]:
    """Joints whose confidence is below ``MISS_CONF``, or that ``bone_outliers`` rejects, are
    filled in: the trunk's joints by linear interpolation in time, limb and head joints from their
    parent and the interpolated parent-to-joint vector (held at the ends).  Returns the filled
    positions and the (T, J) mask of joints that were seen.  A joint never seen is an error."""
    x = np.array(x, np.float64)
    seen = np.ones(x.shape[:2], bool) if conf is None else np.asarray(conf) >= MISS_CONF
    seen = seen & ~bone_outliers(x, seen)
    t = np.arange(len(x))
    for j in FILL_ORDER:
        if seen[:, j].all():
            continue
        if not seen[:, j].any():
            raise DataError(f"{source}: field 'confidence': joint {LSP14.joints[j]} is never detected")
        ok = seen[:, j]
        parent = PARENT.get(j)
        base = x[:, parent] if parent is not None else 0.0
        rel = x[:, j] - base
        for d in range(x.shape[-1]):
            rel[:, d] = np.interp(t, t[ok], rel[ok, d])
        x[:, j] = base + rel
    return x, seen


def denoise(x: np.ndarray, frames: int = DENOISE_FRAMES) -> np.ndarray:
    """A running median over ``frames`` frames per coordinate (the ends held): it removes
    glitches shorter than half its length and leaves steady motion alone."""
    if len(x) < frames:
        return np.asarray(x, np.float64)
    return median_filter(np.asarray(x, np.float64), size=(frames, 1, 1), mode="nearest")


def body_chain(x: np.ndarray) -> np.ndarray:
    """(T,) head top → neck → mid-hip → knee → ankle length per frame (the two legs averaged)."""
    seg = lambda a, b: np.linalg.norm(a - b, axis=-1)
    legs = 0.5 * (
        seg(x[:, J("r_hip")], x[:, J("r_knee")])
        + seg(x[:, J("r_knee")], x[:, J("r_ankle")])
        + seg(x[:, J("l_hip")], x[:, J("l_knee")])
        + seg(x[:, J("l_knee")], x[:, J("l_ankle")])
    )
    return seg(x[:, J("head_top")], x[:, NECK]) + seg(x[:, NECK], mid_hip(x)) + legs


def body_height(x: np.ndarray) -> float:
    """The body's length from the head top to the ankles, measured along the body: the 90th
    percentile over frames of ``body_chain`` (in 2D the high percentile picks the frames the
    limbs are least foreshortened), in the take's units."""
    return float(max(np.percentile(body_chain(np.asarray(x, np.float64)), 90), 1e-6))


def heading_rotation(x: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations about the vertical that put each frame's hips along +x (right hip at +x)."""
    hv = x[:, HIPS[0]] - x[:, HIPS[1]]
    yaw = np.arctan2(hv[:, 2], hv[:, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    r = np.zeros((len(x), 3, 3))
    r[:, 0, 0], r[:, 0, 2], r[:, 1, 1], r[:, 2, 0], r[:, 2, 2] = c, s, 1.0, -s, c
    return r


def normalized_pose(x: np.ndarray, height: float | None = None) -> np.ndarray:
    """(T, J, D) -> (T, J, D): each frame's joints relative to its mid-hip, divided by the body
    height (``body_height`` of the take unless given), and in 3D turned about the vertical so that
    the hips lie along x: position-, size- and heading-invariant."""
    x = np.asarray(x, np.float64)
    rel = (x - mid_hip(x)[:, None]) / (body_height(x) if height is None else height)
    if x.shape[-1] == 3:
        rel = np.einsum("tij,tkj->tki", heading_rotation(x), rel)
    return rel


def bone_vectors(p: np.ndarray) -> np.ndarray:
    """(T, J, D) normalised poses -> (T, len(BONES), D) bone vectors."""
    root = mid_hip(p)
    pick = lambda j: root if j == ROOT else p[:, j]
    return np.stack([pick(b) - pick(a) for _, _, a, b in BONES], 1)


def bone_deviation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(T, len(BONES)) degrees between the bones of two normalised pose sequences, frame by frame."""
    return _between(bone_vectors(p), bone_vectors(q))


def joint_angles(x: np.ndarray) -> np.ndarray:
    """(T, J, D) -> (T, len(ANGLES)) degrees, in the order of ``ANGLES``."""
    x = np.asarray(x, np.float64)
    root, neck = mid_hip(x), x[:, NECK]
    down = root - neck
    up = np.broadcast_to(up_vector(x.shape[-1]), down.shape)
    bend = lambda a, b, c: 180.0 - _between(x[:, a] - x[:, b], x[:, c] - x[:, b])
    out = {
        "r_arm_raise": _between(x[:, J("r_elbow")] - x[:, J("r_shoulder")], down),
        "l_arm_raise": _between(x[:, J("l_elbow")] - x[:, J("l_shoulder")], down),
        "r_elbow_bend": bend(J("r_shoulder"), J("r_elbow"), J("r_wrist")),
        "l_elbow_bend": bend(J("l_shoulder"), J("l_elbow"), J("l_wrist")),
        "r_leg_raise": _between(x[:, J("r_knee")] - x[:, J("r_hip")], down),
        "l_leg_raise": _between(x[:, J("l_knee")] - x[:, J("l_hip")], down),
        "r_knee_bend": bend(J("r_hip"), J("r_knee"), J("r_ankle")),
        "l_knee_bend": bend(J("l_hip"), J("l_knee"), J("l_ankle")),
        "trunk_lean": _between(-down, up),
        "head_tilt": _between(x[:, J("head_top")] - neck, -down),
    }
    return np.stack([out[a.name] for a in ANGLES], -1)


def mirror(x: np.ndarray) -> np.ndarray:
    """The mirror image of (T, 14, D) LSP-14 poses: the first coordinate negated and left and
    right swapped, as a dancer facing you is seen in a mirror."""
    y = np.array(x, np.float64)[:, LSP14.flip_permutation]
    y[..., 0] = -y[..., 0]
    return y
