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
import warnings
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.rotations import euler_matrix
from dancejax.io.sequence import PoseSequence
from dancejax.io.validate import check_size

_CHANNELS = {"xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation"}


@dataclasses.dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    channel_start: int
    end_site: bool = False


@dataclasses.dataclass
class BvhMotion:
    joints: list[BvhJoint]
    frames: np.ndarray  # (T, total channels)
    frame_time: float
    source: str

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]


MAX_BYTES = 1 << 31  # untrusted BVH text larger than 2 GiB is refused
MAX_JOINTS = 1000
MAX_CHANNELS_PER_JOINT = 6
MAX_FRAMES = 10_000_000


def read_bvh_motion(path, max_bytes: int = MAX_BYTES) -> BvhMotion:
    """Parse a BVH file.  The hierarchy is tokenised; the motion is read line by line into a
    preallocated array (numbers parsed in bulk per line, never kept as Python strings), and every
    motion line must hold exactly one frame's channel values."""
    path = Path(path)
    check_size(path, max_bytes, "BVH")
    try:
        fh = open(path, encoding="utf-8-sig")  # a byte-order mark, as some exporters write, is not content
    except OSError as e:
        raise DataError(f"{path}: cannot read BVH file: {e}") from None
    with fh:
        try:
            head_lines = []
            for line in fh:
                head_lines.append(line)
                if line.strip().startswith("MOTION"):
                    break
                if len(head_lines) > 200_000:
                    raise DataError(f"{where(path, 'HIERARCHY')}no MOTION section in the first 200 000 lines")
            if not head_lines or not head_lines[-1].strip().startswith("MOTION"):
                first = head_lines[0].split()[:1] if head_lines else []
                if first != ["HIERARCHY"]:
                    raise DataError(f"{where(path, 'HIERARCHY')}file does not start with HIERARCHY: not a BVH file")
                raise DataError(f"{where(path, 'MOTION')}file ends inside the hierarchy, with no MOTION: truncated?")
            joints, n_channels = _parse_hierarchy(" ".join(head_lines).split(), path)
            n_frames, frame_time = _motion_header(fh, path)
            frames = _motion_values(fh, path, n_frames, n_channels)
        except UnicodeDecodeError as e:
            raise DataError(f"{path}: not a text BVH file ({e.reason})") from None
    return BvhMotion(joints, frames, frame_time, str(path))


def _parse_hierarchy(tokens: list[str], path) -> tuple[list[BvhJoint], int]:
    if not tokens or tokens[0] != "HIERARCHY":
        raise DataError(f"{where(path, 'HIERARCHY')}file does not start with HIERARCHY: not a BVH file")
    pos = 1
    joints: list[BvhJoint] = []
    stack: list[int] = []
    n_channels = 0

    def need(n: int, what: str):
        if pos + n > len(tokens):
            raise DataError(f"{where(path, what)}file ends inside the hierarchy (truncated, or no MOTION)")

    pending: dict | None = None
    while True:  # every branch advances pos by at least one token, or raises
        need(1, "HIERARCHY")
        tok = tokens[pos]
        if tok == "MOTION":
            break
        if tok in ("ROOT", "JOINT", "End"):
            need(2, tok)
            if tok == "ROOT" and (stack or joints):
                raise DataError(f"{where(path, 'ROOT')}a second ROOT at token {pos}; one skeleton per file")
            if tok != "ROOT" and not stack:
                raise DataError(f"{where(path, tok)}{tok} outside any joint at token {pos}")
            name = tokens[pos + 1]
            if tok == "End":
                name = f"{joints[stack[-1]].name}_end"
            pending = {"name": name, "parent": stack[-1] if stack else -1, "end": tok == "End"}
            pos += 2
        elif tok == "{":
            if pending is None:
                raise DataError(f"{where(path, 'HIERARCHY')}unexpected '{{' at token {pos}")
            if len(joints) >= MAX_JOINTS:
                raise DataError(f"{where(path, 'HIERARCHY')}more than {MAX_JOINTS} joints")
            joints.append(BvhJoint(pending["name"], pending["parent"], np.zeros(3), (), n_channels, pending["end"]))
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
            if not stack:
                raise DataError(f"{where(path, 'OFFSET')}OFFSET outside any joint at token {pos}")
            try:
                off = np.array([float(v) for v in tokens[pos + 1 : pos + 4]])
            except ValueError:
                raise DataError(f"{where(path, 'OFFSET')}expected 3 numbers after OFFSET at token {pos}") from None
            if not np.isfinite(off).all():
                raise DataError(f"{where(path, 'OFFSET')}non-finite offset at token {pos}")
            joints[stack[-1]].offset = off
            pos += 4
        elif tok == "CHANNELS":
            need(2, "CHANNELS")
            if not stack:
                raise DataError(f"{where(path, 'CHANNELS')}CHANNELS outside any joint at token {pos}")
            try:
                k = int(tokens[pos + 1])
            except ValueError:
                raise DataError(f"{where(path, 'CHANNELS')}expected a channel count at token {pos}") from None
            if not 0 <= k <= MAX_CHANNELS_PER_JOINT:
                raise DataError(
                    f"{where(path, 'CHANNELS')}joint {joints[stack[-1]].name!r}: a channel count must be "
                    f"0..{MAX_CHANNELS_PER_JOINT}, got {k}"
                )
            need(2 + k, "CHANNELS")
            chans = tuple(c.lower() for c in tokens[pos + 2 : pos + 2 + k])
            if any(c not in _CHANNELS for c in chans) or len(set(chans)) != len(chans):
                raise DataError(
                    f"{where(path, 'CHANNELS')}unknown or repeated channel in {chans} of joint "
                    f"{joints[stack[-1]].name!r}"
                )
            j = joints[stack[-1]]
            if j.channels:
                raise DataError(f"{where(path, 'CHANNELS')}joint {j.name!r} has two CHANNELS lines")
            j.channels, j.channel_start = chans, n_channels
            n_channels += k
            pos += 2 + k
        else:
            raise DataError(f"{where(path, 'HIERARCHY')}unexpected token {tok!r} at token {pos}")
    if stack:
        raise DataError(f"{where(path, 'HIERARCHY')}unclosed joint blocks before MOTION")
    if not joints:
        raise DataError(f"{where(path, 'HIERARCHY')}no joints")
    if n_channels == 0:
        raise DataError(f"{where(path, 'CHANNELS')}no joint has channels: nothing moves")
    return joints, n_channels


