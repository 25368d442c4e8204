"""The ``dancejax`` command.

    dancejax summary                                   # the shipped dataset, and the detector-noise statistics
    dancejax train --task prediction --method stga_net --preset quick --run runs/stga
    dancejax train --task prediction --data takes/ --manifest takes/manifest.csv --run runs/mine
    dancejax evaluate runs/stga                        # tables for a trained run (or a saved-model folder)
    dancejax predict runs/stga observed.bvh --out next.json
    dancejax refine runs/mkff keypoints.json --out refined.json
    dancejax study --config experiments/configs/study_recognition16.json --out results/study
    dancejax compare --task prediction --preset quick --seeds 0 1 2 --out results
    dancejax convert st_gcn.ntu-xsub.pth --layout ntu25 --out converted/
    dancejax feedback performance.bvh reference.bvh --out report/   # alignment, deviations, risk flags, HTML
    dancejax export runs/stga exported/ && dancejax run-exported exported/ inputs.npz

Every subcommand has ``--help``.  A run folder holds ``run.json`` (the command and the full
configuration), ``checkpoints/`` (periodic and best, resumable), ``model/`` (the saved model,
``dancejax.load_model``), ``history.json`` and ``evaluation.json``.  Bad input ends with one
line naming the file and the field, and exit status 2.

The persistent XLA compilation cache is on (in ``$DANCEJAX_CACHE`` or the user cache folder);
``--no-cache`` turns it off.  On Linux the C allocator keeps freed memory for reuse
(``dancejax.runtime``; ``DANCEJAX_MALLOC=system`` leaves it as the system sets it).

This module parses arguments and prints; the work is in the library.
"""

from __future__ import annotations

import argparse
import sys
import time

from dancejax.cli import apps, feedback, training, video
from dancejax.errors import DataError
from dancejax.runtime import setup_process


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dancejax", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--no-cache", action="store_true", help="do not use the persistent compilation cache")
    sub = ap.add_subparsers(dest="command", required=True)
    for commands in (training, apps, feedback, video):
        commands.add_parsers(sub)
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    setup_process(cache=not a.no_cache, log=lambda m: print(m, file=sys.stderr))
    t0 = time.perf_counter()
    try:
        rc = a.fn(a)
    except DataError as e:
        print(f"dancejax {a.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C: one line, the shell's status for SIGINT
        print(f"dancejax {a.command}: {interrupted_line(e)}", file=sys.stderr, flush=True)
        return 130
    if a.command not in ("convert",):
        print(f"[{a.command}: {time.perf_counter() - t0:.0f}s]", file=sys.stderr)
    return rc or 0


def interrupted_line(e: KeyboardInterrupt) -> str:
    """What an interrupted command says: where training stopped and how to resume, or just that
    it stopped (before training, or in a command that keeps no checkpoints)."""
    if getattr(e, "epoch", None) is None:
        return "interrupted"
    line = f"interrupted at epoch {e.epoch}, step {e.step}; "
    if e.last_checkpoint is None:
        return line + "no checkpoint was written yet; run the same command to start again"
    return line + f"the last checkpoint is epoch {e.last_checkpoint}; run the same command to resume"


def entry() -> None:
    sys.exit(main())
