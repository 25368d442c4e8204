"""Causal alignment of a live performance with a reference, one frame at a time (for
``dancejax live`` and any other stream).

A dynamic time warping run forward only, on the same poses as the offline comparison
(``align``: the mean per-joint distance between poses normalised for position, size and
heading).  After each performance frame the aligner holds, for every reference frame j, the
cost of the best path from (0, 0) to (this frame, j), and answers with the j of the cheapest
(open-end DTW).  Nothing after the current frame is used, so the answer can differ from the
offline one, which also sees the future.  Where it differs from the offline alignment, and why:

* **Steps.**  Each performance frame is matched with exactly one reference frame, and the
  path into it comes from the previous performance frame on the same reference frame (a
  *hold*: the dancer staying while the reference moves on later, a late start or a pause),
  the previous reference frame (in step) or the one before it (a *skip*: the dancer at up
  to twice the reference's tempo).  Every path to the current frame then sums the same
  number of local distances, so open ends are compared by their totals.  (The offline
  *symmetric2* pattern counts the reference's frames too; an open end compared by cost per
  path length there favours paths that skip ahead without holding, since a hold adds a
  penalty but no length: under detector noise the online answer ran ahead through a late
  start and could stay a repetition of a phrase ahead.)
* **Penalties.**  A hold pays ``penalty`` × the typical distance of a frame to its best
  match (from the frames so far) × how much the dancer moved over the last ``HOLD_WINDOW``
  frames against the reference's median change over as many frames (at least
  ``HOLD_FLOOR``), as the offline alignment scales it (``align.stillness_weight``); a skip
  pays the same penalty × how much the reference moves at the skipped frame.  Skipping a
  still stretch of the reference, or holding while the dancer is still, is thus almost free.
* **Size.**  Unless a body height is given, the dancer's size is the median, over the frames
  so far, of the dancer's body length (head top → neck → hips → knees → ankles) divided by that
  of the reference frame each was matched with; the first frame is matched with the
  reference's first, as every path starts there.  In 2D a body's length depends on the pose
  and the view, so a height estimated from the stream alone (a percentile of its lengths) is
  off by the difference between the two takes' pose mix, and that scale error, the same on
  every joint, hides the small pose differences that tell timings apart.

Use::

    aligner = OnlineAligner(reference)            # (T, 14, D) LSP-14 at 25 fps, or a PoseSequence
    for pose, conf in stream:                     # (14, D) and optionally (14,) confidences
        m = aligner.update(pose, conf)
        m.reference_index, m.offset_s, m.deviation   # matched frame, seconds behind (+), degrees per part

Each update costs O(reference frames) in NumPy; the state is a few arrays of that length.
The timing recovered on known warps of real takes, with and without detector noise, is in
``dancejax feedback-validate`` (``validate.timing_online``) and the docs.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from dancejax.data.noise import MISS_CONF
from dancejax.errors import DataError
from dancejax.feedback.align import HOLD_FLOOR, HOLD_WINDOW, pose_change, stillness_weight
from dancejax.feedback.analysis import BONE_PART, PART_NAMES
from dancejax.feedback.features import (
    FPS,
    MIN_FRAMES,
    PARENT,
    body_chain,
    body_height,
    bone_deviation,
    denoise,
    fill_missing,
    normalized_pose,
)
from dancejax.io.sequence import PoseSequence, canonical
from dancejax.skeleton import LSP14

# Chosen on the training takes' known warps with detector noise (``validate.timing_online``);
# lower than the offline penalty, as no later frame can confirm a hold or a skip online.
ONLINE_PENALTY = 0.2
HISTORY = 750  # frames (30 s) from which the body height and the typical match distance are estimated


@dataclasses.dataclass(frozen=True)
class OnlineMatch:
    """Where the performance is in the reference after one frame.

    frame: the performance frame (0 for the first update).
    reference_index: the matched reference frame.
    offset_s: (frame − reference_index) / fps: positive when the dancer is behind.
    deviation: degrees per body part ("right arm", ..., "trunk and head") at the match: each
        part's largest bone angle against the reference.
    cost: the matched path's mean local distance and penalty per frame (body heights), a
        measure of confidence.
    """

    frame: int
    reference_index: int
    offset_s: float
    deviation: dict[str, float]
    cost: float


class OnlineAligner:
    """Causal alignment with ``reference`` (see the module docstring).

    Args:
        reference: LSP-14 poses at 25 fps, (T, 14, 2 or 3), or a ``PoseSequence`` of any
            layout and rate (converted).  Its missing joints are filled and it is denoised as
            the offline comparison does.
        band_s: the most the performance may be ahead or behind, in seconds (None: no limit).
        penalty: the step penalty, in units of the typical distance of a frame to its best
            match (estimated from the frames seen so far).
        height: the performer's body height in the stream's units (head top to ankles along
            the body); None estimates it against the reference as the frames come (see the
            module docstring).
    """

    def __init__(
        self,
        reference,
        band_s: float | None = None,
        penalty: float = ONLINE_PENALTY,
        height: float | None = None,
    ):
        if isinstance(reference, PoseSequence):
            seq = canonical(reference)
            y = fill_missing(seq.positions, seq.confidence, reference.source or "reference")[0]
        else:
            y = np.asarray(reference, np.float64)
            if y.ndim != 3 or y.shape[1] != LSP14.num_joints or y.shape[2] not in (2, 3):
                raise DataError(f"reference: expected LSP-14 poses of shape (frames, 14, 2 or 3), got {y.shape}")
        if len(y) < MIN_FRAMES:
            raise DataError(f"reference: {len(y)} frames at 25 fps; at least {MIN_FRAMES} are needed to compare")
        y = denoise(y)
        self.dims = y.shape[-1]
        self.reference = normalized_pose(y)
        self._move_scale = max(float(np.median(pose_change(self.reference, HOLD_WINDOW))), 1e-12)
        self._skip = stillness_weight(self.reference)  # (T,) the reference's motion at each frame
        self._chain = np.maximum(body_chain(self.reference), 1e-6)  # (T,) its body length (body heights)
        self.band = None if band_s is None else int(round(band_s * FPS))
        self.penalty = penalty
        self.height = height
        self.reset()

    @property
    def reference_frames(self) -> int:
        return len(self.reference)

    def reset(self) -> None:
        """Forget the performance so far (a new run of the same reference)."""
        self._acc = None
        self._t = -1
        self._last = None
        self._ratios: collections.deque = collections.deque(maxlen=HISTORY)
        self._best: collections.deque = collections.deque(maxlen=HISTORY)
        self._recent: collections.deque = collections.deque(maxlen=HOLD_WINDOW + 1)

    def _pose(self, frame, confidence) -> np.ndarray:
        x = np.asarray(frame, np.float64)
        if x.shape != (LSP14.num_joints, self.dims):
            raise DataError(f"live frame {self._t + 1}: expected ({LSP14.num_joints}, {self.dims}), got {x.shape}")
        if not np.isfinite(x).all():
            if self._last is None:
                raise DataError(f"live frame {self._t + 1}: non-finite coordinates before any complete frame")
            confidence = np.where(np.isfinite(x).all(-1), 1.0 if confidence is None else confidence, 0.0)
            x = np.where(np.isfinite(x), x, 0.0)
        if confidence is not None and self._last is not None:
            miss = np.asarray(confidence) < MISS_CONF
            for j in np.nonzero(miss)[0]:  # hold the joint where it was, relative to its parent
                p = PARENT.get(j)
                x[j] = self._last[j] if p is None else x[p] + self._last[j] - self._last[p]
        self._last = x
        return x

    def update(self, frame, confidence=None) -> OnlineMatch:
        """One performance frame, (14, D) in the stream's units, with optional (14,)
        confidences (a joint below ``MISS_CONF`` is held where it was last seen)."""
        x = self._pose(frame, confidence)
        self._t += 1
        t = self._t
        chain = float(body_chain(x[None])[0])
        # the first frame against the reference's first: every path starts there
        ratio = float(np.median(self._ratios)) if self._ratios else chain / self._chain[0]
        h = self.height or max(ratio, 1e-6)
        f = normalized_pose(x[None], h)[0]
        c = np.linalg.norm(self.reference - f, axis=-1).mean(-1)  # (m,) mean per-joint distance
        m = len(c)
        if self.band is not None:
            c = np.where(np.abs(t - np.arange(m)) <= self.band, c, np.inf)
        self._best.append(float(np.min(c)))
        lam = self.penalty * float(np.median(self._best))
        self._recent.append(f)
        moving = np.linalg.norm(f - self._recent[0], axis=-1).mean() / self._move_scale
        hold = lam * float(np.clip(moving, HOLD_FLOOR, 1.0))  # the dancer staying on a reference frame
        if self._acc is None:
            acc = np.full(m, np.inf)
            acc[0] = c[0]
        else:
            prev = self._acc
            step = np.concatenate([[np.inf], prev[:-1]])  # from reference frame j − 1
            skip = np.concatenate([[np.inf, np.inf], prev[:-2] + lam * self._skip[1:-1]])  # from j − 2
            acc = c + np.minimum(np.minimum(step, prev + hold), skip)
        acc[~np.isfinite(c)] = np.inf
        self._acc = acc
        j = int(np.argmin(acc))
        self._ratios.append(chain / self._chain[j])
        dev = bone_deviation(f[None], self.reference[j][None])[0]
        parts = {p: float(dev[BONE_PART == k].max()) for k, p in enumerate(PART_NAMES)}
        return OnlineMatch(t, j, (t - j) / FPS, parts, float(acc[j] / (t + 1)))

    def run(self, frames, confidence=None) -> list[OnlineMatch]:
        """``update`` over (T, 14, D) frames (and (T, 14) confidences), in order."""
        conf = [None] * len(frames) if confidence is None else confidence
        return [self.update(x, c) for x, c in zip(frames, conf)]


def body_height_of(x) -> float:
    """The body height ``OnlineAligner(height=...)`` expects, from a calibration take."""
    return body_height(np.asarray(x, np.float64))
