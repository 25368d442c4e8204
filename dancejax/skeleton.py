"""Skeleton layouts: joint names, edges, left/right pairs, distal joints, centre joint.

Everything here is plain NumPy / Python, built once at import.  Models take the
arrays they need (adjacency, flip permutation) as constants.

The canonical layout is LSP-14 (SPEC §2), in this order::

    0 r-ankle  1 r-knee  2 r-hip  3 l-hip  4 l-knee  5 l-ankle
    6 r-wrist  7 r-elbow 8 r-shoulder 9 l-shoulder 10 l-elbow 11 l-wrist
    12 neck    13 head-top

Other layouts are converted into it with a fixed linear map (`to_lsp14_matrix`):
each LSP joint is a weighted sum of source joints, which covers both picking a
joint and the documented approximations (COCO neck = mid-shoulders, head-top
extrapolated from the ears).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dancejax.errors import DataError


@dataclasses.dataclass(frozen=True)
class Layout:
    """A skeleton layout.  ``edges`` are undirected bone pairs of joint indices."""

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    lr_pairs: tuple[tuple[int, int], ...]
    distal: tuple[int, ...]
    center: int

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        return self.joints.index(joint)

    @property
    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps every left joint with its right counterpart."""
        perm = np.arange(self.num_joints)
        for a, b in self.lr_pairs:
            perm[a], perm[b] = b, a
        return perm

    def adjacency(self) -> np.ndarray:
        """Symmetric 0/1 bone adjacency without self loops, shape (J, J)."""
        a = np.zeros((self.num_joints, self.num_joints), np.float32)
        for i, j in self.edges:
            a[i, j] = a[j, i] = 1.0
        return a


LSP14 = Layout(
    name="lsp14",
    joints=(
        "r_ankle",
        "r_knee",
        "r_hip",
        "l_hip",
        "l_knee",
        "l_ankle",
        "r_wrist",
        "r_elbow",
        "r_shoulder",
        "l_shoulder",
        "l_elbow",
        "l_wrist",
        "neck",
        "head_top",
    ),
    edges=(
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),  # legs and pelvis
        (2, 12),
        (3, 12),  # trunk: hips to neck
        (6, 7),
        (7, 8),
        (8, 12),
        (12, 9),
        (9, 10),
        (10, 11),  # arms
        (12, 13),  # head
    ),
    lr_pairs=((0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9)),
    distal=(0, 5, 6, 11, 13),
    center=12,
)

HIPS = (LSP14.index("r_hip"), LSP14.index("l_hip"))
NECK = LSP14.index("neck")


def mid_hip(x):
    """The LSP-14 root, the midpoint of the two hips: (..., J, D) -> (..., D).  NumPy or jnp."""
    return 0.5 * (x[..., HIPS[0], :] + x[..., HIPS[1], :])


def root_relative(x):
    """Each frame's mid-hip subtracted (the field's root-relative coordinates): (..., J, D)."""
    return x - mid_hip(x)[..., None, :]


# Joint groups used by PCK tables (paper Table II columns, SPEC §4).
LSP14_GROUPS: dict[str, tuple[int, ...]] = {
    "head": (12, 13),
    "shoulder": (8, 9),
    "elbow": (7, 10),
    "wrist": (6, 11),
    "hip": (2, 3),
    "knee": (1, 4),
    "ankle": (0, 5),
}

# Five body parts for HBRNN (Du et al. 2015): trunk, two arms, two legs.
LSP14_PARTS: dict[str, tuple[int, ...]] = {
    "trunk": (2, 3, 12, 13),
    "left_arm": (9, 10, 11),
    "right_arm": (6, 7, 8),
    "left_leg": (3, 4, 5),
    "right_leg": (0, 1, 2),
}

COCO17 = Layout(
    name="coco17",
    joints=(
        "nose",
        "l_eye",
        "r_eye",
        "l_ear",
        "r_ear",
        "l_shoulder",
        "r_shoulder",
        "l_elbow",
        "r_elbow",
        "l_wrist",
        "r_wrist",
        "l_hip",
        "r_hip",
        "l_knee",
        "r_knee",
        "l_ankle",
        "r_ankle",
    ),
    edges=(
        (15, 13),
        (13, 11),
        (16, 14),
        (14, 12),
        (11, 12),
        (5, 11),
        (6, 12),
        (5, 6),
        (5, 7),
        (6, 8),
        (7, 9),
        (8, 10),
        (1, 2),
        (0, 1),
        (0, 2),
        (1, 3),
        (2, 4),
        (3, 5),
        (4, 6),
    ),
    lr_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    distal=(0, 9, 10, 15, 16),
    center=0,
)

