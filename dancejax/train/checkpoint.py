"""Orbax checkpoints: periodic (keep-last-N) and best-by-validation, with recovery.

Writes are atomic (orbax writes to a temporary folder and renames it).  On resume,
``restore_latest`` tries the newest periodic checkpoint first; when it cannot be restored
(truncated, zeroed or deleted files, damaged metadata) it warns with the checkpoint's path and
the reason and falls back to the newest intact earlier one.  When none is intact it raises a
``DataError`` that lists every checkpoint it tried and why each failed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from dancejax.errors import DataError

KINDS = ("periodic", "best")


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was skipped on resume."""


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300] if text else ''}"


class Checkpointer:
    """Periodic (keep-last-``keep``) and best-by-validation checkpoints in ``workdir``."""

    def __init__(self, workdir, keep: int = 3):
        self.workdir = Path(workdir).resolve()
        if self.workdir.exists() and not self.workdir.is_dir():
            raise DataError(f"{self.workdir}: work directory is a file, not a folder")
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DataError(f"{self.workdir}: cannot create the work directory ({_reason(e)})") from None
        self.managers = {}
        for kind, n in (("periodic", keep), ("best", 1)):
            path = self.workdir / kind
            if path.exists() and not path.is_dir():
                raise DataError(f"{path}: expected a checkpoint folder, found a file")
            self.managers[kind] = ocp.CheckpointManager(
                path, options=ocp.CheckpointManagerOptions(max_to_keep=n, create=True)
            )

    def save(self, epoch: int, state, meta: dict, best: bool = False):
        args = lambda: ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        for kind in ("periodic", "best") if best else ("periodic",):
            mgr = self.managers[kind]
            if epoch in mgr.all_steps():  # a resumed run redoing this epoch: its new state replaces the old
                mgr.delete(epoch)
            mgr.save(epoch, args=args(), force=True)
        for m in self.managers.values():
            m.wait_until_finished()

    def steps(self, kind: str = "periodic") -> list[int]:
        try:
            self.managers[kind].reload()
            return sorted(self.managers[kind].all_steps())
        except Exception:  # an unreadable folder listing: nothing to resume from
            return []

    def latest_epoch(self, kind: str = "periodic") -> int | None:
        s = self.steps(kind)
        return s[-1] if s else None

    def restore(self, template, kind: str = "periodic", epoch: int | None = None):
        """(epoch, state, meta) of one checkpoint; raises whatever orbax raises."""
        if kind not in KINDS:
            raise ValueError(f"unknown checkpoint kind {kind!r}; use one of {KINDS}")
        epoch = self.latest_epoch(kind) if epoch is None else epoch
        if epoch is None:
            raise DataError(f"{self.workdir / kind}: no checkpoint to restore")
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, template)
        out = self.managers[kind].restore(
            epoch, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore())
        )
        if not isinstance(out["meta"], dict):
            raise DataError(f"{self.workdir / kind / str(epoch)}: metadata is not a JSON object")
        return epoch, out["state"], out["meta"]

    def restore_latest(self, template, kind: str = "periodic", log=None):
        """The newest intact checkpoint of ``kind`` as (epoch, state, meta), or None when there
        is none at all.  Damaged ones are skipped with a ``CheckpointWarning``."""
        tried = []
        for epoch in reversed(self.steps(kind)):
            path = self.workdir / kind / str(epoch)
            try:
                got = self.restore(template, kind, epoch)
            except Exception as e:  # orbax/tensorstore/json errors differ by the kind of damage
                tried.append(f"{path} ({_reason(e)})")
                aside = self._set_aside(path)
                msg = (
                    f"checkpoint {path} cannot be restored ({_reason(e)}); moved to {aside.name}; trying an earlier one"
                )
                warnings.warn(msg, CheckpointWarning, stacklevel=2)
                if log is not None:
                    log(f"  warning: {msg}")
                continue
            return got
        if tried:
            raise DataError(
                f"{self.workdir / kind}: no intact checkpoint to resume from; tried: "
                + "; ".join(tried)
                + ". Remove the folder to start afresh."
            )
        return None

    def _set_aside(self, path: Path) -> Path:
        """Move a damaged checkpoint out of the manager's way (kept for inspection), so the run
        can write that step again."""
        k = 0
        while (aside := path.with_name(f"{path.name}.damaged-{k}")).exists():
            k += 1
        try:
            path.rename(aside)
        except OSError:
            return path
        for m in self.managers.values():
            m.reload()
        return aside

    def close(self):
        for m in self.managers.values():
            m.close()
