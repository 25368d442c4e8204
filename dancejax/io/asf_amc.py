"""Acclaim ASF (skeleton) + AMC (motion) with forward kinematics.

Units: the ASF ``:units length`` value L means one file unit is 1/L inches
(CMU FAQ: CMU files use L = 0.45), so metres = value / L × 0.0254.  Output
positions are in metres, Y up, as recorded.  The root and the end point of every
bone form the ``cmu31`` layout for CMU skeletons; other ASF skeletons come back
with their own joint names in ``labels['joint_names']``.

Forward kinematics follows the Acclaim definition: for a bone with axis angles
(order given in the ASF) giving C, its world rotation is
``R = R_parent · C · M · C⁻¹`` where M is built from the AMC dof angles, and its
end point is ``p_parent + length · R · direction``.
"""

from __future__ import annotations

import dataclasses
import io
import math
from array import array
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.rotations import euler_matrix
from dancejax.io.sequence import PoseSequence
from dancejax.io.validate import check_size
from dancejax.skeleton import CMU31

INCH = 0.0254
MAX_BYTES = 1 << 30  # untrusted text files larger than 1 GiB are refused
MAX_BONES = 1000
AXES = set("xyz")
ROOT_CHANNELS = {"TX", "TY", "TZ", "RX", "RY", "RZ"}


def read_text(path, kind: str, max_bytes: int = MAX_BYTES) -> str:
    """A text file, size-checked before it is read."""
    path = Path(path)
    check_size(path, max_bytes, kind)
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read {kind} file: {e}") from None


@dataclasses.dataclass
class Bone:
    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    axis_order: str
    dof: tuple[str, ...]


@dataclasses.dataclass
class AsfSkeleton:
    bones: dict[str, Bone]
    children: dict[str, list[str]]
    root_order: tuple[str, ...]
    root_axis_order: str
    length_unit: float  # ASF ':units length'
    angle_unit: str
    source: str

    def order(self) -> list[str]:
        """Joint names, root first, in ASF bone order (parents before children).  Iterative, so
        a deep hierarchy cannot exhaust the stack (cycles are refused by ``read_asf``)."""
        parent = self.parents()
        out, seen = ["root"], {"root"}
        for n in self.bones:
            chain = []
            while n not in seen:
                chain.append(n)
                n = parent[n]
            for m in reversed(chain):
                seen.add(m)
                out.append(m)
        return out

    def parents(self) -> dict[str, str]:
        return {c: p for p, cs in self.children.items() for c in cs}


def _floats(tokens, path, line_no, field, n=None):
    try:
        vals = [float(t) for t in tokens]
    except ValueError:
        raise DataError(f"{where(path, field)}line {line_no}: expected numbers, got {' '.join(tokens)!r}") from None
    if n is not None and len(vals) != n:
        raise DataError(f"{where(path, field)}line {line_no}: expected {n} numbers, got {len(vals)}")
    return vals


