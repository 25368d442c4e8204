"""AIST++ annotations: keypoint pickles (read safely) and camera JSON with projection.

AIST++ ships its annotations as Python pickles.  ``load_restricted_pickle``
*does* unpickle the file, but through an unpickler that only admits NumPy array
reconstruction and plain builtin containers/scalars; anything else (a class, a
function, ``os.system``) is refused with a :class:`DataError` before it is built.

Coordinates: ``keypoints3d_optim`` is COCO-17 in centimetres, Y up; we return
metres.  ``keypoints2d`` is (views, T, 17, 3) detector output [x, y, score] in
pixels of 1920×1080 images.  Detector scores slightly above 1 are clipped to 1;
NaN detections become confidence 0 at position (0, 0).
"""

from __future__ import annotations

import dataclasses
import io
import pickle
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.rotations import rodrigues
from dancejax.io.sequence import PoseSequence

AIST_FPS = 60.0

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # NumPy arrays pickled under protocol 2 store bytes this way
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
}
# Not admitted: constructors that allocate from a number (bytes(n), bytearray(n)) or build values
# an annotation never holds (complex, set, ...).  Containers and scalars come from pickle opcodes.
MAX_PICKLE_BYTES = 1 << 30


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, f, source):
        super().__init__(f)
        self._source = source

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise DataError(
            f"{self._source}: refusing to unpickle {module}.{name}: only NumPy arrays and builtin "
            "containers are allowed in keypoint pickles"
        )


