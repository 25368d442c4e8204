"""Pretrained models shipped inside the package, so that ``dancejax feedback`` on videos and
``dancejax live`` work straight after installing, without training anything first.

Each model is a saved-model folder (``dancejax.save_model``'s format) in this package folder,
with its model card (``MODEL_CARD.md``: the command that trained it, its data, its scores on
held-out real data) and ``card.json`` (the same facts, for programs)::

    from dancejax import pretrained

    for m in pretrained.available():
        print(m.name, m.task, m.method, m.preset, m.size_bytes, m.scores)
    refiner = pretrained.load("refiner_style")      # a ready Refiner (refined keypoints + style)
    predictor = pretrained.load("predictor_2d")     # a ready 2D Predictor

``REFINER`` and ``PREDICTOR`` name the models the video commands use.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from importlib import resources
from pathlib import Path

from dancejax.errors import DataError

REFINER = "refiner_style"
PREDICTOR = "predictor_2d"
CARD = "card.json"
MODEL_CARD = "MODEL_CARD.md"


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """One shipped model: its name and folder, what it is (task, method, preset, pose
    dimension, styles), its size on disk in bytes, what it is for, how it was trained and its
    headline scores ({label: value}, labels carry their units and data)."""

    name: str
    path: Path
    task: str
    method: str
    preset: str
    dims: int
    styles: tuple[str, ...] | None
    size_bytes: int
    summary: str
    command: str
    scores: dict


def root() -> Path:
    """The folder the shipped models live in."""
    return Path(str(resources.files("dancejax.pretrained")))


def _names() -> list[str]:
    from dancejax.deploy.saved import META

    return sorted(p.name for p in root().iterdir() if p.is_dir() and (p / META).is_file())


def path(name: str) -> Path:
    """The saved-model folder of the shipped model ``name``."""
    names = _names()
    if name not in names:
        listed = ", ".join(names) if names else "none (the package was installed without its model files)"
        raise DataError(f"no shipped model named {name!r}; shipped: {listed}")
    return root() / name


def info(name: str) -> ModelInfo:
    """What the shipped model ``name`` is (``ModelInfo``)."""
    from dancejax.deploy.saved import read_meta

    p = path(name)
    meta = read_meta(p)
    card_file = p / CARD
    card = json.loads(card_file.read_text()) if card_file.is_file() else {}
    cfg = meta.get("config", {})
    size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return ModelInfo(
        name=name,
        path=p,
        task=meta["task"],
        method=meta.get("method", cfg.get("method", "?")),
        preset=meta.get("preset", cfg.get("preset", "?")),
        dims=int(cfg.get("model", {}).get("dims", 2)),
        styles=tuple(meta["styles"]) if meta.get("styles") else None,
        size_bytes=size,
        summary=card.get("summary", ""),
        command=card.get("command", ""),
        scores=dict(card.get("scores", {})),
    )


def available() -> list[ModelInfo]:
    """Every shipped model, by name."""
    return [info(n) for n in _names()]


@functools.lru_cache(maxsize=8)
def load(name: str):
    """The shipped model ``name`` ready to use (``dancejax.load_model``), loaded once per process."""
    from dancejax.deploy.saved import load_model

    return load_model(path(name))


__all__ = ["MODEL_CARD", "PREDICTOR", "REFINER", "ModelInfo", "available", "info", "load", "path", "root"]
