"""Which joints of a skeleton are the LSP-14 joints: naming rules, joint-map files, and the unit
from the skeleton's bone lengths.

A joint name is split into words (camel case, ``_``, ``.``, ``-``, spaces, a namespace such as
``mixamorig:`` or a rig prefix such as ``Bip01`` dropped) and read as a side and a body part:

* the side is a first or last word ``Left``/``L``/``Right``/``R`` (``LeftUpLeg``, ``L_Hip``,
  ``left_hip``, ``UpperLeg_L``, ``thigh.L``, ``Bip01 L Thigh``), or a one-letter lowercase prefix
  before a known part (``lhand``, ``rfemur``);
* the part is the remaining words joined, lowercased (``UpLeg`` -> ``upleg``).

Each LSP-14 joint takes the first part of its list (``PARTS``) that the skeleton has on that
side, nearest the root on ties: a hip is ``upleg``, ``upperleg``, ``thigh``, ``femur`` or
``hip``; an ankle is ``ankle`` or ``foot``; a shoulder is ``upperarm``, ``uparm``, ``arm``,
``humerus`` or ``shoulder`` (so Mixamo's ``LeftShoulder``, a collar bone, gives way to its
``LeftArm``, while CMU's ``LeftShoulder`` is the shoulder); and so on.  A wrist, ankle or
head top that the skeleton has no joint for is the end site of the joint before it in the limb
(a ``forearm.L`` end site is the wrist).  This covers the CMU, Mixamo (``mixamorig:``), SMPL
(``L_Hip``, ``left_hip``), Unity/Bandai-Namco (``UpperLeg_L``, ``Foot_L``), Blender
(``thigh.L``), 3ds Max Biped, CMU ASF bone and LSP-14 naming schemes by their rules, not by a
list of files.  A joint map (LSP-14 name -> joint name) overrides any of them.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.skeleton import LSP14

# LSP-14 body part -> the skeleton parts that stand for it, most specific first
PARTS = {
    "hip": ("upleg", "upperleg", "thigh", "femur", "hip", "legupper"),
    "knee": ("knee", "lowerleg", "loleg", "shin", "calf", "tibia", "leg", "leglower"),
    "ankle": ("ankle", "foot"),
    "shoulder": ("upperarm", "uparm", "arm", "humerus", "shoulder", "armupper"),
    "elbow": ("elbow", "forearm", "lowerarm", "loarm", "radius", "armlower"),
    "wrist": ("wrist", "hand"),
    "neck": ("neck", "neck1", "neck01", "lowerneck", "upperneck"),
    "head_top": ("headtop", "headtopend", "headend", "headnub", "headtip", "topofhead"),
}
HEAD_PARTS = ("head", "head1", "face", "skull")
# the joint whose end site stands in for a joint the skeleton does not have
CHAIN_BEFORE = {"wrist": "elbow", "ankle": "knee"}
PREFIX_WORDS = {"mixamorig", "mixamorig1", "bip", "biped", "bip01", "bip001", "cc", "base", "def", "sk"}
SIDES = {"left": "l", "l": "l", "right": "r", "r": "r"}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def split_name(name: str) -> tuple[str | None, str]:
    """(side 'l'/'r' or None, body part) of a joint name, e.g. 'mixamorig:LeftUpLeg' -> ('l', 'upleg')."""
    base = re.split(r"[:|]", name)[-1]
    words = [w.lower() for chunk in re.split(r"[\s_.\-]+", base) for w in _WORD.findall(chunk)]
    while words and (words[0] in PREFIX_WORDS or words[0].isdigit()):
        words = words[1:]
    side = None
    if len(words) > 1 and words[0] in SIDES:
        side, words = SIDES[words[0]], words[1:]
    elif len(words) > 1 and words[-1] in SIDES:
        side, words = SIDES[words[-1]], words[:-1]
    part = "".join(words)
    known = {p for ps in PARTS.values() for p in ps} | set(HEAD_PARTS)
    if side is None and len(words) == 1 and part[:1] in "lr" and part[1:] in known:
        side, part = part[0], part[1:]
    return side, part


def _lsp_role(lsp: str) -> tuple[str | None, str]:
    if lsp[:2] in ("l_", "r_"):
        return lsp[0], lsp[2:]
    return None, lsp


def auto_joint_map(names: list[str], parents: list[int], end_sites: set[str] | None = None) -> tuple[dict, list[str]]:
    """LSP-14 name -> joint name by the naming rules (module docstring), and the LSP-14 joints
    the rules found no joint for."""
    end_sites = end_sites or set()
    depth = []
    for p in parents:
        depth.append(0 if p < 0 else depth[p] + 1)
    parsed = [split_name(n) if n not in end_sites else (None, "") for n in names]
    out, missing = {}, []

    def find(side, parts):
        for part in parts:
            hits = [i for i, (s, p) in enumerate(parsed) if s == side and p == part]
            if hits:
                return names[min(hits, key=lambda i: depth[i])]
        return None

    def end_of(joint):
        return next((e for e in sorted(end_sites) if joint is not None and e == f"{joint}_end"), None)

    for lsp in LSP14.joints:
        side, role = _lsp_role(lsp)
        hit = find(side, PARTS[role])
        if hit is not None:
            out[lsp] = hit
    for lsp in LSP14.joints:  # then the end sites, once the joints before them are known
        side, role = _lsp_role(lsp)
        if lsp in out:
            continue
        hit = None
        if role in CHAIN_BEFORE:
            hit = end_of(out.get(f"{side}_{CHAIN_BEFORE[role]}"))
        if role == "head_top":
            hit = end_of(find(None, HEAD_PARTS))
        if hit is None:
            missing.append(lsp)
        else:
            out[lsp] = hit
    return {k: out[k] for k in LSP14.joints if k in out}, missing


def read_joint_map(path) -> dict:
    """A joint-map file: a JSON object or a two-column CSV (LSP-14 name, joint name; a header row
    ``lsp14,joint`` is optional).  Only the LSP-14 joints it names are overridden."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: joint map not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read the joint map ({e})") from None
    if path.suffix.lower() == ".json":
        try:
            m = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(m, dict) or not all(isinstance(v, str) for v in m.values()):
            raise DataError(f"{path}: expected an object of LSP-14 name -> joint name (strings)")
    else:
        rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
        if rows and rows[0][0].strip().lower() in ("lsp14", "lsp", "lsp-14"):
            rows = rows[1:]
        bad = [i for i, r in enumerate(rows, 1) if len(r) != 2]
        if bad:
            raise DataError(f"{path}: line {bad[0]}: expected two columns, LSP-14 name and joint name")
        m = {a.strip(): b.strip() for a, b in rows}
    unknown = sorted(set(m) - set(LSP14.joints))
    if unknown:
        raise DataError(f"{path}: unknown LSP-14 joint(s) {unknown}; they are {', '.join(LSP14.joints)}")
    return m