# The CMU Acclaim skeleton: the root plus the end points of its 30 bones, in ASF order.
CMU31 = Layout(
    name="cmu31",
    joints=(
        "root",
        "lhipjoint",
        "lfemur",
        "ltibia",
        "lfoot",
        "ltoes",
        "rhipjoint",
        "rfemur",
        "rtibia",
        "rfoot",
        "rtoes",
        "lowerback",
        "upperback",
        "thorax",
        "lowerneck",
        "upperneck",
        "head",
        "lclavicle",
        "lhumerus",
        "lradius",
        "lwrist",
        "lhand",
        "lfingers",
        "lthumb",
        "rclavicle",
        "rhumerus",
        "rradius",
        "rwrist",
        "rhand",
        "rfingers",
        "rthumb",
    ),
    edges=(
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),
        (0, 6),
        (6, 7),
        (7, 8),
        (8, 9),
        (9, 10),
        (0, 11),
        (11, 12),
        (12, 13),
        (13, 14),
        (14, 15),
        (15, 16),
        (13, 17),
        (17, 18),
        (18, 19),
        (19, 20),
        (20, 21),
        (21, 22),
        (20, 23),
        (13, 24),
        (24, 25),
        (25, 26),
        (26, 27),
        (27, 28),
        (28, 29),
        (27, 30),
    ),
    lr_pairs=tuple((i, i + 5) for i in range(1, 6)) + tuple((i, i + 7) for i in range(17, 24)),
    distal=(5, 10, 16, 22, 29),
    center=0,
)

# OpenPose-18 as used by the original ST-GCN (Kinetics-skeleton), centre = neck.
OPENPOSE18 = Layout(
    name="openpose18",
    joints=(
        "nose",
        "neck",
        "r_shoulder",
        "r_elbow",
        "r_wrist",
        "l_shoulder",
        "l_elbow",
        "l_wrist",
        "r_hip",
        "r_knee",
        "r_ankle",
        "l_hip",
        "l_knee",
        "l_ankle",
        "r_eye",
        "l_eye",
        "r_ear",
        "l_ear",
    ),
    edges=(
        (4, 3),
        (3, 2),
        (7, 6),
        (6, 5),
        (13, 12),
        (12, 11),
        (10, 9),
        (9, 8),
        (11, 5),
        (8, 2),
        (5, 1),
        (2, 1),
        (0, 1),
        (15, 0),
        (14, 0),
        (17, 15),
        (16, 14),
    ),
    lr_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17)),
    distal=(0, 4, 7, 10, 13),
    center=1,
)

# NTU RGB+D 25 joints as used by the original ST-GCN, centre = spine-shoulder (21, 1-based).
_NTU_EDGES_1BASED = (
    (1, 2),
    (2, 21),
    (3, 21),
    (4, 3),
    (5, 21),
    (6, 5),
    (7, 6),
    (8, 7),
    (9, 21),
    (10, 9),
    (11, 10),
    (12, 11),
    (13, 1),
    (14, 13),
    (15, 14),
    (16, 15),
    (17, 1),
    (18, 17),
    (19, 18),
    (20, 19),
    (22, 23),
    (23, 8),
    (24, 25),
    (25, 12),
)
NTU25 = Layout(
    name="ntu25",
    joints=(
        "spine_base",
        "spine_mid",
        "neck",
        "head",
        "l_shoulder",
        "l_elbow",
        "l_wrist",
        "l_hand",
        "r_shoulder",
        "r_elbow",
        "r_wrist",
        "r_hand",
        "l_hip",
        "l_knee",
        "l_ankle",
        "l_foot",
        "r_hip",
        "r_knee",
        "r_ankle",
        "r_foot",
        "spine_shoulder",
        "l_hand_tip",
        "l_thumb",
        "r_hand_tip",
        "r_thumb",
    ),
    edges=tuple((i - 1, j - 1) for i, j in _NTU_EDGES_1BASED),
    lr_pairs=((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24)),
    distal=(3, 6, 10, 14, 18),
    center=20,
)

LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (LSP14, COCO17, CMU31, OPENPOSE18, NTU25)}


def get_layout(name: str | Layout, source=None) -> Layout:
    """Look a layout up by name; unknown names (or a non-string) fail with the list of known ones,
    naming ``source`` (the file it came from) when given."""
    if isinstance(name, Layout):
        return name
    prefix = f"{source}: field 'layout': " if source is not None else ""
    if not isinstance(name, str) or name not in LAYOUTS:
        raise DataError(f"{prefix}unknown skeleton layout {name!r}; known layouts: {', '.join(sorted(LAYOUTS))}")
    return LAYOUTS[name]


# Head-top is not a COCO / OpenPose keypoint.  We extrapolate it along the
# neck→ears line: head_top = ear_mid + HEAD_TOP_EXTRAPOLATION * (ear_mid - neck),
# with neck = mid-shoulders.  0.5 puts it about one head-height above the ears
# for an upright adult; it is a documented approximation, not a measurement.
HEAD_TOP_EXTRAPOLATION = 0.5


def _matrix(src: Layout, rows: dict[str, dict[str, float]]) -> np.ndarray:
    m = np.zeros((LSP14.num_joints, src.num_joints), np.float32)
    for lsp_name, combo in rows.items():
        for src_name, w in combo.items():
            m[LSP14.index(lsp_name), src.index(src_name)] += w
    assert np.allclose(m.sum(1), 1.0), f"rows of the {src.name}->lsp14 map must sum to 1"
    return m


def _head_top_from_ears(ls: str, rs: str, le: str, re: str) -> dict[str, float]:
    k = HEAD_TOP_EXTRAPOLATION
    return {le: 0.5 * (1 + k), re: 0.5 * (1 + k), ls: -0.5 * k, rs: -0.5 * k}


_SIDES = {"r": "r", "l": "l"}


def _limbs(fmt: str) -> dict[str, dict[str, float]]:
    names = ["ankle", "knee", "hip", "wrist", "elbow", "shoulder"]
    return {f"{s}_{n}": {fmt.format(s=s, n=n): 1.0} for s in _SIDES for n in names}


def to_lsp14_matrix(layout: str | Layout) -> np.ndarray:
    """(14, J_src) matrix M such that lsp14 = M @ source joints.

    CMU Acclaim (SOURCES.md hints): ankle = end of tibia, knee = end of femur,
    hip = end of hipjoint, wrist = end of radius, elbow = end of humerus,
    shoulder = end of clavicle, neck = end of lowerneck, head-top = end of head.
    """
    src = get_layout(layout)
    if src.name == "lsp14":
        return np.eye(14, dtype=np.float32)
    if src.name in ("coco17", "openpose18"):
        rows = _limbs("{s}_{n}")
        if src.name == "coco17":
            rows["neck"] = {"l_shoulder": 0.5, "r_shoulder": 0.5}
        else:
            rows["neck"] = {"neck": 1.0}
        rows["head_top"] = _head_top_from_ears("l_shoulder", "r_shoulder", "l_ear", "r_ear")
        return _matrix(src, rows)
    if src.name == "ntu25":
        rows = _limbs("{s}_{n}")
        rows["neck"] = {"spine_shoulder": 1.0}
        # NTU "head" is the head centre; extrapolate one half head-neck length up.
        k = HEAD_TOP_EXTRAPOLATION
        rows["head_top"] = {"head": 1 + k, "neck": -k}
        return _matrix(src, rows)
    if src.name == "cmu31":
        part = {
            "ankle": "tibia",
            "knee": "femur",
            "hip": "hipjoint",
            "wrist": "radius",
            "elbow": "humerus",
            "shoulder": "clavicle",
        }
        rows = {f"{s}_{n}": {f"{s}{b}": 1.0} for s in _SIDES for n, b in part.items()}
        rows["neck"] = {"lowerneck": 1.0}
        rows["head_top"] = {"head": 1.0}
        return _matrix(src, rows)
    raise DataError(f"no conversion from layout {src.name!r} to lsp14")


def source_joint_mask(layout: str | Layout) -> np.ndarray:
    """(14, J_src) bool: which source joints each LSP joint depends on (for confidences)."""
    return to_lsp14_matrix(layout) != 0
