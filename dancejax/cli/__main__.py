"""``python -m dancejax.cli``: the ``dancejax`` command."""

from dancejax.cli import entry

entry()
