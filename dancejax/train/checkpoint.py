"""Orbax checkpoints: periodic (keep-last-N) and best-by-validation, with recovery.

Writes are atomic (orbax writes to a temporary folder and renames it).  On resume,
``restore_latest`` tries the newest periodic checkpoint first; when it cannot be restored
(truncated, zeroed or deleted files, damaged metadata) it warns with the checkpoint's path and
the reason and falls back to the newest intact earlier one.  When none is intact it raises a
``DataError`` that lists every checkpoint it tried and why each failed.  Each skipped checkpoint
is reported once: through ``log`` when one is given, else as a ``CheckpointWarning``.  A
checkpoint folder whose checkpoints were all set aside says so when a run starts from scratch
in it.  Temporary folders of a write that never finished (a killed process) are removed.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from dancejax.errors import DataError

KINDS = ("periodic", "best")


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was skipped on resume."""


def _reason(e: BaseException) -> str:
    """One readable line: the exception's type and the first line of its message (a message
    that is only the repr of a bound method or object, as some bindings give, is left out)."""
    text = str(e).strip().splitlines()
    first = text[0][:300] if text else ""
    if first.startswith("<") or not first:
        cause = e.__cause__ or e.__context__
        return _reason(cause) if cause is not None and cause is not e else type(e).__name__
    return f"{type(e).__name__}: {first}"


class _QuietSaves(logging.Filter):
    """Drops orbax's notices about its own save pipeline ('Waiting for previous save ...'):
    every save here is waited for, so they say nothing a user can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not any(m in msg for m in ("Waiting for previous save", "previous save to complete"))


def quiet_orbax_logs() -> None:
    """Install ``_QuietSaves`` on the absl and orbax loggers (once)."""
    for name in ("absl", "orbax", "orbax.checkpoint", ""):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _QuietSaves) for f in lg.filters):
            lg.addFilter(_QuietSaves())
        for h in lg.handlers:
            if not any(isinstance(f, _QuietSaves) for f in h.filters):
                h.addFilter(_QuietSaves())


TMP_MARK = ".orbax-checkpoint-tmp"


def remove_temporary(folder: Path) -> list[Path]:
    """Remove the temporary folders an unfinished orbax write left in ``folder`` (and one level
    below); returns what it removed."""
    gone = []
    for p in list(folder.glob(f"*{TMP_MARK}*")) + list(folder.glob(f"*/*{TMP_MARK}*")):
        shutil.rmtree(p, ignore_errors=True)
        gone.append(p)
    return gone


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
        quiet_orbax_logs()
        self.managers = {}
        for kind, n in (("periodic", keep), ("best", 1)):
            path = self.workdir / kind
            if path.exists() and not path.is_dir():
                raise DataError(f"{path}: expected a checkpoint folder, found a file")
            if path.is_dir():
                remove_temporary(path)
            self.managers[kind] = ocp.CheckpointManager(
                path, options=ocp.CheckpointManagerOptions(max_to_keep=n, create=True, cleanup_tmp_directories=True)
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
                if log is not None:
                    log(f"  warning: {msg}")
                else:
                    warnings.warn(msg, CheckpointWarning, stacklevel=2)
                continue
            return got
        aside = sorted(p.name for p in (self.workdir / kind).glob("*.damaged-*"))
        if not tried and aside:
            msg = (
                f"every checkpoint in {self.workdir / kind} was set aside as damaged ({', '.join(aside)}); "
                "training starts from scratch"
            )
            if log is not None:
                log(f"  warning: {msg}")
            else:
                warnings.warn(msg, CheckpointWarning, stacklevel=2)
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
            m.wait_until_finished()
            m.close()
        for kind in self.managers:
            remove_temporary(self.workdir / kind)
