"""Detector joint layouts and their map to LSP-14, one frame at a time.

**BlazePose-33** (MediaPipe Pose) is the ``BLAZEPOSE33`` layout below, in MediaPipe's landmark
order.  Its ``l_*`` joints are MediaPipe's ``LEFT_*`` landmarks: the person's own left (on the
image's right for a person facing the camera), as in COCO.  Its map to LSP-14 goes through
COCO-17: the 17 BlazePose landmarks that COCO also has (nose, eyes, ears, shoulders, elbows,
wrists, hips, knees, ankles) are picked by name, and COCO-17's documented map takes it from
there (``dancejax.skeleton.to_lsp14_matrix``): neck = mid-shoulders, and the head-top, which
neither layout has, extrapolated along the neck→ears line
(``ear_mid + HEAD_TOP_EXTRAPOLATION * (ear_mid − neck)``): an approximation, not a
measurement.  BlazePose's hands, heels, toes, inner/outer eyes and mouth are not used.

**Confidence**: an LSP joint made from several source joints is as confident as the least
confident of them (the neck: both shoulders; the head-top: both ears and both shoulders), as
``dancejax.io.sequence.to_lsp14`` does for whole sequences.  A missing source joint (NaN)
makes the LSP joint NaN with confidence 0.
"""

from __future__ import annotations

import numpy as np

from dancejax.errors import DataError
from dancejax.skeleton import COCO17, LSP14, Layout, get_layout, source_joint_mask, to_lsp14_matrix

BLAZEPOSE33 = Layout(
    name="blazepose33",
    joints=(
        "nose",
        "l_eye_inner",
        "l_eye",
        "l_eye_outer",
        "r_eye_inner",
        "r_eye",
        "r_eye_outer",
        "l_ear",
        "r_ear",
        "l_mouth",
        "r_mouth",
        "l_shoulder",
        "r_shoulder",
        "l_elbow",
        "r_elbow",
        "l_wrist",
        "r_wrist",
        "l_pinky",
        "r_pinky",
        "l_index",
        "r_index",
        "l_thumb",
        "r_thumb",
        "l_hip",
        "r_hip",
        "l_knee",
        "r_knee",
        "l_ankle",
        "r_ankle",
        "l_heel",
        "r_heel",
        "l_foot_index",
        "r_foot_index",
    ),
    # MediaPipe's POSE_CONNECTIONS
    edges=(
        (0, 1),
        (0, 4),
        (1, 2),
        (2, 3),
        (3, 7),
        (4, 5),
        (5, 6),
        (6, 8),
        (9, 10),
        (11, 12),
        (11, 13),
        (11, 23),
        (12, 14),
        (12, 24),
        (13, 15),
        (14, 16),
        (15, 17),
        (15, 19),
        (15, 21),
        (16, 18),
        (16, 20),
        (16, 22),
        (17, 19),
        (18, 20),
        (23, 24),
        (23, 25),
        (24, 26),
        (25, 27),
        (26, 28),
        (27, 29),
        (27, 31),
        (28, 30),
        (28, 32),
        (29, 31),
        (30, 32),
    ),
    lr_pairs=((1, 4), (2, 5), (3, 6), (7, 8), (9, 10)) + tuple((i, i + 1) for i in range(11, 33, 2)),
    distal=(0, 15, 16, 27, 28),
    center=0,
)

# The BlazePose landmark of each COCO-17 keypoint, matched by name.
BLAZEPOSE33_TO_COCO17 = np.array([BLAZEPOSE33.index(name) for name in COCO17.joints])

DETECTOR_LAYOUTS: dict[str, Layout] = {BLAZEPOSE33.name: BLAZEPOSE33}


def detector_layout(name: str) -> Layout:
    """A detector's layout: BlazePose-33, or any layout of ``dancejax.skeleton.LAYOUTS``."""
    if name in DETECTOR_LAYOUTS:
        return DETECTOR_LAYOUTS[name]
    return get_layout(name)


def to_lsp14_frame(keypoints, confidence, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """One frame's keypoints (J, 2) and confidences (J,) in ``layout`` -> LSP-14 (14, 2), (14,).

    ``layout`` is ``"blazepose33"`` or a name from ``dancejax.skeleton.LAYOUTS`` (``"coco17"``,
    ``"openpose18"``, ...).  NaN keypoints are missing joints: every LSP joint built from one is
    NaN with confidence 0.
    """
    lay = detector_layout(layout)
    kp = np.asarray(keypoints, np.float64)
    conf = np.asarray(confidence, np.float64)
    if kp.shape != (lay.num_joints, 2) or conf.shape != (lay.num_joints,):
        raise DataError(
            f"layout {lay.name!r}: expected keypoints ({lay.num_joints}, 2) and confidences "
            f"({lay.num_joints},), got {kp.shape} and {conf.shape}"
        )
    if lay.name == BLAZEPOSE33.name:
        kp, conf, lay = kp[BLAZEPOSE33_TO_COCO17], conf[BLAZEPOSE33_TO_COCO17], COCO17
    if lay.name == LSP14.name:
        out, out_conf = kp, conf
    else:
        out = to_lsp14_matrix(lay).astype(np.float64) @ np.nan_to_num(kp)
        mask = source_joint_mask(lay)
        out_conf = np.where(mask, conf[None], np.inf).min(-1)
        missing = np.where(mask, np.isnan(kp).any(-1)[None], False).any(-1)
        out[missing] = np.nan
    out_conf = np.where(np.isnan(out).any(-1) | np.isnan(out_conf), 0.0, np.clip(out_conf, 0.0, 1.0))
    return out.astype(np.float32), out_conf.astype(np.float32)