def read_asf(path, length_unit: float | None = None) -> AsfSkeleton:
    """An ASF skeleton.  Its ``:units length`` is required (a file without it gets an error rather
    than a guessed scale); pass ``length_unit`` to supply or override it."""
    path = Path(path)
    lines = read_text(path, "ASF").splitlines()
    if not lines:
        raise DataError(f"{path}: empty ASF file")
    bones: dict[str, Bone] = {}
    children: dict[str, list[str]] = {}
    section = None
    file_length, angle_unit = None, "deg"
    root_order, root_axis = ("TX", "TY", "TZ", "RX", "RY", "RZ"), "XYZ"
    cur: dict | None = None
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tok = line.split()
        if line.startswith(":"):
            section = tok[0][1:]
            if section == "hierarchy" or section == "bonedata":
                continue
            if section == "root":
                continue
            continue
        if section == "units":
            if tok[0] == "length":
                file_length = _floats(tok[1:2], path, no, "units.length", 1)[0]
                if not (np.isfinite(file_length) and file_length > 0):
                    raise DataError(
                        f"{where(path, ':units length')}line {no}: expected a positive number, got {tok[1]}"
                    )
            elif tok[0] == "angle":
                if len(tok) < 2 or tok[1].lower() not in ("deg", "rad"):
                    raise DataError(f"{where(path, ':units angle')}line {no}: expected 'deg' or 'rad', got {line!r}")
                angle_unit = tok[1].lower()
        elif section == "root":
            if tok[0] == "order":
                root_order = tuple(t.upper() for t in tok[1:])
                bad = [t for t in root_order if t not in ROOT_CHANNELS]
                if bad or len(set(root_order)) != len(root_order):
                    raise DataError(
                        f"{where(path, ':root order')}line {no}: expected distinct channels from "
                        f"{sorted(ROOT_CHANNELS)}, got {list(root_order)}"
                    )
            elif tok[0] == "axis":
                root_axis = tok[1].upper() if len(tok) > 1 else ""
                if sorted(root_axis.lower()) != ["x", "y", "z"]:
                    raise DataError(
                        f"{where(path, ':root axis')}line {no}: expected an order of X, Y and Z, got {line!r}"
                    )
        elif section == "bonedata":
            if tok[0] == "begin":
                cur = {"dof": ()}
            elif tok[0] == "end":
                if cur is None or "name" not in cur:
                    raise DataError(f"{where(path, 'bonedata')}line {no}: 'end' without a named bone")
                for need in ("direction", "length", "axis"):
                    if need not in cur:
                        raise DataError(f"{where(path, 'bonedata')}bone {cur['name']!r} has no {need!r}")
                if cur["name"] in bones or cur["name"] == "root":
                    raise DataError(f"{where(path, 'bonedata')}line {no}: bone {cur['name']!r} is defined twice")
                if len(bones) >= MAX_BONES:
                    raise DataError(f"{where(path, 'bonedata')}more than {MAX_BONES} bones")
                bones[cur["name"]] = Bone(**cur)
                cur = None
            elif cur is not None:
                if tok[0] == "name":
                    if len(tok) != 2:
                        raise DataError(f"{where(path, 'bonedata')}line {no}: expected 'name <bone>'")
                    cur["name"] = tok[1]
                elif tok[0] == "direction":
                    cur["direction"] = np.array(_floats(tok[1:4], path, no, "direction", 3))
                elif tok[0] == "length":
                    cur["length"] = _floats(tok[1:2], path, no, "length", 1)[0]
                elif tok[0] == "axis":
                    cur["axis"] = np.array(_floats(tok[1:4], path, no, "axis", 3))
                    cur["axis_order"] = tok[4].upper() if len(tok) > 4 else "XYZ"
                    if sorted(cur["axis_order"].lower()) != ["x", "y", "z"]:
                        raise DataError(
                            f"{where(path, 'axis')}line {no}: bone {cur.get('name', '?')!r}: unknown "
                            f"rotation axis order {cur['axis_order']!r}; expected an order of X, Y and Z"
                        )
                elif tok[0] == "dof":
                    cur["dof"] = tuple(t.lower() for t in tok[1:])
                    bad = [d for d in cur["dof"] if len(d) != 2 or d[0] not in "rt" or d[1] not in AXES]
                    if bad:
                        raise DataError(
                            f"{where(path, 'dof')}line {no}: bone {cur.get('name', '?')!r}: unknown degree(s) "
                            f"of freedom {bad}; expected rx, ry, rz"
                        )
                    if any(d[0] == "t" for d in cur["dof"]):
                        raise DataError(
                            f"{where(path, 'dof')}line {no}: bone {cur.get('name', '?')!r}: translation "
                            f"degrees of freedom {list(cur['dof'])} are not supported"
                        )
        elif section == "hierarchy":
            if tok[0] in ("begin", "end"):
                continue
            children.setdefault(tok[0], []).extend(tok[1:])
    if not bones:
        raise DataError(f"{where(path, 'bonedata')}no bones found: is this an ASF file?")
    if file_length is None and length_unit is None:
        raise DataError(
            f"{where(path, ':units length')}missing: the file's length unit is unknown (CMU files say "
            "'length 0.45'); pass length_unit"
        )
    length_unit = file_length if length_unit is None else length_unit
    if angle_unit == "rad":
        for b in bones.values():
            b.axis = np.degrees(b.axis)
    known = set(bones) | {"root"}
    for p, cs in children.items():
        for n in [p, *cs]:
            if n not in known:
                raise DataError(f"{where(path, 'hierarchy')}bone {n!r} is not defined in :bonedata")
    unreached = set(bones) - {c for cs in children.values() for c in cs}
    if unreached:
        raise DataError(f"{where(path, 'hierarchy')}bones not attached to the hierarchy: {sorted(unreached)}")
    seen_child: dict[str, str] = {}
    for p, cs in children.items():
        for c in cs:
            if c == "root":
                raise DataError(f"{where(path, 'hierarchy')}the root cannot be the child of {p!r}")
            if c in seen_child:
                raise DataError(f"{where(path, 'hierarchy')}bone {c!r} has two parents ({seen_child[c]!r}, {p!r})")
            seen_child[c] = p
    for b in bones:  # every bone must reach the root: a cycle (or a bone its own parent) never does
        n, steps = b, 0
        while n != "root":
            n = seen_child[n]
            steps += 1
            if steps > len(bones):
                raise DataError(f"{where(path, 'hierarchy')}bone {b!r} is in a cycle (it never reaches the root)")
    return AsfSkeleton(bones, children, root_order, root_axis, length_unit, angle_unit, str(path))