def load_restricted_pickle(path) -> dict:
    """Unpickle an AIST++ annotation file, admitting only NumPy arrays and builtins."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PICKLE_BYTES:
            raise DataError(
                f"{path}: {size / 2**20:.0f} MiB is over the {MAX_PICKLE_BYTES / 2**20:.0f} MiB limit "
                "for an annotation pickle"
            )
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e}") from None
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), path).load()
    except DataError:
        raise
    except Exception as e:  # a broken pickle raises many types; report them as data errors
        raise DataError(f"{path}: not a readable pickle ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a dict of arrays, got {type(obj).__name__}")
    return obj


def _array(d: dict, key: str, path, ndim: int, last: int) -> np.ndarray:
    if key not in d:
        raise DataError(f"{where(path, key)}missing; the file has {sorted(map(str, d))}")
    a = d[key]
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
        raise DataError(
            f"{where(path, key)}expected a real numeric array, got "
            f"{a.dtype if isinstance(a, np.ndarray) else type(a).__name__}"
        )
    if a.ndim != ndim or a.shape[-1] != last or a.shape[-2] != 17:
        raise DataError(f"{where(path, key)}expected (..., 17, {last}) with {ndim} dims, got {a.shape}")
    return a


def read_keypoints3d(path, labels: dict | None = None, key: str = "keypoints3d_optim") -> PoseSequence:
    """COCO-17 3D keypoints in metres (``keypoints3d_optim`` has no NaN frames)."""
    d = load_restricted_pickle(path)
    k = _array(d, key, path, 3, 3).astype(np.float64) / 100.0
    if np.isinf(k).any():
        raise DataError(
            f"{where(path, key)}{int(np.isinf(k).sum())} infinite coordinates: a corrupt file "
            "(AIST++ marks missing frames with NaN)"
        )
    conf = np.isfinite(k).all(-1).astype(np.float32)
    k = np.where(np.isfinite(k), k, 0.0)
    lab = {"units": "m", "source": "aistpp", **(labels or {})}
    return PoseSequence(k.astype(np.float32), conf, AIST_FPS, "coco17", lab, source=str(path))


def read_keypoints2d(path, labels: dict | None = None) -> list[PoseSequence]:
    """One COCO-17 pixel sequence per camera view, with detector confidences."""
    d = load_restricted_pickle(path)
    k = _array(d, "keypoints2d", path, 4, 3).astype(np.float32)
    if k.shape[0] == 0 or k.shape[1] == 0:
        raise DataError(f"{where(path, 'keypoints2d')}no views or no frames (shape {k.shape})")
    if np.isinf(k).any():
        raise DataError(f"{where(path, 'keypoints2d')}infinite values: a corrupt file (missing detections are NaN)")
    xy, score = k[..., :2], k[..., 2]
    ok = np.isfinite(xy).all(-1) & np.isfinite(score)
    conf = np.where(ok, np.clip(score, 0.0, 1.0), 0.0).astype(np.float32)
    xy = np.where(ok[..., None], xy, 0.0)
    lab = {"units": "px", "source": "aistpp", **(labels or {})}
    return [
        PoseSequence(xy[v], conf[v], AIST_FPS, "coco17", {**lab, "view": v}, source=str(path))
        for v in range(k.shape[0])
    ]


@dataclasses.dataclass(frozen=True)
class Camera:
    """Pinhole camera with OpenCV-style radial/tangential distortion (k1, k2, p1, p2, k3)."""

    name: str
    size: tuple[int, int]
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray  # same length unit as the points it projects (AIST++: centimetres)


def read_cameras(path) -> list[Camera]:
    """AIST++ camera JSON: a list of {name, size (w, h), matrix (3×3), distortions (≤ 5),
    rotation (Rodrigues 3-vector), translation (3)}; every field checked."""
    from dancejax.io.validate import load_json, real_array

    path = Path(path)
    raw = load_json(path)
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{path}: expected a non-empty list of cameras")
    cams = []
    for i, c in enumerate(raw):
        f = f"camera {i}"
        if not isinstance(c, dict):
            raise DataError(f"{where(path, f)}expected an object")
        for key in ("size", "matrix", "rotation", "translation"):
            if key not in c:
                raise DataError(f"{where(path, f + '.' + key)}missing")
        size = real_array(c["size"], path, f + ".size", ndim=1, finite=True)
        k = real_array(c["matrix"], path, f + ".matrix", finite=True)
        rot = real_array(c["rotation"], path, f + ".rotation", ndim=1, finite=True)
        tr = real_array(c["translation"], path, f + ".translation", ndim=1, finite=True)
        dd = real_array(c.get("distortions", []), path, f + ".distortions", finite=True).reshape(-1)
        if size.shape != (2,) or (size <= 0).any():
            raise DataError(f"{where(path, f + '.size')}expected (width, height) > 0, got {size.tolist()}")
        if k.shape != (3, 3) or k[0, 0] <= 0 or k[1, 1] <= 0:
            raise DataError(
                f"{where(path, f + '.matrix')}expected a 3×3 intrinsic matrix with positive focal "
                f"lengths, got shape {k.shape}"
            )
        if rot.shape != (3,) or tr.shape != (3,):
            raise DataError(
                f"{where(path, f + '.rotation/translation')}expected 3 values each, got {rot.shape}, {tr.shape}"
            )
        if dd.size > 5:
            raise DataError(f"{where(path, f + '.distortions')}expected at most 5 coefficients, got {dd.size}")
        dist = np.zeros(5)
        dist[: dd.size] = dd
        cams.append(Camera(str(c.get("name", i)), tuple(int(v) for v in size), k, dist, rodrigues(rot), tr))
    return cams


def project(points: np.ndarray, cam: Camera, unit_scale: float = 1.0) -> np.ndarray:
    """Project (..., 3) world points to (..., 2) pixels.

    ``unit_scale`` converts the points to the camera's length unit (AIST++ cameras
    are in centimetres, so metres need ``unit_scale=100``).
    """
    x = np.asarray(points, np.float64) * unit_scale
    xc = x @ cam.R.T + cam.t
    z = xc[..., 2:3]
    xn = xc[..., :2] / z
    k1, k2, p1, p2, k3 = cam.dist
    r2 = (xn**2).sum(-1, keepdims=True)
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd, yd = xn[..., 0:1], xn[..., 1:2]
    tx = 2 * p1 * xd * yd + p2 * (r2 + 2 * xd**2)
    ty = p1 * (r2 + 2 * yd**2) + 2 * p2 * xd * yd
    xy = xn * radial + np.concatenate([tx, ty], -1)
    return xy @ cam.K[:2, :2].T + cam.K[:2, 2]


def read_camera_mapping(path) -> dict[str, str]:
    out = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out
