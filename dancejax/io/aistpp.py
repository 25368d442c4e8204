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
import json
import pickle
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.rotations import rodrigues
from dancejax.sequence import PoseSequence

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
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "complex"),
    ("builtins", "str"),
    ("builtins", "bytes"),
    ("builtins", "bytearray"),
    ("builtins", "bool"),
}


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
        raise DataError(f"{where(path, key)}missing; the file has {sorted(d)}")
    a = np.asarray(d[key])
    if a.ndim != ndim or a.shape[-1] != last or a.shape[-2] != 17:
        raise DataError(f"{where(path, key)}expected (..., 17, {last}) with {ndim} dims, got {a.shape}")
    return a


def read_keypoints3d(path, labels: dict | None = None, key: str = "keypoints3d_optim") -> PoseSequence:
    """COCO-17 3D keypoints in metres (``keypoints3d_optim`` has no NaN frames)."""
    d = load_restricted_pickle(path)
    k = _array(d, key, path, 3, 3).astype(np.float64) / 100.0
    conf = np.isfinite(k).all(-1).astype(np.float32)
    k = np.where(np.isfinite(k), k, 0.0)
    lab = {"units": "m", "source": "aistpp", **(labels or {})}
    return PoseSequence(k.astype(np.float32), conf, AIST_FPS, "coco17", lab, source=str(path))


def read_keypoints2d(path, labels: dict | None = None) -> list[PoseSequence]:
    """One COCO-17 pixel sequence per camera view, with detector confidences."""
    d = load_restricted_pickle(path)
    k = _array(d, "keypoints2d", path, 4, 3).astype(np.float32)
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
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not a readable camera JSON ({e})") from None
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{path}: expected a non-empty list of cameras")
    cams = []
    for i, c in enumerate(raw):
        try:
            dist = np.zeros(5)
            dd = np.asarray(c.get("distortions", []), np.float64)
            dist[: len(dd)] = dd
            cams.append(
                Camera(
                    name=str(c.get("name", i)),
                    size=tuple(c["size"]),
                    K=np.asarray(c["matrix"], np.float64),
                    dist=dist,
                    R=rodrigues(np.asarray(c["rotation"], np.float64)),
                    t=np.asarray(c["translation"], np.float64),
                )
            )
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{where(path, f'camera {i}')}missing or malformed entry ({e})") from None
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