def read_amc(path, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Per-bone channel arrays (frames, dof) in file order.  Frame numbers must count up by one
    (from 0 or 1); a bone may appear once per frame; every frame must be complete.

    The text is read line by line and the values go straight into one flat float buffer per
    bone, so memory stays a small multiple of the motion data (not one object per token)."""
    path = Path(path)
    text = read_text(path, "AMC")
    expected = {"root": len(skeleton.root_order)}
    expected.update({n: len(b.dof) for n, b in skeleton.bones.items() if b.dof})
    values = {name: array("d") for name in expected}
    seen: set[str] = set()
    frames = 0
    last_number = None

    def check_complete():
        missing = [n for n in expected if n not in seen]
        if missing:
            raise DataError(
                f"{where(path, missing[0])}frame {last_number} has no line for bone {missing[0]!r} "
                f"(the skeleton gives it {expected[missing[0]]} degrees of freedom)"
            )

    for no, raw in enumerate(io.StringIO(text), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(":"):
            continue
        tok = line.split()
        if len(tok) == 1 and tok[0].lstrip("-").isdigit():
            number = int(tok[0])
            if last_number is None and number not in (0, 1):
                raise DataError(f"{where(path, 'frame number')}line {no}: the first frame is {number}; expected 0 or 1")
            if last_number is not None:
                if number != last_number + 1:
                    what = "repeats" if number == last_number else "goes back" if number < last_number else "skips"
                    raise DataError(
                        f"{where(path, 'frame number')}line {no}: frame {number} after {last_number}: the "
                        f"numbering {what}; frames must count up by one"
                    )
                check_complete()
            last_number = number
            frames += 1
            seen.clear()
            continue
        if not frames:
            raise DataError(f"{path}: line {no}: bone data before the first frame number")
        name = tok[0]
        if name != "root" and name not in skeleton.bones:
            raise DataError(f"{where(path, name)}line {no}: bone not in the skeleton {skeleton.source}")
        if name in seen:
            raise DataError(f"{where(path, name)}line {no}: bone {name!r} appears twice in frame {last_number}")
        seen.add(name)
        vals = _floats(tok[1:], path, no, name)
        if not all(math.isfinite(v) for v in vals):
            raise DataError(f"{where(path, name)}line {no}: non-finite value")
        if name not in expected:  # a bone without degrees of freedom: nothing to keep
            continue
        if len(vals) != expected[name]:
            raise DataError(
                f"{where(path, name)}line {no}: frame {last_number}: expected {expected[name]} values, got {len(vals)}"
            )
        values[name].extend(vals)
    if not frames:
        raise DataError(f"{path}: no frames found: is this an AMC file?")
    check_complete()
    return {name: np.frombuffer(buf, np.float64).reshape(frames, expected[name]) for name, buf in values.items()}


def forward_kinematics(skeleton: AsfSkeleton, motion: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Joint names and positions (T, J, 3) in file units: the root and each bone's end point."""
    root = motion["root"]
    t = root.shape[0]
    chan = {c: root[:, k] for k, c in enumerate(skeleton.root_order)}
    trans = np.stack([chan.get(c, np.zeros(t)) for c in ("TX", "TY", "TZ")], -1)
    rot_order = [c[1].lower() for c in skeleton.root_order if c.startswith("R")]
    if rot_order:
        rot_vals = np.stack([chan[c] for c in skeleton.root_order if c.startswith("R")], -1)
        # Acclaim applies the listed rotations in order about fixed axes: R = R_last · ... · R_first.
        world_r = {"root": euler_matrix("".join(reversed(rot_order)), rot_vals[:, ::-1])}
    else:  # a root with translation channels only (or none) never turns
        world_r = {"root": np.broadcast_to(np.eye(3), (t, 3, 3))}
    pos = {"root": trans}
    parent = skeleton.parents()
    names = skeleton.order()
    for name in names[1:]:
        b = skeleton.bones[name]
        c = euler_matrix(b.axis_order[::-1].lower(), b.axis[::-1])
        m = np.broadcast_to(np.eye(3), (t, 3, 3))
        if b.dof:
            vals = motion[name]
            order = [d[1] for d in b.dof]
            m = euler_matrix("".join(reversed(order)), vals[:, ::-1])
        r = world_r[parent[name]] @ c @ m @ c.T
        world_r[name] = r
        pos[name] = pos[parent[name]] + b.length * (r @ b.direction)
    return names, np.stack([pos[n] for n in names], 1)


def read_asf_amc(
    asf_path, amc_path, fps: float, labels: dict | None = None, length_unit: float | None = None
) -> PoseSequence:
    """Read an ASF/AMC pair into metres.  AMC files carry no frame rate: pass ``fps``."""
    skel = read_asf(asf_path, length_unit)
    motion = read_amc(amc_path, skel)
    if skel.angle_unit == "rad":
        motion = {k: np.degrees(v) for k, v in motion.items()}
        rot = [i for i, c in enumerate(skel.root_order) if c.startswith("R")]
        motion["root"] = motion["root"].copy()
        motion["root"][:, [i for i in range(len(skel.root_order)) if i not in rot]] = np.radians(
            motion["root"][:, [i for i in range(len(skel.root_order)) if i not in rot]]
        )
    names, pos = forward_kinematics(skel, motion)
    metres = pos / skel.length_unit * INCH
    lab = {"units": "m", "joint_names": names, **(labels or {})}
    if tuple(names) == CMU31.joints:
        layout = CMU31.name
    else:
        raise DataError(
            f"{asf_path}: skeleton joints {names} do not match the cmu31 layout; "
            "only CMU-style Acclaim skeletons have a layout (and an LSP-14 mapping) here"
        )
    return PoseSequence(metres.astype(np.float32), None, fps, layout, lab, source=str(amc_path))
