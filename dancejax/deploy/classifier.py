"""A converted original ST-GCN action classifier (``dancejax convert``): its configuration,
its Flax model and the ready callable a saved one loads as.

A saved classifier is a saved model of its own kind (``NAME``), beside the two tasks: it is
not trained by dancejax, so it has the saved-model part of the task contract only
(``describe``, ``from_description``, ``variables_template``, ``ready_model``).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from dancejax.errors import DataError

NAME = "classification"
NO_EVALUATION = (
    "a converted ST-GCN classifier has no dancejax evaluation set; call it on "
    "NTU/Kinetics skeletons (dancejax.io.ntu / dancejax.io.kinetics stgcn_input)"
)


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """An original ST-GCN action classifier (one- or two-stream), as converted from PyTorch."""

    layout: str = "ntu25"
    strategy: str = "spatial"
    max_hop: int = 1
    widths: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
    strides: tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
    num_classes: int = 60
    in_channels: int = 3
    edge_importance: bool = True
    two_stream: bool = False
    method: str = "stgcn_classifier"
    preset: str = "converted"

    def graph(self):
        from dancejax.models.stgcn import GraphConfig

        return GraphConfig(self.layout, self.strategy, self.max_hop)


def stgcn_motion(x):
    """The two-stream model's motion input: ``x_t − (x_{t−1} + x_{t+1}) / 2`` along time (axis 2
    of (N, M, T, V, C)), zero at the first and last frame."""
    import jax.numpy as jnp

    mid = x[:, :, 1:-1] - 0.5 * x[:, :, 2:] - 0.5 * x[:, :, :-2]
    z = jnp.zeros_like(x[:, :, :1])
    return jnp.concatenate([z, mid, z], 2)


def build_classifier(cfg: ClassifierConfig):
    """The Flax model of a converted classifier: ``apply(variables, x)`` with x (N, M, T, V, C)
    returns the class scores (N, classes)."""
    from flax import linen as nn

    from dancejax.models.stgcn import STGCN

    def stream(name):
        return STGCN(
            cfg.graph(),
            cfg.widths,
            cfg.strides,
            num_classes=cfg.num_classes,
            edge_importance=cfg.edge_importance,
            name=name,
        )

    class Classifier(nn.Module):
        @nn.compact
        def __call__(self, x, train: bool = False):
            if not cfg.two_stream:
                return stream("stream")(x, train)[1]
            return stream("origin_stream")(x, train)[1] + stream("motion_stream")(stgcn_motion(x), train)[1]

    return Classifier()


def _layout_joints(layout: str) -> int:
    from dancejax.skeleton import get_layout

    return get_layout(layout).num_joints


def classifier_template(cfg: ClassifierConfig):
    x = np.zeros((1, 1, 16, _layout_joints(cfg.layout), cfg.in_channels), np.float32)
    return jax.eval_shape(lambda: build_classifier(cfg).init(jax.random.key(0), x))


class Classifier:
    """A converted ST-GCN as a callable: (N, M, T, V, C) skeletons (or the original's
    (N, C, T, V, M) with ``layout='original'``) -> class scores (N, classes)."""

    KIND = "classifier"

    def __init__(self, cfg: ClassifierConfig, variables, meta=None):
        self.cfg, self.variables, self.meta = cfg, variables, meta or {}
        model = build_classifier(cfg)
        self._run = jax.jit(lambda v, x: model.apply(v, x))

    def __call__(self, x, layout: str = "nmtvc"):
        x = np.asarray(x, np.float32)
        if layout == "original":
            x = x.transpose(0, 4, 2, 3, 1)
        v = _layout_joints(self.cfg.layout)
        if x.ndim != 5 or x.shape[3] != v or x.shape[4] != self.cfg.in_channels:
            raise DataError(f"input: field 'skeleton': expected (N, M, T, {v}, {self.cfg.in_channels}), got {x.shape}")
        if not np.isfinite(x).all():
            raise DataError("input: field 'skeleton': NaN/inf values")
        return self._run(self.variables, x)


def describe(cfg: ClassifierConfig) -> dict:
    return dataclasses.asdict(cfg)


def from_description(d: dict) -> ClassifierConfig:
    return ClassifierConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def variables_template(cfg: ClassifierConfig):
    """The shapes of the classifier's variables (what a saved one restores into)."""
    return classifier_template(cfg)


def ready_model(cfg: ClassifierConfig, variables, meta: dict):
    """A saved classifier as a ready ``Classifier``."""
    return Classifier(cfg, variables, meta)
