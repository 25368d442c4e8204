"""Real-time streaming: a causal engine fed one frame at a time (paper §V's open real-time goal).

``StreamEngine(refiner=..., predictor=...)`` keeps a fixed-size ring buffer of the last frames of
N dancers inside **one jitted step** with static shapes (compiled once, never re-traced per
frame).  ``push(frame, conf)`` takes the newest frame of every dancer — (N, J, D) keypoints and
(N, J) confidences, or one dancer's (J, D) — and returns, for that frame:

* ``refined``: the refined keypoints of the newest frame (2D, from a recognition model's
  refiner run on the buffered window; the input itself without a refiner);
* ``style``: the style posterior (softmax of the class scores), with a recognition model;
* ``predicted``: the next ``horizon`` poses, with a prediction model whose pose dimension
  matches the stream's (3D streams; for a 2D stream, a 2D predictor).

**Causality**: the output at frame t depends on frames ≤ t only (the buffer holds the past):
the refiner's output is the last frame of its window, the causal mode that the refinement
benchmark measures (``dancejax.studies.sequences``; ``tests/test_refinement.py`` checks both agree).
**Warm-up**: until ``window`` frames have arrived, the buffer's empty slots repeat the first
frame (as a replicate-padded edge); ``ready`` is False during warm-up and the outputs then come
from fewer real frames.  **Missing data**: a NaN keypoint is a missing joint — confidence 0 and
its last seen position (never propagated into the model).  **Timestamps**: with ``timestamp``
given, a gap of k frame periods inserts k − 1 missing frames (up to ``max_gap`` periods; a
longer gap restarts the warm-up), so the buffer stays uniform in time.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.errors import DataError

CANONICAL_FPS = 25.0


@dataclasses.dataclass
class StreamState:
    buffer: np.ndarray  # (N, W, J, D)
    conf: np.ndarray  # (N, W, J)
    count: int
    last: np.ndarray | None  # (N, J, D) last seen position of every joint
    last_time: float | None


def _window_view(buf, conf, count):
    """The buffer with its not-yet-filled (oldest) slots replaced by the first real frame."""
    w = buf.shape[1]
    first = jnp.clip(w - count, 0, w - 1)
    idx = jnp.maximum(jnp.arange(w), first)
    return buf[:, idx], conf[:, idx]


def make_stream_step(refiner=None, predictor=None, flip_test: bool | None = False):
    """``step(buffer, conf, count, frame, frame_conf) -> (buffer, conf, outputs)``, pure and jitted
    by the engine: the ring buffer shifts by one frame and the models run on it.  ``flip_test``:
    the refiner's flip test, as ``StreamEngine`` takes it (off by default; None: as the model
    was configured)."""
    ref_fn = None
    if refiner is not None:
        from dancejax.tasks.recognition import _inference_fn

        flip = refiner.cfg.flip_test if flip_test is None else bool(flip_test)
        ref_fn = _inference_fn(refiner.cfg.model.clone(dropout=0.0), flip, refiner.cfg.keep_uncertain)
        ref_vars = refiner.variables
    pred_cfg, pred_vars = (predictor.cfg, predictor.variables) if predictor is not None else (None, None)

    def step(buffer, conf, count, frame, frame_conf):
        buffer = jnp.concatenate([buffer[:, 1:], frame[:, None]], 1)
        conf = jnp.concatenate([conf[:, 1:], frame_conf[:, None]], 1)
        view, cview = _window_view(buffer, conf, count)
        out = {"refined": frame}
        seq = view
        if ref_fn is not None:
            refined, logits = ref_fn(ref_vars, view[..., :2], cview)
            out["refined"] = refined[:, -1]
            out["style"] = jax.nn.softmax(logits, -1)
            seq = refined
        if pred_cfg is not None:
            from dancejax.tasks.prediction import forward

            out["predicted"] = forward(pred_cfg, pred_vars, seq[:, -pred_cfg.obs :])
        return buffer, conf, out

    return step


class StreamEngine:
    """A causal streaming engine over trained models (see the module docstring).

    Args:
        refiner: a recognition ``Refiner`` (e.g. ``dancejax.load_model(run)``) or None.
        predictor: a prediction ``Predictor`` or None.
        dancers: N, the number of streams processed together (batched in one step).
        joints: the stream's number of joints (LSP-14: 14).
        dims: the stream's pose dimension (2 or 3; default 2 with a refiner, else the
            predictor's).
        fps: the stream's frame rate (the models expect 25).
        max_gap: the longest timestamp gap, in frame periods, bridged with missing frames.
        flip_test: the refiner's flip test (``dancejax.tasks.recognition.apply_refiner``).  Off by
            default: it runs the refiner twice per frame, on the pose and on its mirror image
            (``python -m benchmarks.stream_latency --flip-test on`` times it); True turns it on,
            None keeps the model's setting (the presets evaluate with it on).
    """

    def __init__(
        self,
        refiner=None,
        predictor=None,
        dancers: int = 1,
        joints: int = 14,
        dims: int | None = None,
        fps: float = CANONICAL_FPS,
        max_gap: int = 12,
        flip_test: bool | None = False,
    ):
        if refiner is None and predictor is None:
            raise DataError("stream: give a refiner, a predictor or both")
        if dims is None:
            dims = 2 if refiner is not None else predictor.cfg.model.dims
        if refiner is not None and dims != 2:
            raise DataError(f"stream: the refiner takes 2D keypoints; this stream is {dims}D")
        if predictor is not None and predictor.cfg.model.dims != dims:
            raise DataError(f"stream: the predictor is {predictor.cfg.model.dims}D; this stream is {dims}D")
        if not isinstance(dancers, int) or dancers < 1:
            raise DataError(f"stream: dancers must be a positive integer, got {dancers!r}")
        self.refiner, self.predictor = refiner, predictor
        self.dancers, self.joints, self.dims, self.fps, self.max_gap = dancers, joints, dims, fps, max_gap
        self.window = max(
            refiner.cfg.window if refiner is not None else 0, predictor.cfg.obs if predictor is not None else 0
        )
        self.horizon = predictor.cfg.pred if predictor is not None else 0
        self._step = jax.jit(make_stream_step(refiner, predictor, flip_test))
        self.reset()

    def reset(self):
        n, w, j, d = self.dancers, self.window, self.joints, self.dims
        self.state = StreamState(np.zeros((n, w, j, d), np.float32), np.zeros((n, w, j), np.float32), 0, None, None)

    @property
    def ready(self) -> bool:
        """Whether the window is full (the warm-up is over)."""
        return self.state.count >= self.window

    def _check(self, frame, conf):
        try:
            frame = np.asarray(frame, np.float64)
        except (TypeError, ValueError):
            raise DataError("input: field 'frame': expected a numeric array") from None
        if frame.ndim == 2:
            frame = frame[None]
        if frame.ndim != 3 or frame.shape != (self.dancers, self.joints, self.dims):
            raise DataError(
                f"input: field 'frame': expected ({self.dancers}, {self.joints}, {self.dims}) (dancers, "
                f"LSP-14 joints, {self.dims}D) at frame {self.state.count}, got {frame.shape}"
            )
        if conf is None:
            conf = np.ones(frame.shape[:2])
        conf = np.asarray(conf, np.float64).reshape(-1, self.joints) if np.size(conf) else conf
        if np.shape(conf) != frame.shape[:2]:
            raise DataError(f"input: field 'confidence': expected {frame.shape[:2]}, got {np.shape(conf)}")
        missing = ~np.isfinite(frame).all(-1) | ~np.isfinite(conf)
        conf = np.where(missing, 0.0, np.clip(conf, 0.0, 1.0))
        if np.abs(np.where(np.isfinite(frame), frame, 0)).max(initial=0) > 1e7:
            raise DataError(
                f"input: field 'frame': coordinates up to {np.nanmax(np.abs(frame)):.3g} at frame "
                f"{self.state.count}; expected pixels or metres"
            )
        last = self.state.last if self.state.last is not None else np.where(missing[..., None], 0.0, frame)
        frame = np.where(missing[..., None], last, frame)
        return frame.astype(np.float32), conf.astype(np.float32)

    def _advance(self, frame, conf):
        s = self.state
        buf, cbuf, out = self._step(s.buffer, s.conf, s.count + 1, frame, conf)
        s.buffer, s.conf, s.count = buf, cbuf, s.count + 1
        s.last = np.where((conf > 0)[..., None], frame, s.last if s.last is not None else frame)
        return out

    def push(self, frame, conf=None, timestamp: float | None = None) -> dict:
        """Feed the newest frame; returns its outputs (arrays with a leading dancer axis) and
        ``ready``/``frame`` fields."""
        frame, conf = self._check(frame, conf)
        if timestamp is not None:
            if not np.isfinite(timestamp):
                raise DataError(f"input: field 'timestamp': expected a finite time in seconds, got {timestamp!r}")
            if self.state.last_time is not None:
                gap = (timestamp - self.state.last_time) * self.fps
                if gap <= 0.5:
                    raise DataError(
                        f"input: field 'timestamp': {timestamp} is not after the previous frame "
                        f"({self.state.last_time})"
                    )
                k = int(round(gap))
                if k > self.max_gap:
                    self.reset()
                else:
                    hold = np.zeros_like(conf)
                    for _ in range(k - 1):
                        self._advance(self.state.last.astype(np.float32), hold)
            self.state.last_time = timestamp
        out = self._advance(frame, conf)
        return {**{k: np.asarray(v) for k, v in out.items()}, "ready": self.ready, "frame": self.state.count - 1}

    def run(self, frames, conf=None) -> list[dict]:
        """Push a whole (T, N, J, D) or (T, J, D) sequence frame by frame."""
        return [self.push(f, None if conf is None else conf[t]) for t, f in enumerate(frames)]


def latency(engine: StreamEngine, frames: int = 200, warmup: int = 20) -> dict:
    """Per-frame wall time of ``push`` in milliseconds (median and p99), after a warm-up."""
    rng = np.random.default_rng(0)
    scale = 500.0 if engine.dims == 2 else 1.0
    x = rng.normal(scale, 0.05 * scale, (warmup + frames, engine.dancers, engine.joints, engine.dims)).astype(
        np.float32
    )
    times = []
    for t in range(warmup + frames):
        t0 = time.perf_counter()
        out = engine.push(x[t])
        jax.block_until_ready(out.get("predicted", out["refined"]))
        if t >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": float(np.median(times)), "p99_ms": float(np.percentile(times, 99)), "frames": frames}
