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
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.rotations import euler_matrix
from dancejax.sequence import PoseSequence
from dancejax.skeleton import CMU31

INCH = 0.0254


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
        """Joint names, root first, in ASF bone order (parents before children)."""
        names = ["root"] + list(self.bones)
        parent = self.parents()
        out, seen = [], set()

        def visit(n):
            if n in seen:
                return
            if n != "root":
                visit(parent[n])
            seen.add(n)
            out.append(n)

        for n in names:
            visit(n)
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


def read_asf(path) -> AsfSkeleton:
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read ASF file: {e}") from None
    if not lines:
        raise DataError(f"{path}: empty ASF file")
    bones: dict[str, Bone] = {}
    children: dict[str, list[str]] = {}
    section = None
    length_unit, angle_unit = 1.0, "deg"
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
                length_unit = _floats(tok[1:2], path, no, "units.length", 1)[0]
            elif tok[0] == "angle":
                angle_unit = tok[1]
        elif section == "root":
            if tok[0] == "order":
                root_order = tuple(t.upper() for t in tok[1:])
            elif tok[0] == "axis":
                root_axis = tok[1].upper()
        elif section == "bonedata":
            if tok[0] == "begin":
                cur = {"dof": ()}
            elif tok[0] == "end":
                if cur is None or "name" not in cur:
                    raise DataError(f"{where(path, 'bonedata')}line {no}: 'end' without a named bone")
                for need in ("direction", "length", "axis"):
                    if need not in cur:
                        raise DataError(f"{where(path, 'bonedata')}bone {cur['name']!r} has no {need!r}")
                bones[cur["name"]] = Bone(**cur)
                cur = None
            elif cur is not None:
                if tok[0] == "name":
                    cur["name"] = tok[1]
                elif tok[0] == "direction":
                    cur["direction"] = np.array(_floats(tok[1:4], path, no, "direction", 3))
                elif tok[0] == "length":
                    cur["length"] = _floats(tok[1:2], path, no, "length", 1)[0]
                elif tok[0] == "axis":
                    cur["axis"] = np.array(_floats(tok[1:4], path, no, "axis", 3))
                    cur["axis_order"] = tok[4].upper() if len(tok) > 4 else "XYZ"
                elif tok[0] == "dof":
                    cur["dof"] = tuple(t.lower() for t in tok[1:])
        elif section == "hierarchy":
            if tok[0] in ("begin", "end"):
                continue
            children.setdefault(tok[0], []).extend(tok[1:])
    if not bones:
        raise DataError(f"{where(path, 'bonedata')}no bones found: is this an ASF file?")
    known = set(bones) | {"root"}
    for p, cs in children.items():
        for n in [p, *cs]:
            if n not in known:
                raise DataError(f"{where(path, 'hierarchy')}bone {n!r} is not defined in :bonedata")
    unreached = set(bones) - {c for cs in children.values() for c in cs}
    if unreached:
        raise DataError(f"{where(path, 'hierarchy')}bones not attached to the hierarchy: {sorted(unreached)}")
    return AsfSkeleton(bones, children, root_order, root_axis, length_unit, angle_unit, str(path))


def read_amc(path, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Per-bone channel arrays (frames, dof) in file order; checks every frame is complete."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read AMC file: {e}") from None
    frames: list[dict[str, list[float]]] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(":"):
            continue
        tok = line.split()
        if len(tok) == 1 and tok[0].isdigit():
            frames.append({})
            continue
        if not frames:
            raise DataError(f"{path}: line {no}: bone data before the first frame number")
        name = tok[0]
        if name != "root" and name not in skeleton.bones:
            raise DataError(f"{where(path, name)}line {no}: bone not in the skeleton {skeleton.source}")
        frames[-1][name] = _floats(tok[1:], path, no, name)
    if not frames:
        raise DataError(f"{path}: no frames found: is this an AMC file?")
    expected = {"root": len(skeleton.root_order)}
    expected.update({n: len(b.dof) for n, b in skeleton.bones.items() if b.dof})
    out = {}
    for name, n in expected.items():
        rows = []
        for k, fr in enumerate(frames):
            if name not in fr:
                raise DataError(
                    f"{where(path, name)}frame {k + 1} has no line for bone {name!r} "
                    f"(the skeleton gives it {n} degrees of freedom)"
                )
            if len(fr[name]) != n:
                raise DataError(f"{where(path, name)}frame {k + 1}: expected {n} values, got {len(fr[name])}")
            rows.append(fr[name])
        out[name] = np.asarray(rows, np.float64)
    return out


def forward_kinematics(skeleton: AsfSkeleton, motion: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Joint names and positions (T, J, 3) in file units: the root and each bone's end point."""
    root = motion["root"]
    t = root.shape[0]
    chan = {c: root[:, k] for k, c in enumerate(skeleton.root_order)}
    trans = np.stack([chan.get(c, np.zeros(t)) for c in ("TX", "TY", "TZ")], -1)
    rot_order = [c[1].lower() for c in skeleton.root_order if c.startswith("R")]
    rot_vals = np.stack([chan[c] for c in skeleton.root_order if c.startswith("R")], -1)
    # Acclaim applies the listed rotations in order about fixed axes: R = R_last · ... · R_first.
    world_r = {"root": euler_matrix("".join(reversed(rot_order)), rot_vals[:, ::-1])}
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


def read_asf_amc(asf_path, amc_path, fps: float, labels: dict | None = None) -> PoseSequence:
    """Read an ASF/AMC pair into metres.  AMC files carry no frame rate: pass ``fps``."""
    skel = read_asf(asf_path)
    motion = read_amc(amc_path, skel)
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
