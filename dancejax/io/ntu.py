"""NTU RGB+D ``.skeleton`` files (Shahroudy et al. 2016), the format ST-GCN's NTU models train on.

The text format, one value group per line::

    <frames>
    per frame:  <bodies>
      per body: <bodyID> <clippedEdges> <handLeftConfidence> <handLeftState> <handRightConfidence>
                <handRightState> <isRestricted> <leanX> <leanY> <trackingState>
                <joints>   (25)
        per joint: x y z depthX depthY colorX colorY orientationW orientationX orientationY orientationZ trackingState

x, y, z are camera-space metres (Kinect v2, Y up).  The joint's trackingState (0 not tracked,
1 inferred, 2 tracked) becomes its confidence (0, 0.5, 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.sequence import PoseSequence

JOINTS = 25
MAX_BODIES = 16  # Kinect v2 tracks at most 6; a larger count is a broken file
MAX_FRAMES = 100_000


def read_ntu_bodies(path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All bodies: positions (B, T, 25, 3) metres, confidence (B, T, 25), body ids.  A body absent
    from a frame has confidence 0 there."""
    path = Path(path)
    try:
        lines = path.read_text().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read NTU skeleton file ({e})") from None
    pos = 0

    def nxt(field: str, n: int | None = None, cast=float):
        nonlocal pos
        while pos < len(lines) and not lines[pos].strip():
            pos += 1
        if pos >= len(lines):
            raise DataError(f"{where(path, field)}file ends early (line {pos + 1})")
        parts = lines[pos].split()
        pos += 1
        if n is not None and len(parts) != n:
            raise DataError(f"{where(path, field)}line {pos}: expected {n} values, got {len(parts)}")
        try:
            vals = [cast(p) for p in parts]
        except ValueError:
            raise DataError(
                f"{where(path, field)}line {pos}: expected numbers, got {lines[pos - 1].strip()[:80]!r}"
            ) from None
        if cast is float and not np.isfinite(vals).all():
            raise DataError(f"{where(path, field)}line {pos}: non-finite value")
        return vals

    (frames,) = nxt("frame count", 1, int)
    if not 1 <= frames <= MAX_FRAMES:
        raise DataError(f"{where(path, 'frame count')}expected 1..{MAX_FRAMES}, got {frames}")
    bodies: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {}
    for t in range(frames):
        (nb,) = nxt(f"frame {t} body count", 1, int)
        if not 0 <= nb <= MAX_BODIES:
            raise DataError(f"{where(path, f'frame {t} body count')}expected 0..{MAX_BODIES}, got {nb}")
        for _ in range(nb):
            info = nxt(f"frame {t} body info", 10, str)
            try:
                [float(v) for v in info[1:]]
            except ValueError:
                raise DataError(
                    f"{where(path, f'frame {t} body info')}line {pos}: expected numbers after the body id, "
                    f"got {' '.join(info)[:80]!r}"
                ) from None
            body_id = info[0]
            (nj,) = nxt(f"frame {t} joint count", 1, int)
            if nj != JOINTS:
                raise DataError(f"{where(path, f'frame {t} joint count')}expected {JOINTS} joints, got {nj}")
            xyz = np.zeros((JOINTS, 3), np.float32)
            conf = np.zeros(JOINTS, np.float32)
            for j in range(JOINTS):
                v = nxt(f"frame {t} joint {j}", 12)
                xyz[j] = v[:3]
                state = int(v[11])
                if state not in (0, 1, 2):
                    raise DataError(
                        f"{where(path, f'frame {t} joint {j}')}trackingState must be 0, 1 or 2, got {v[11]}"
                    )
                conf[j] = state / 2.0
            bodies.setdefault(body_id, {})[t] = (xyz, conf)
    if not bodies:
        raise DataError(f"{path}: no body in any frame")
    ids = list(bodies)
    p = np.zeros((len(ids), frames, JOINTS, 3), np.float32)
    c = np.zeros((len(ids), frames, JOINTS), np.float32)
    for b, bid in enumerate(ids):
        for t, (xyz, conf) in bodies[bid].items():
            p[b, t], c[b, t] = xyz, conf
    return p, c, ids


def read_ntu_skeleton(
    path, fps: float = 30.0, body: int | str = "most_frames", labels: dict | None = None
) -> PoseSequence:
    """One body of an NTU ``.skeleton`` file as an ``ntu25`` sequence (metres, 30 fps): by index, or
    the body present in the most frames (default)."""
    p, c, ids = read_ntu_bodies(path)
    if body == "most_frames":
        b = int(np.argmax((c.max(-1) > 0).sum(-1)))
    elif isinstance(body, int) and 0 <= body < len(ids):
        b = body
    else:
        raise DataError(f"{where(path, 'body')}expected 'most_frames' or an index below {len(ids)}, got {body!r}")
    return PoseSequence(p[b], c[b], fps, "ntu25", {"units": "m", "body_id": ids[b], **(labels or {})}, source=str(path))


def stgcn_input(path, max_bodies: int = 2) -> np.ndarray:
    """The original ST-GCN's NTU input for one file: (M, T, 25, 3), the ``max_bodies`` bodies
    present in the most frames, zero where absent (``dancejax.deploy.convert.Classifier`` takes it with a
    leading batch axis)."""
    p, c, _ = read_ntu_bodies(path)
    order = np.argsort(-(c.max(-1) > 0).sum(-1))[:max_bodies]
    out = np.zeros((max_bodies,) + p.shape[1:], np.float32)
    out[: len(order)] = p[order] * (c[order].max(-1) > 0)[..., None, None]
    return out
