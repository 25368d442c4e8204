"""The compact real dance dataset shipped in the package, and windows for batching.

``load_dataset()`` reads ``dancejax/data/dance_lsp14.npz`` (built from real motion
capture and AIST++ annotations by ``experiments/build_dataset.py``; licences in
``dancejax/data/NOTICE.md``).  Everything is LSP-14 at 25 fps:

* 3D takes in metres (Y up), labelled with style, performer, source and split;
* AIST++ real 2D detector keypoints (pixels, 9 camera views per sequence) with
  confidences, and the 3D ground truth projected through the same cameras.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.aistpp import Camera, project

DATA_FILE = "dance_lsp14.npz"
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Take:
    name: str
    style: str
    performer: str
    source: str
    group: str
    split: str
    positions: np.ndarray  # (T, 14, 3) metres, 25 fps

    @property
    def num_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def seconds(self) -> float:
        return self.num_frames / 25.0


@dataclasses.dataclass(frozen=True)
class DetectionSet:
    """Real detections of one sequence: (views, T, 14, 2) pixels + confidences, against the
    projected ground truth ``gt``.  ``has_gt=False``: 2D keypoint takes with no ground truth
    (``gt`` is then a copy of ``det`` and only the style label teaches)."""

    name: str
    style: str
    split: str
    det: np.ndarray
    conf: np.ndarray
    gt: np.ndarray
    cameras: tuple[Camera, ...]
    has_gt: bool = True


@dataclasses.dataclass
class Windows:
    """Fixed-shape windows for batching.  ``positions`` (N, L, J, D)."""

    positions: np.ndarray
    style: np.ndarray  # (N,) int style index
    take: np.ndarray  # (N,) int take index into the list the windows were cut from
    start: np.ndarray  # (N,) first frame
    confidence: np.ndarray | None = None  # (N, L, J)
    target: np.ndarray | None = None  # (N, L, J, D) ground truth when positions are noisy


class DanceDataset:
    """Takes (3D, LSP-14, 25 fps) with style, performer and split labels, and optionally real
    2D detections.  ``DanceDataset()`` is the shipped dataset; ``from_takes``,
    ``from_sequences`` and ``from_folder`` (``dancejax.data.user``) build one from your own data."""

    def __init__(self, path=None):
        if path is None:
            path = resources.files("dancejax.data") / DATA_FILE
        path = Path(str(path))
        if not path.exists():
            raise DataError(f"{path}: dataset file not found; build it with experiments/build_dataset.py")
        from dancejax.io.validate import load_npz

        d = load_npz(path, "dancejax dataset file")
        missing = [k for k in ("positions3d", "take_offsets", "takes_json") if k not in d]
        if missing:
            raise DataError(f"{path}: field(s) {missing} missing: not a dancejax dataset file")
        meta = json.loads(str(d["takes_json"]))
        off = d["take_offsets"]
        takes = [
            Take(
                m["name"],
                m["style"],
                m["performer"],
                m["source"],
                m["group"],
                m["split"],
                d["positions3d"][off[i] : off[i + 1]],
            )
            for i, m in enumerate(meta)
        ]
        detections = []
        if "aist_offsets" in d:
            aoff = d["aist_offsets"]
            by_name = {m["name"]: m for m in meta}
            for i, name in enumerate(d["aist_names"]):
                sl = slice(aoff[i], aoff[i + 1])
                cams = tuple(
                    Camera(
                        f"c{v + 1:02d}",
                        (1920, 1080),
                        d["aist_cam_K"][i, v].astype(np.float64),
                        d["aist_cam_dist"][i, v].astype(np.float64),
                        d["aist_cam_R"][i, v].astype(np.float64),
                        d["aist_cam_t"][i, v].astype(np.float64),
                    )
                    for v in range(d["aist_cam_K"].shape[1])
                )
                m = by_name[str(name)]
                detections.append(
                    DetectionSet(
                        str(name),
                        m["style"],
                        m["split"],
                        d["aist_det2d"][:, sl],
                        d["aist_conf2d"][:, sl],
                        d["aist_gt2d"][:, sl],
                        cams,
                    )
                )
        self._set(path, takes, detections, int(d["split_seed"]) if "split_seed" in d else None)

    def _set(self, path, takes, detections, split_seed):
        self.path = Path(str(path))
        self.takes = list(takes)
        self.meta = {
            t.name: {
                "name": t.name,
                "style": t.style,
                "performer": t.performer,
                "source": t.source,
                "group": t.group,
                "split": t.split,
            }
            for t in self.takes
        }
        self.detections = list(detections)
        self.split_seed = split_seed

    @classmethod
    def from_takes(cls, takes: list[Take], source="user data", detections=(), split_seed=None) -> DanceDataset:
        """A dataset of ready ``Take``s and ``DetectionSet``s (one of them may be empty)."""
        if not takes and not detections:
            raise DataError(f"{source}: no takes")
        names = [t.name for t in takes] + [d.name for d in detections if d.name not in {t.name for t in takes}]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DataError(f"{source}: take names must be unique; repeated: {dup}")
        ds = cls.__new__(cls)
        ds._set(source, takes, detections, split_seed)
        return ds

    @property
    def styles(self) -> list[str]:
        return sorted({t.style for t in self.takes} | {d.style for d in self.detections})

    def split_of(self) -> dict[str, tuple[str, str]]:
        """Every take's and 2D detection set's (style, split), by name."""
        out = {d.name: (d.style, d.split) for d in self.detections}
        out.update({t.name: (t.style, t.split) for t in self.takes})
        return dict(sorted(out.items()))

    def list_takes(
        self, split: str | None = None, style: str | None = None, styles: list[str] | None = None
    ) -> list[Take]:
        if split is not None and split not in SPLITS:
            raise DataError(f"unknown split {split!r}; use one of {SPLITS}")
        return [
            t
            for t in self.takes
            if (split is None or t.split == split)
            and (style is None or t.style == style)
            and (styles is None or t.style in styles)
        ]

    def take(self, name: str) -> Take:
        for t in self.takes:
            if t.name == name:
                return t
        raise DataError(f"no take named {name!r}; takes: {[t.name for t in self.takes]}")

    def detection(self, name: str) -> DetectionSet:
        for d in self.detections:
            if d.name == name:
                return d
        raise DataError(f"no AIST++ detections for {name!r}")


def cut_windows(sequences: list[np.ndarray], length: int, stride: int, labels=None, name: str = "sequence") -> Windows:
    """All windows of ``length`` frames, every ``stride`` frames, from each (T, J, D) array.

    A sequence shorter than ``length`` is an error (it would yield nothing silently).
    """
    if length < 1 or stride < 1:
        raise DataError(f"window length and stride must be positive, got {length}, {stride}")
    pos, sty, tk, st = [], [], [], []
    for i, s in enumerate(sequences):
        if s.shape[0] < length:
            raise DataError(
                f"{name} {i}: has {s.shape[0]} frames, shorter than the window of {length}; "
                "drop it or use a shorter window"
            )
        starts = np.arange(0, s.shape[0] - length + 1, stride)
        idx = starts[:, None] + np.arange(length)[None]
        pos.append(s[idx])
        sty.append(np.full(len(starts), -1 if labels is None else labels[i]))
        tk.append(np.full(len(starts), i))
        st.append(starts)
    return Windows(np.concatenate(pos).astype(np.float32), np.concatenate(sty), np.concatenate(tk), np.concatenate(st))


def take_windows(takes: list[Take], length: int, stride: int, style_names: list[str]) -> Windows:
    for t in takes:
        if t.num_frames < length:
            raise DataError(f"take {t.name}: {t.num_frames} frames, shorter than the window of {length}")
    labels = [style_names.index(t.style) for t in takes]
    return cut_windows([t.positions for t in takes], length, stride, labels, name="take")


def random_cameras(
    rng: np.random.Generator, n: int, distance=(3.5, 6.0), height=(0.8, 1.8), focal=(900.0, 1500.0), size=(1920, 1080)
) -> dict[str, np.ndarray]:
    """``n`` virtual pinhole cameras looking at the origin from a random azimuth, Y up."""
    az = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(*distance, n)
    h = rng.uniform(*height, n)
    f = rng.uniform(*focal, n)
    eye = np.stack([dist * np.sin(az), h, dist * np.cos(az)], -1)
    target = np.stack([np.zeros(n), np.full(n, 1.0), np.zeros(n)], -1)
    fwd = target - eye
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
    right = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(fwd, right)
    R = np.stack([right, down, fwd], 1)  # rows: camera x (right), y (down), z (forward)
    t = -np.einsum("nij,nj->ni", R, eye)
    return {"R": R, "t": t, "f": f, "c": np.stack([np.full(n, size[0] / 2), np.full(n, size[1] / 2)], -1)}


def project_windows(windows3d: np.ndarray, rng: np.random.Generator, **camera_kw) -> np.ndarray:
    """Project (N, L, J, 3) metre windows to (N, L, J, 2) pixels through random cameras.

    Each window is first centred on its first frame's mid-hip on the floor plane,
    so that the camera looks at the dancer.
    """
    n = windows3d.shape[0]
    cam = random_cameras(rng, n, **camera_kw)
    hip = windows3d[:, :1, 2:4].mean(2, keepdims=True)
    centred = windows3d - hip * np.array([1.0, 0.0, 1.0])
    xc = np.einsum("nij,nlkj->nlki", cam["R"], centred) + cam["t"][:, None, None]
    z = np.maximum(xc[..., 2:3], 0.1)
    return (xc[..., :2] / z * cam["f"][:, None, None, None] + cam["c"][:, None, None]).astype(np.float32)


def project_take(take: Take, cam: Camera) -> np.ndarray:
    """Project a take (metres) through a real AIST++ camera (centimetres)."""
    return project(take.positions, cam, 100.0).astype(np.float32)
