"""BVH with any hierarchy, 3 or 6 channels per joint, any rotation order.

Each joint's local transform is a translation then the rotations in the order its
CHANNELS line lists them (``Zrotation Yrotation Xrotation`` gives ``Rz·Ry·Rx``).
The translation is the joint's OFFSET, or, for a joint that has position
channels (the root, or every joint in files such as LAFAN1), the channel values
in place of the offset.  End Sites become joints named ``<parent>_end``.

Units are the file's; pass ``scale`` to convert (CMU BVH conversions use the
Acclaim unit, so ``scale = 0.0254 / 0.45`` gives metres).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.rotations import euler_matrix
from dancejax.sequence import PoseSequence

_CHANNELS = {"xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation"}


@dataclasses.dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    channel_start: int


@dataclasses.dataclass
class BvhMotion:
    joints: list[BvhJoint]
    frames: np.ndarray  # (T, total channels)
    frame_time: float
    source: str

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]


def read_bvh_motion(path) -> BvhMotion:
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read BVH file: {e}") from None
    tokens = text.split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise DataError(f"{where(path, 'HIERARCHY')}file does not start with HIERARCHY: not a BVH file")
    pos = 1
    joints: list[BvhJoint] = []
    stack: list[int] = []
    n_channels = 0

    def need(n: int, what: str):
        if pos + n > len(tokens):
            raise DataError(f"{where(path, what)}file ends inside the hierarchy (truncated?)")

    pending: dict | None = None
    while True:
        need(1, "HIERARCHY")
        tok = tokens[pos]
        if tok == "MOTION":
            pos += 1
            break
        if tok in ("ROOT", "JOINT", "End"):
            need(2, tok)
            name = tokens[pos + 1]
            if tok == "End":
                name = f"{joints[stack[-1]].name}_end" if stack else "end"
            pending = {"name": name, "parent": stack[-1] if stack else -1}
            pos += 2
        elif tok == "{":
            if pending is None:
                raise DataError(f"{where(path, 'HIERARCHY')}unexpected '{{' at token {pos}")
            joints.append(BvhJoint(pending["name"], pending["parent"], np.zeros(3), (), n_channels))
            stack.append(len(joints) - 1)
            pending = None
            pos += 1
        elif tok == "}":
            if not stack:
                raise DataError(f"{where(path, 'HIERARCHY')}unbalanced '}}' at token {pos}")
            stack.pop()
            pos += 1
        elif tok == "OFFSET":
            need(4, "OFFSET")
            try:
                joints[stack[-1]].offset = np.array([float(v) for v in tokens[pos + 1 : pos + 4]])
            except (ValueError, IndexError):
                raise DataError(f"{where(path, 'OFFSET')}expected 3 numbers after OFFSET at token {pos}") from None
            pos += 4
        elif tok == "CHANNELS":
            need(2, "CHANNELS")
            try:
                k = int(tokens[pos + 1])
            except ValueError:
                raise DataError(f"{where(path, 'CHANNELS')}expected a channel count at token {pos}") from None
            need(3 + k, "CHANNELS")  # a hierarchy never ends right after a channel list
            chans = tuple(c.lower() for c in tokens[pos + 2 : pos + 2 + k])
            if any(c not in _CHANNELS for c in chans):
                raise DataError(
                    f"{where(path, 'CHANNELS')}unknown channel in {chans} of joint {joints[stack[-1]].name!r}"
                )
            j = joints[stack[-1]]
            j.channels, j.channel_start = chans, n_channels
            n_channels += k
            pos += 2 + k
        else:
            raise DataError(f"{where(path, 'HIERARCHY')}unexpected token {tok!r} at token {pos}")
    if stack:
        raise DataError(f"{where(path, 'HIERARCHY')}unclosed joint blocks before MOTION")
    try:
        if tokens[pos] != "Frames:" or tokens[pos + 2 : pos + 4] != ["Frame", "Time:"]:
            raise IndexError
        n_frames = int(tokens[pos + 1])
        frame_time = float(tokens[pos + 4])
    except (IndexError, ValueError):
        raise DataError(f"{where(path, 'MOTION')}expected 'Frames: N' and 'Frame Time: dt' after MOTION") from None
    values = tokens[pos + 5 :]
    expected = n_frames * n_channels
    if len(values) != expected:
        got_frames = len(values) / max(n_channels, 1)
        raise DataError(
            f"{where(path, 'MOTION')}header says {n_frames} frames × {n_channels} channels = {expected} values, "
            f"found {len(values)} (≈{got_frames:.1f} frames): the file is truncated or corrupt"
        )
    try:
        frames = np.asarray(values, np.float64).reshape(n_frames, n_channels)
    except ValueError:
        raise DataError(f"{where(path, 'MOTION')}non-numeric values in the motion data") from None
    if not np.isfinite(frames).all():
        raise DataError(f"{where(path, 'MOTION')}non-finite channel values (NaN/inf)")
    if frame_time <= 0:
        raise DataError(f"{where(path, 'Frame Time')}expected a positive frame time, got {frame_time}")
    return BvhMotion(joints, frames, frame_time, str(path))


def bvh_forward_kinematics(m: BvhMotion) -> np.ndarray:
    """World positions (T, J, 3) of every joint and end site, in file units."""
    t = m.frames.shape[0]
    pos = np.zeros((t, len(m.joints), 3))
    rot = np.zeros((t, len(m.joints), 3, 3))
    for k, j in enumerate(m.joints):
        vals = m.frames[:, j.channel_start : j.channel_start + len(j.channels)]
        trans = np.broadcast_to(j.offset, (t, 3)).copy()
        rot_axes, rot_cols = "", []
        for c, ch in enumerate(j.channels):
            axis = "xyz".index(ch[0])
            if ch.endswith("position"):
                trans[:, axis] = vals[:, c]
            else:
                rot_axes += ch[0]
                rot_cols.append(c)
        local = euler_matrix(rot_axes, vals[:, rot_cols]) if rot_axes else np.broadcast_to(np.eye(3), (t, 3, 3))
        if j.parent < 0:
            pos[:, k] = trans
            rot[:, k] = local
        else:
            pr = rot[:, j.parent]
            pos[:, k] = pos[:, j.parent] + np.einsum("tij,tj->ti", pr, trans)
            rot[:, k] = pr @ local
    return pos


# CMU BVH conversions (Hahne's cgspeed release) joint names -> LSP-14 joints.
# Joint positions sit at bone starts, so LeftKnee is the end of the femur etc.
CMU_BVH_TO_LSP14 = {
    "r_ankle": "RightAnkle",
    "r_knee": "RightKnee",
    "r_hip": "RightHip",
    "l_hip": "LeftHip",
    "l_knee": "LeftKnee",
    "l_ankle": "LeftAnkle",
    "r_wrist": "RightWrist",
    "r_elbow": "RightElbow",
    "r_shoulder": "RightShoulder",
    "l_shoulder": "LeftShoulder",
    "l_elbow": "LeftElbow",
    "l_wrist": "LeftWrist",
    "neck": "Neck",
    "head_top": "Head_end",
}

CMU_BVH_SCALE = 0.0254 / 0.45


def read_bvh(path, scale: float = 1.0, labels: dict | None = None, joint_map: dict | None = None) -> PoseSequence:
    """Read a BVH file.

    With ``joint_map`` (LSP joint name -> BVH joint name, e.g. ``CMU_BVH_TO_LSP14``)
    the result is in the ``lsp14`` layout; without it, a sequence in a layout named
    ``bvh`` is not available (BVH hierarchies vary), so the map is required unless
    you use :func:`read_bvh_motion` and :func:`bvh_forward_kinematics` directly.
    """
    m = read_bvh_motion(path)
    pos = bvh_forward_kinematics(m) * scale
    if joint_map is None:
        joint_map = CMU_BVH_TO_LSP14
    from dancejax.skeleton import LSP14

    idx = []
    for lsp_name in LSP14.joints:
        src = joint_map.get(lsp_name)
        if src not in m.names:
            raise DataError(
                f"{where(path, 'HIERARCHY')}joint {src!r} (for LSP-14 {lsp_name!r}) is not in the file; "
                f"its joints are {m.names}"
            )
        idx.append(m.names.index(src))
    lab = {"units": "m" if scale != 1.0 else "file units", **(labels or {})}
    return PoseSequence(pos[:, idx].astype(np.float32), None, 1.0 / m.frame_time, "lsp14", lab, source=str(path))