def _motion_header(fh, path) -> tuple[int, float]:
    header = []
    for line in fh:
        if line.strip():
            header.append(line.split())
        if len(header) == 2:
            break
    try:
        (f_key, f_val), (t1, t2, t_val) = header
        if f_key != "Frames:" or (t1, t2) != ("Frame", "Time:"):
            raise ValueError
        n_frames, frame_time = int(f_val), float(t_val)
    except ValueError:
        raise DataError(f"{where(path, 'MOTION')}expected 'Frames: N' and 'Frame Time: dt' after MOTION") from None
    if not 1 <= n_frames <= MAX_FRAMES:
        raise DataError(f"{where(path, 'Frames')}expected 1..{MAX_FRAMES} frames, got {n_frames}")
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise DataError(f"{where(path, 'Frame Time')}expected a positive frame time, got {t_val}")
    return n_frames, frame_time


def _motion_values(fh, path, n_frames: int, n_channels: int) -> np.ndarray:
    frames = np.empty((n_frames, n_channels), np.float64)
    t = 0
    for line in fh:
        if not line.strip():
            continue
        if t >= n_frames:
            raise DataError(f"{where(path, 'MOTION')}more motion lines than the header's {n_frames} frames")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                vals = np.fromstring(line, sep=" ")
        except ValueError:  # NumPy 2 raises where it used to stop early
            vals = np.empty(0)
        if vals.size != n_channels:
            words = len(line.split())
            if words == n_channels:
                raise DataError(f"{where(path, 'MOTION')}frame {t}: non-numeric values")
            raise DataError(
                f"{where(path, 'MOTION')}frame {t}: {words} values on its line, the hierarchy has "
                f"{n_channels} channels (a value on the wrong line, or a truncated file)"
            )
        frames[t] = vals
        t += 1
    if t != n_frames:
        raise DataError(f"{where(path, 'MOTION')}header says {n_frames} frames, the file has {t}: truncated?")
    if not np.isfinite(frames).all():
        raise DataError(f"{where(path, 'MOTION')}non-finite channel values (NaN/inf)")
    return frames


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


def bvh_lsp14_indices(m: BvhMotion, joint_map: dict | None = None) -> list[int]:
    """Indices into ``m.joints`` of the LSP-14 joints: the naming rules of
    ``dancejax.io.joint_names``, with ``joint_map`` (LSP-14 name -> BVH joint name) on top."""
    from dancejax.io.joint_names import resolve_joint_map

    return resolve_joint_map(
        m.names, [j.parent for j in m.joints], {j.name for j in m.joints if j.end_site}, joint_map, m.source
    )


def bvh_unit(m: BvhMotion, idx: list[int]) -> tuple[float, str, float]:
    """(metres per file unit, unit name, ankle-to-head-top bone length in file units) from the
    skeleton's OFFSETs, so that the pose of any frame (a crouch, a jump) does not matter."""
    from dancejax.io.joint_names import unit_from_bones

    return unit_from_bones(np.stack([j.offset for j in m.joints]), [j.parent for j in m.joints], idx, m.source)


def read_bvh(
    path, scale: float | None = 1.0, labels: dict | None = None, joint_map: dict | None = None, log=None
) -> PoseSequence:
    """Read a BVH file as an LSP-14 sequence.

    The LSP-14 joints are found by the naming rules of ``dancejax.io.joint_names`` (CMU, Mixamo,
    SMPL, Unity/Bandai-Namco, Blender, Biped, ...); ``joint_map`` (LSP-14 name -> BVH joint name)
    overrides any of them.  ``scale`` is metres per file unit (1.0: keep the file's units); with
    ``scale=None`` the unit comes from the skeleton's bone lengths (``bvh_unit``) and ``log``
    is told which.
    """
    m = read_bvh_motion(path)
    idx = bvh_lsp14_indices(m, joint_map)
    unit = None
    if scale is None:
        scale, unit, length = bvh_unit(m, idx)
        if log:
            log(
                f"  {Path(path).name}: BVH in {unit} (ankle-to-head-top bones {length:.4g} file units; "
                f"× {scale:.6g} to metres)"
            )
    pos = bvh_forward_kinematics(m)[:, idx] * scale
    lab = {"units": "m" if (scale != 1.0 or unit == "m") else "file units", **(labels or {})}
    lab["joint_names"] = [m.names[i] for i in idx]
    return PoseSequence(pos.astype(np.float32), None, 1.0 / m.frame_time, "lsp14", lab, source=str(path))
