"""The pose-sequence type every reader returns, and conversion to LSP-14 at 25 fps."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from dancejax.errors import DataError, where
from dancejax.skeleton import LSP14, get_layout, source_joint_mask, to_lsp14_matrix

CANONICAL_FPS = 25.0


@dataclasses.dataclass
class PoseSequence:
    """A pose sequence (SPEC §2).

    positions:  (T, J, D) float32, D = 2 or 3.  Units: metres for 3D mocap,
                pixels for image keypoints (readers say which in ``labels['units']``).
    confidence: (T, J) float32 in [0, 1]; 0 = missing or occluded.
    fps:        frames per second.
    layout:     skeleton layout name (see ``dancejax.skeleton.LAYOUTS``).
    labels:     free-form labels: style, source, performer, take, units, ...
    source:     the file it was read from (for error messages), if any.
    """

    positions: np.ndarray
    confidence: np.ndarray
    fps: float
    layout: str
    labels: dict[str, Any] = dataclasses.field(default_factory=dict)
    source: str | None = None

    def __post_init__(self):
        from dancejax.io.validate import number, real_array

        self.positions = real_array(self.positions, self.source, "positions").astype(np.float32)
        if self.confidence is None:
            self.confidence = np.ones(self.positions.shape[:2], np.float32)
        self.confidence = real_array(self.confidence, self.source, "confidence").astype(np.float32)
        self.fps = number(self.fps, self.source, "fps", positive=True)
        if not isinstance(self.labels, dict):
            raise DataError(
                f"{where(self.source, 'labels')}expected an object (mapping), got {type(self.labels).__name__}"
            )
        get_layout(self.layout, self.source)
        validate_positions(self.positions, self.layout, self.source, "positions")
        if self.confidence.shape != self.positions.shape[:2]:
            raise DataError(
                f"{where(self.source, 'confidence')}expected shape {self.positions.shape[:2]} "
                f"(frames, joints), got {self.confidence.shape}"
            )
        validate_confidence(self.confidence, self.source)

    @property
    def num_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def validate_positions(x: np.ndarray, layout: str, source=None, field: str = "positions") -> None:
    """Shape (T, J, D) with J matching ``layout``, D in {2, 3}, every value finite."""
    lay = get_layout(layout)
    if x.ndim != 3 or x.shape[-1] not in (2, 3):
        raise DataError(f"{where(source, field)}expected shape (frames, joints, 2 or 3), got {x.shape}")
    if x.shape[1] != lay.num_joints:
        raise DataError(
            f"{where(source, field)}layout {lay.name!r} has {lay.num_joints} joints, but the data has {x.shape[1]}"
        )
    if x.shape[0] == 0:
        raise DataError(f"{where(source, field)}the sequence has no frames")
    bad = ~np.isfinite(x)
    if bad.any():
        t, j, _ = np.argwhere(bad)[0]
        raise DataError(
            f"{where(source, field)}{int(bad.any(-1).sum())} non-finite coordinates (NaN/inf), "
            f"first at frame {t}, joint {j} ({lay.joints[j]}); mark missing joints with "
            "confidence 0 and any finite coordinate instead"
        )


def validate_confidence(c: np.ndarray, source=None, field: str = "confidence") -> None:
    if not np.all(np.isfinite(c)) or c.min(initial=0) < 0 or c.max(initial=0) > 1:
        raise DataError(
            f"{where(source, field)}expected values in [0, 1], got range "
            f"[{np.nanmin(c):.4g}, {np.nanmax(c):.4g}]" + (" with NaN" if np.isnan(c).any() else "")
        )


def resample(seq: PoseSequence, fps: float = CANONICAL_FPS) -> PoseSequence:
    """Linear interpolation in time to ``fps``; never drops frames blindly.

    Output frame k sits at time k / fps, for every k with k / fps within the input's
    time span.  A joint is only as confident as the two frames it is interpolated from.
    """
    if seq.fps == fps:
        return seq
    t_in = np.arange(seq.num_frames) / seq.fps
    n_out = int(np.floor(t_in[-1] * fps + 1e-6)) + 1
    t_out = np.arange(n_out) / fps
    pos = np.clip(t_out * seq.fps, 0, seq.num_frames - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, seq.num_frames - 1)
    w = (pos - i0)[:, None, None].astype(np.float32)
    p = seq.positions[i0] * (1 - w) + seq.positions[i1] * w
    c = np.minimum(seq.confidence[i0], seq.confidence[i1])
    return dataclasses.replace(seq, positions=p, confidence=c, fps=fps)


def to_lsp14(seq: PoseSequence) -> PoseSequence:
    """Map any known layout to LSP-14 with the documented linear map."""
    if seq.layout == LSP14.name:
        return seq
    m = to_lsp14_matrix(seq.layout)
    p = np.einsum("lj,tjd->tld", m, seq.positions)
    mask = source_joint_mask(seq.layout)
    c = np.where(mask[None], seq.confidence[:, None, :], np.inf).min(-1)
    return dataclasses.replace(seq, positions=p, confidence=c, layout=LSP14.name)


def canonical(seq: PoseSequence) -> PoseSequence:
    """LSP-14 at 25 fps: the form every model and dataset uses."""
    return resample(to_lsp14(seq), CANONICAL_FPS)
