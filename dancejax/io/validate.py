"""One place for checking untrusted input at a reader's boundary: typed fields, real numeric
arrays, bounded JSON.  Every check raises a ``DataError`` that names the file (or "input") and
the field, and says what was expected and what came."""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from tokenize import TokenError

import numpy as np

from dancejax.errors import DataError, where

MAX_JSON_BYTES = 1 << 30
# what reading a damaged .npz/.npy can raise: a truncated or corrupted zip archive, a member that
# does not decompress, a header that does not parse, a file that ends early
# (a corrupted .npy header fails numpy's header parser with SyntaxError or tokenize.TokenError; a
# header that claims a huge shape, with MemoryError)
NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, SyntaxError, TokenError, MemoryError)


def load_npz(path, what: str = "NPZ file") -> dict:
    """Every array of an .npz archive (``allow_pickle=False``), or a ``DataError`` naming the file
    for any damage: truncated, corrupted, not an archive."""
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except NPZ_ERRORS as e:
        raise DataError(f"{path}: not a readable {what} ({type(e).__name__}: {str(e)[:200]})") from None
    if isinstance(z, np.ndarray):
        raise DataError(f"{path}: a bare .npy array, not an .npz archive ({what})")
    try:
        with z:
            return {k: z[k] for k in z.files}
    except NPZ_ERRORS as e:
        raise DataError(f"{path}: not a readable {what} ({type(e).__name__}: {str(e)[:200]})") from None


def _kind(v) -> str:
    return type(v).__name__


def number(v, source, field: str, positive: bool = False, integer: bool = False) -> float:
    """A real finite number (not a bool, string, list or array)."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise DataError(f"{where(source, field)}expected a number, got {v!r} ({_kind(v)})")
    if integer and not float(v).is_integer():
        raise DataError(f"{where(source, field)}expected an integer, got {v!r}")
    v = float(v)
    if not np.isfinite(v) or (positive and v <= 0):
        raise DataError(f"{where(source, field)}expected a {'positive ' if positive else ''}finite number, got {v!r}")
    return v


def text(v, source, field: str) -> str:
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "US":
        v = str(v)
    if not isinstance(v, str):
        raise DataError(f"{where(source, field)}expected a string, got {v!r} ({_kind(v)})")
    return v


def mapping(v, source, field: str) -> dict:
    if not isinstance(v, dict):
        raise DataError(f"{where(source, field)}expected an object (mapping), got {_kind(v)}")
    return v


def _no_bools(v, source, field):
    """JSON lists may mix bools with numbers, which NumPy would silently turn into 0/1."""
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, bool):
            raise DataError(f"{where(source, field)}expected numbers, found a boolean ({x})")
        if isinstance(x, (list, tuple)):
            stack.extend(x)


def real_array(v, source, field: str, ndim: int | None = None, finite: bool = False) -> np.ndarray:
    """A real numeric array: no booleans, strings, complex numbers or objects (they would be read as
    0/1, fail late, or lose their imaginary part)."""
    if isinstance(v, (list, tuple)):
        _no_bools(v, source, field)
    try:
        a = np.asarray(v)
    except (ValueError, TypeError):
        raise DataError(f"{where(source, field)}expected a numeric table, got ragged or mixed values") from None
    if a.dtype.kind == "b":
        raise DataError(f"{where(source, field)}expected numbers, got booleans")
    if a.dtype.kind == "c":
        raise DataError(f"{where(source, field)}expected real numbers, got complex values")
    if a.dtype.kind not in "fiu":
        raise DataError(
            f"{where(source, field)}expected numbers, got {a.dtype} values"
            + (" (strings)" if a.dtype.kind in "US" else "")
        )
    if ndim is not None and a.ndim != ndim:
        raise DataError(f"{where(source, field)}expected {ndim} dimensions, got shape {a.shape}")
    a = a.astype(np.float64)
    if finite and not np.isfinite(a).all():
        raise DataError(f"{where(source, field)}{int((~np.isfinite(a)).sum())} non-finite values (NaN/inf)")
    return a


def check_size(path: Path, max_bytes: int, kind: str) -> int:
    """The size of an untrusted file in bytes, refused before it is read when over ``max_bytes``."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(f"{path}: cannot read {kind} file: {e.strerror or e}") from None
    if size > max_bytes:
        raise DataError(
            f"{path}: {size / 2**20:.0f} MiB is over the {max_bytes / 2**20:.0f} MiB limit for a {kind} file"
        )
    return size


def load_json(path, max_bytes: int = MAX_JSON_BYTES):
    """JSON from a file: size-limited; nesting too deep for the parser is a clear error."""
    path = Path(path)
    check_size(path, max_bytes, "JSON")
    try:
        text_ = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not content
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read: {e}") from None
    if not text_.strip():
        raise DataError(f"{path}: the file is empty; expected JSON")
    try:
        return json.loads(text_)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON ({e})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply") from None


def load_versioned_json(path, fmt: str, version: int, newer) -> dict:
    """A JSON header of a dancejax folder (saved model, exported artifact): a mapping whose
    ``format`` is ``fmt`` and whose integer ``version`` is at most ``version``.  ``newer(d, v)``
    says, for a file from a newer version ``v``, what wrote it."""
    path = Path(path)
    d = load_json(path)
    if not isinstance(d, dict) or d.get("format") != fmt:
        raise DataError(
            f"{path}: field 'format': expected {fmt!r}, got {d.get('format') if isinstance(d, dict) else d!r}"
        )
    v = d.get("version")
    if not isinstance(v, int) or isinstance(v, bool):
        raise DataError(f"{path}: field 'version': expected an integer, got {v!r}")
    if v > version:
        raise DataError(f"{path}: field 'version': {newer(d, v)}; this dancejax reads up to {version}")
    return d


def check_joint_names(names, layout, source, field: str) -> np.ndarray | None:
    """Joint names a file declares, against the layout: None when they match in order, a
    permutation (file index per layout joint) when they are the same joints in another order,
    and an error naming both lists when the file's skeleton is another one."""
    from dancejax.skeleton import get_layout

    lay = get_layout(layout)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(f"{where(source, field)}expected a list of joint names")

    def norm(n: str) -> str:
        n = n.lower().replace(" ", "_").replace("-", "_")
        for a, b in (("left_", "l_"), ("right_", "r_"), ("headtop", "head_top"), ("top_head", "head_top")):
            n = n.replace(a, b)
        return n

    ours = [norm(n) for n in COCO17_NAMES] if lay.name == "coco17" else [norm(n) for n in lay.joints]
    theirs = [norm(n) for n in names]
    if theirs == ours:
        return None
    if sorted(theirs) == sorted(ours) and len(set(theirs)) == len(theirs):
        return np.asarray([theirs.index(n) for n in ours])
    raise DataError(
        f"{where(source, field)}the file's joints {names} are not the {lay.name} layout's "
        f"({list(COCO17_NAMES) if lay.name == 'coco17' else list(lay.joints)}): another skeleton "
        "(CrowdPose, AI Challenger, H36M, PoseTrack, ...)? convert it to a known layout first"
    )


COCO17_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
