"""Train one model into a run folder: the ``dancejax train`` command (see ``dancejax train --help``).

    python experiments/train.py --task recognition --method mkff_stgcn --preset quick --run runs/mkff
    XLA_FLAGS=--xla_force_host_platform_device_count=4 \
        python experiments/train.py --task prediction --preset quick --run runs/stga
    # two hosts (or two processes on one machine), coordinator from the flags or JAX_COORDINATOR_ADDRESS:
    python experiments/train.py --task prediction --run runs/p --coordinator host0:1234 --num-processes 2 --process-id 0

The batch is sharded over a mesh of all devices (of all processes); parameters are replicated;
the compiler reduces the gradients.  A rerun resumes from the run folder's checkpoints.
"""

import sys

from dancejax.cli import main

if __name__ == "__main__":
    sys.exit(main(["train"] + sys.argv[1:]))
