"""The tasks, and the interface every task module has.

A task is a module (``dancejax.recognition``, ``dancejax.prediction``) with:

========================  ===========================================================
``NAME``, ``PRESETS``,    its name, preset names, registered methods, and what its
``METHODS``, ``SCORE``    validation score measures (higher is better)
``HParams``               a ``flax.struct`` dataclass: the hyper-parameters a study may
                          vary inside one compiled program (arrays)
``make_config``           ``(method, preset, **overrides) -> Config``
``load_data``             ``(dataset, cfg, **protocol) -> Data``
``prepare``               ``(cfg, data) -> cfg`` with what it takes from the training data
``steps_per_epoch``       ``(data, cfg) -> int``
``epoch_batches``         ``(data, cfg, epoch)``: the batches of an epoch, a pure function
``init_state``            ``(cfg, key) -> TrainState``
``hparams``               ``(cfg) -> HParams``
``make_train_step``       ``(cfg, data) -> step(state, batch, rng, hp) -> (state, metrics)``
``score``                 ``(cfg, variables, data, split) -> float``
``evaluate``              ``(cfg, variables, data) -> dict`` of tables
``trainable``             ``(cfg) -> bool`` (False for parameter-free baselines)
``static_key``            ``(cfg)``: what shapes the compiled step (groups study settings)
``with_hparams``          ``(cfg, **values)``: a config with some study values replaced
``describe``/``from_description``  the config as JSON and back (saved models)
========================  ===========================================================

Nothing outside a task branches on its name: the training loop (``dancejax.train.loop``),
studies (``dancejax.study``), saved models and the command line take the module.
"""

from __future__ import annotations

from dancejax import prediction, recognition
from dancejax.errors import DataError

TASKS = {"recognition": recognition, "prediction": prediction}


def get_task(name: str):
    """The task module called ``name``."""
    if name not in TASKS:
        raise DataError(f"unknown task {name!r}; use one of {', '.join(TASKS)}")
    return TASKS[name]
