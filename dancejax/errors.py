"""The one exception type for bad input: it names the file, the field and what was expected."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data: a broken file, a wrong shape, a non-finite value, an unknown name."""


def where(path, field: str | None = None) -> str:
    """Prefix for error messages: ``'file.bvh: field 'x': '``."""
    parts = []
    if path is not None:
        parts.append(str(path))
    if field is not None:
        parts.append(f"field {field!r}")
    return (": ".join(parts) + ": ") if parts else ""
