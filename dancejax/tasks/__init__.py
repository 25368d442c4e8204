"""The tasks, and the contract every task satisfies.

A task is a module (``dancejax.tasks.recognition``, ``dancejax.tasks.prediction``) that
satisfies :class:`Task`: the training loop (``dancejax.train.loop``), the studies, saved
models, export and the command line take a task and call these functions; nothing outside
this folder asks for a task's name.  ``tests/test_types.py`` has a type checker verify that
both modules satisfy the Protocol.

Presets mean the same in every task: ``test`` (tiny, for the test suite), ``quick`` (a CPU
budget), ``default`` (dancejax's full recipe) and ``original`` (the authors' own recipe of
each method; ``paper`` is another name for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from dancejax.errors import DataError
from dancejax.tasks import prediction, recognition


class SavedKind(Protocol):
    """What a saved model's kind provides (``dancejax.deploy.saved``): a task, or a model that
    dancejax does not train (the converted ST-GCN classifier)."""

    @property
    def NAME(self) -> str: ...

    def describe(self, cfg: Any) -> dict: ...

    def from_description(self, d: dict) -> Any: ...

    def variables_template(self, cfg: Any) -> dict:
        """The shapes of the variables (``jax.eval_shape`` structs)."""
        ...

    def ready_model(self, cfg: Any, variables: Any, meta: dict) -> Any:
        """The saved model as a ready callable (``Refiner``, ``Predictor``, ...)."""
        ...


class Task(SavedKind, Protocol):
    """A task: its registry of methods, its configurations, data, train step and evaluation."""

    # read-only attributes (properties, so that a module's constants satisfy them)
    @property
    def PRESETS(self) -> tuple[str, ...]: ...

    @property
    def METHODS(self) -> tuple[str, ...]: ...

    @property
    def DEFAULT_METHOD(self) -> str: ...

    @property
    def SCORE(self) -> str:
        """What ``score`` measures (higher is better)."""
        ...

    @property
    def HParams(self) -> type:
        """A ``flax.struct`` dataclass of the array hyper-parameters a study may vary."""
        ...

    def make_config(self, method: str = ..., preset: str = ..., *, model: dict | None = ..., **overrides: Any) -> Any:
        """``preset``'s configuration of ``method``, with model fields and config fields overridden."""
        ...

    def config_for_data(
        self, method: str, preset: str, dataset: Any, real_fraction: float | None = ..., **overrides: Any
    ) -> Any:
        """``make_config`` with what the task takes from the training data (e.g. its styles)."""
        ...

    def load_data(self, ds: Any, cfg: Any) -> Any: ...

    def prepare(self, cfg: Any, data: Any) -> Any:
        """``cfg`` with what it takes from the training data (e.g. normalisation statistics)."""
        ...

    def steps_per_epoch(self, data: Any, cfg: Any) -> int: ...

    def epoch_batches(self, data: Any, cfg: Any, epoch: int) -> Any:
        """The batches of an epoch: a pure function of its arguments."""
        ...

    def init_state(self, cfg: Any, key: Any) -> Any: ...

    def hparams(self, cfg: Any) -> Any: ...

    def make_train_step(self, cfg: Any, data: Any) -> Callable[..., Any]:
        """``step(state, batch, rng, hparams) -> (state, metrics)``, to be jitted once."""
        ...

    def score(self, cfg: Any, variables: Any, data: Any, split: str = ...) -> float: ...

    def evaluate(self, cfg: Any, variables: Any, data: Any) -> dict: ...

    def print_evaluation(self, ev: dict, data: Any, log: Callable[[str], Any] = ...) -> dict:
        """Print ``evaluate``'s tables; return them JSON-ready."""
        ...

    def trainable(self, cfg: Any) -> bool: ...

    def static_key(self, cfg: Any) -> Any:
        """What shapes the compiled step (study settings with equal keys share a program)."""
        ...

    def with_hparams(
        self,
        cfg: Any,
        seed: Any = ...,
        lr: Any = ...,
        lr_decay: Any = ...,
        weight_decay: Any = ...,
        dropout: Any = ...,
    ) -> Any: ...


TASKS: dict[str, Task] = {recognition.NAME: recognition, prediction.NAME: prediction}


def get_task(name: str) -> Task:
    """The task called ``name``."""
    if name not in TASKS:
        raise DataError(f"unknown task {name!r}; use one of {', '.join(TASKS)}")
    return TASKS[name]
