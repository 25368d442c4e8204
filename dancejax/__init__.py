"""dancejax: skeleton-based dance pose refinement, style recognition and motion prediction in JAX.

The package's folders are its layers, bottom to top: ``maths`` and ``layers`` (pure functions),
``io`` and ``data`` (readers, the dataset, detector noise), ``models``, ``train`` (the loop),
``tasks`` (recognition and prediction), ``studies``, ``deploy`` and ``feedback`` (the apps),
and ``cli`` (the command).  ``runtime`` holds the process settings entry points apply.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__version__ = "0.2.0"

# Module paths of dancejax 0.2 and where they live now.  ``import dancejax.recognition`` still
# works: it returns the moved module itself (same object, so state and monkeypatching are
# shared) and warns once with the new path.
MOVED = {
    "dancejax.dct": "dancejax.maths.dct",
    "dancejax.graph": "dancejax.maths.graph",
    "dancejax.kinematics": "dancejax.maths.kinematics",
    "dancejax.losses": "dancejax.maths.losses",
    "dancejax.metrics": "dancejax.maths.metrics",
    "dancejax.filters": "dancejax.maths.filters",
    "dancejax.sequence": "dancejax.io.sequence",
    "dancejax.report": "dancejax.io.tables",
    "dancejax.noise": "dancejax.data.noise",
    "dancejax.augment": "dancejax.data.augment",
    "dancejax.parallel": "dancejax.train.parallel",
    "dancejax.recognition": "dancejax.tasks.recognition",
    "dancejax.prediction": "dancejax.tasks.prediction",
    "dancejax.study": "dancejax.studies.study",
    "dancejax.compare": "dancejax.studies.compare",
    "dancejax.saved": "dancejax.deploy.saved",
    "dancejax.export": "dancejax.deploy.export",
    "dancejax.convert": "dancejax.deploy.convert",
    "dancejax.stream": "dancejax.deploy.stream",
    "dancejax.feedback_report": "dancejax.feedback.report",
}


class _MovedModule(importlib.abc.Loader):
    """Loads an old module path as the module at its new path."""

    def __init__(self, new: str):
        self.new = new

    def create_module(self, spec):
        module = importlib.import_module(self.new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self._spec  # the import system set the old name's spec on it


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        if new is None:
            return None
        warnings.warn(
            f"{fullname} moved to {new}; import it from there (the old path goes in a later release)",
            DeprecationWarning,
            stacklevel=3,
        )
        return importlib.util.spec_from_loader(fullname, _MovedModule(new))


if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedFinder())


def save_model(*args, **kwargs):
    """Save a trained model (``dancejax.deploy.saved.save_model``)."""
    from dancejax.deploy.saved import save_model as _save

    return _save(*args, **kwargs)


def load_model(path):
    """Load a saved model as a ready ``Refiner`` or ``Predictor`` (``dancejax.deploy.saved.load_model``)."""
    from dancejax.deploy.saved import load_model as _load

    return _load(path)


def __getattr__(name):
    # ``dancejax.recognition`` as an attribute (``import dancejax; dancejax.prediction``)
    full = f"dancejax.{name}"
    if full in MOVED:
        return importlib.import_module(full)
    raise AttributeError(f"module 'dancejax' has no attribute {name!r}")
