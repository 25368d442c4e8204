"""Feedback for a dancer: a performance compared with a reference (``analysis``: alignment,
deviations, score, ranked moments, risk flags), the pose features both sides use
(``features``), the alignment (``align``; ``online`` for a live stream), the risk rules
(``rules``), the sentences (``words``), the report (``report``), and the known-answer
validation on real takes (``perturb``, ``validate``, ``calibration``)."""

from dancejax.feedback.align import dtw, matched_frames
from dancejax.feedback.analysis import align, compare, save_json, write_report
from dancejax.feedback.features import (
    ANGLES,
    BONES,
    FPS,
    MIN_FRAMES,
    PARTS,
    body_height,
    joint_angles,
    mirror,
    normalized_pose,
)
from dancejax.feedback.rules import (
    RULES,
    Rule,
    acceleration_percentile,
    dedupe,
    flight_phases,
    knee_inward,
    landings,
    risk_flags,
)

__all__ = [
    "ANGLES",
    "BONES",
    "FPS",
    "MIN_FRAMES",
    "PARTS",
    "RULES",
    "Rule",
    "acceleration_percentile",
    "align",
    "body_height",
    "compare",
    "dedupe",
    "dtw",
    "flight_phases",
    "joint_angles",
    "knee_inward",
    "landings",
    "matched_frames",
    "mirror",
    "normalized_pose",
    "risk_flags",
    "save_json",
    "write_report",
]