def _closest(lsp: str, names: list[str], end_sites: set[str]) -> list[str]:
    """The file's names most like an LSP-14 joint: its part words contained in or close to the
    name's part, the same side counting for more."""
    side, role = _lsp_role(lsp)
    words = PARTS[role] + (HEAD_PARTS if role == "head_top" else ())
    scored = []
    for n in names:
        if n in end_sites and role not in ("wrist", "ankle", "head_top"):
            continue
        s, part = split_name(n)
        low = n.lower()
        best = max((1.0 if w in low else difflib.SequenceMatcher(None, w, part).ratio()) for w in words)
        scored.append((best + (0.2 if s == side else 0.0), n))
    return [n for sc, n in sorted(scored, key=lambda x: -x[0])[:3] if sc > 0.5]


def resolve_joint_map(
    names: list[str], parents: list[int], end_sites: set[str], override: dict | None, source
) -> list[int]:
    """Indices into ``names`` of the 14 LSP-14 joints: the naming rules, with ``override``
    (LSP-14 name -> joint name) on top.  A joint no rule finds is an error naming it and the
    closest names in the file."""
    auto, missing = auto_joint_map(names, parents, end_sites)
    override = override or {}
    absent = {k: v for k, v in override.items() if v not in names}
    if absent:
        k, v = next(iter(absent.items()))
        close = difflib.get_close_matches(v, names, n=3, cutoff=0.3)
        raise DataError(
            f"{where(source, 'joint_map')}the joint map names {v!r} for {k!r}, which is not in the file"
            + (f"; closest names: {close}" if close else f"; its joints are {names}")
        )
    final = {**auto, **override}
    missing = [m for m in LSP14.joints if m not in final]
    if missing:
        hints = "; ".join(f"{m}: closest {_closest(m, names, end_sites)}" for m in missing)
        raise DataError(
            f"{where(source, 'joint names')}no joint found for LSP-14 {missing} by the naming rules "
            f"(CMU, Mixamo, SMPL, Unity/Bandai, Blender, Biped); {hints}. Give a joint map "
            f"(--joint-map FILE or the manifest's joint_map column: LSP-14 name -> joint name)"
        )
    return [names.index(final[j]) for j in LSP14.joints]


UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "cmu": 0.0254 / 0.45}
BODY_RANGE_M = (1.1, 2.4)  # ankle-to-head-top bone path of a standing adult, metres


def bone_path_length(offsets: np.ndarray, parents: list[int], a: int, b: int) -> float:
    """Sum of the bone lengths (offset norms) along the skeleton's path from joint ``a`` to ``b``."""

    def up(i):
        chain = [i]
        while parents[chain[-1]] >= 0:
            chain.append(parents[chain[-1]])
        return chain

    pa, pb = up(a), up(b)
    common = next(i for i in pa if i in set(pb))
    path = pa[: pa.index(common)] + pb[: pb.index(common)]
    return float(sum(np.linalg.norm(offsets[i]) for i in path))


def unit_from_bones(offsets: np.ndarray, parents: list[int], idx: list[int], source) -> tuple[float, str, float]:
    """(metres per file unit, unit name, body length in file units) from the bone lengths on the
    path from each ankle to the head top (the skeleton's own proportions, whatever its pose)."""
    head = idx[LSP14.joints.index("head_top")]
    ankles = [idx[LSP14.joints.index(a)] for a in ("l_ankle", "r_ankle")]
    length = max(bone_path_length(offsets, parents, a, head) for a in ankles)
    fits = [(name, s) for name, s in UNITS.items() if BODY_RANGE_M[0] <= length * s <= BODY_RANGE_M[1]]
    if not fits:
        raise DataError(
            f"{where(source, 'units')}the skeleton's ankle-to-head-top bones measure {length:.4g} file units, "
            f"which fits no known unit ({', '.join(UNITS)}) for a body of {BODY_RANGE_M[0]}-{BODY_RANGE_M[1]} m; "
            "give a scale (metres per file unit)"
        )
    name, s = fits[0]
    return s, name, length
