"""Models, and one registry per task.

**The model contract.**  A model is a Flax linen module whose dataclass fields are its
hyper-parameters; it is built as ``REGISTRY[name](**fields)`` and is a pure function of
explicit pytrees: ``model.apply({'params': ..., 'batch_stats': ...}, inputs, train=...,
rngs={'dropout': key}, mutable=['batch_stats'])``.

* Field values must be hashable (tuples, not lists; frozen dataclasses), because the module
  instance itself is the static part of a run's configuration and keys its compiled step.
* ``dropout`` is a field of every model and may be a traced array (a study gives each setting
  its own rate in one program): use ``dancejax.layers.modules.Dropout``, never ``nn.Dropout``
  (which needs a Python float).
* Recognition models (``RECOGNIZERS``) take ``num_styles`` and map noisy keypoints
  (N, T, J, 2) with confidences (N, T, J) to ``(refined (N, T, J, 2), class scores (N, S))``.
* Prediction models (``PREDICTORS``) take ``obs``, ``pred``, ``joints`` and ``dims`` and map
  observed poses (N, obs, J, D) to the next (N, pred, J, D).  A class attribute
  ``trainable = False`` marks a parameter-free baseline.  An optional static method
  ``recipe(preset, obs, pred)`` gives the ``'original'`` preset (the authors' own training
  recipe) as overrides of the task configuration (``PredictionConfig`` fields, and ``'model'``:
  a dict of model fields).
* Refinement-only models (``REFINERS``; ``dancejax.tasks.refinement`` trains them) map
  normalised keypoint windows (N, T, J, D) to refined windows of the same shape.
* Every model may declare its sizes per preset next to it: a class attribute ``SIZES`` maps a
  preset name (``'test'``, ``'quick'``, ``'original'``) to model fields (``preset_sizes``).
  A registry entry that is another method trained differently (an ablation) is a subclass
  with a class attribute ``CONFIG``: the task-configuration fields it sets.

**Adding a model**: one file in this folder and one line in the registry below
(``CONTRIBUTING.md`` shows an example).
"""

from __future__ import annotations

import dataclasses
import functools

from dancejax.models.baselines import ConstantVelocity, ZeroVelocity
from dancejax.models.dmgnn import DMGNN
from dancejax.models.hbrnn import HBRNN
from dancejax.models.ltd import LTD
from dancejax.models.mkff import MKFFSTGCN, MKFFNoTopK, plain_stgcn
from dancejax.models.simlpe import SiMLPe
from dancejax.models.smoothnet import SmoothNet
from dancejax.models.stga_net import STGANet

RECOGNIZERS = {
    "hbrnn": HBRNN,
    "stgcn": plain_stgcn,
    "mkff_stgcn": MKFFSTGCN,
    "mkff_velocity_only": functools.partial(MKFFSTGCN, mkff_features=("velocity",)),
    "mkff_acceleration_only": functools.partial(MKFFSTGCN, mkff_features=("acceleration",)),
    "mkff_no_topk": MKFFNoTopK,
}

REFINERS = {"smoothnet": SmoothNet}

PREDICTORS = {
    "zero_velocity": ZeroVelocity,
    "constant_velocity": ConstantVelocity,
    "ltd": LTD,
    "dmgnn": DMGNN,
    "simlpe": SiMLPe,
    "stga_net": STGANet,
}


def model_class(factory):
    """The module class a registry entry builds (a class, or a partial of one)."""
    while isinstance(factory, functools.partial):
        factory = factory.func
    if isinstance(factory, type):
        return factory
    return type(factory())


def model_fields(model) -> dict:
    """The hyper-parameter fields of a model instance (what ``REGISTRY[name](**fields)`` takes)."""
    return {f.name: getattr(model, f.name) for f in dataclasses.fields(model) if f.name not in ("parent", "name")}


def preset_sizes(factory, preset: str) -> dict:
    """The model fields a registry entry declares for ``preset`` (its class's ``SIZES``)."""
    return dict(getattr(model_class(factory), "SIZES", {}).get(preset, {}))


def entry_config(factory) -> dict:
    """The task-configuration fields a registry entry sets (its class's ``CONFIG``)."""
    return dict(getattr(model_class(factory), "CONFIG", {}))


def build(registry: dict, name: str, **fields):
    """``registry[name](**fields)``, with a clear error for an unknown name or field."""
    if name not in registry:
        raise ValueError(f"Unsupported model: {name!r}; use one of {sorted(registry)}")
    cls = model_class(registry[name])
    known = {f.name for f in dataclasses.fields(cls)} - {"parent", "name"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"model {name!r} has no field(s) {unknown}; its fields are {sorted(known)}")
    return registry[name](**fields)


__all__ = [
    "RECOGNIZERS",
    "PREDICTORS",
    "REFINERS",
    "build",
    "model_class",
    "model_fields",
    "ConstantVelocity",
    "DMGNN",
    "HBRNN",
    "LTD",
    "MKFFSTGCN",
    "MKFFNoTopK",
    "entry_config",
    "preset_sizes",
    "SiMLPe",
    "SmoothNet",
    "STGANet",
    "ZeroVelocity",
]
