"""The prediction task: from ``obs`` observed 3D poses predict the next ``pred`` (paper §III-C).

A task module exposes the functions every task has (``dancejax.tasks``): ``make_config``,
``load_data``, ``steps_per_epoch``, ``epoch_batches``, ``init_state``, ``hparams``,
``make_train_step``, ``score``, ``evaluate``, ``trainable``, ``static_key``.

Windows stay in global coordinates (metres, Y up) until the train step, which augments them,
moves them to the model's coordinate frame (``cfg.frame``: 'trajectory' or 'root_relative',
``dancejax.data.pipeline``) and units (``cfg.units``), standardises them when
``cfg.normalize``, and computes ``cfg.loss``.  Metrics, in millimetres (``dancejax.maths.metrics``):
root-relative MAE / MPJPE (primary) and global, at 80/160/320/400 ms (and 560/1000 ms for 25
predicted frames).  Evaluation windows are drawn per style from the held-out takes with a
fixed seed; their count is an argument and every table says which protocol made it.

Every preset predicts in the 'root_relative' frame, the frame of the primary metric (each
frame's mid-hip removed; the loss is then the root-relative MPJPE, and global outputs hold the
root where it was last seen); 'trajectory' (relative to the last observed mid-hip, so the model
predicts the root's path too) is a config choice.

Presets: 'default' (Adam 1e-3 × 0.97 per epoch, batch 32, 50 epochs), 'quick' (a CPU budget),
'test' (tiny, for the test suite), and each model's own recipes (``'original'``: its authors'
training recipe, see the model's ``recipe``).
"""

from dancejax.tasks.prediction.config import (  # noqa: F401
    DEFAULT_METHOD,
    LOSSES,
    METHODS,
    NAME,
    PRESETS,
    SCORE,
    HParams,
    PredictionConfig,
    _call_args,
    _quick_overrides,
    _test_overrides,
    config_for_data,
    describe,
    from_description,
    make_config,
    preset_overrides,
    static_key,
    trainable,
    with_hparams,
)
from dancejax.tasks.prediction.data import (  # noqa: F401
    PredictionData,
    _check_data,
    epoch_batches,
    load_data,
    prepare,
    steps_per_epoch,
)
from dancejax.tasks.prediction.evaluate import (  # noqa: F401
    evaluate,
    print_evaluation,
    score,
)
from dancejax.tasks.prediction.infer import (  # noqa: F401
    Predictor,
    _jitted_forward,
    _standardise,
    check_observed,
    forward,
    predict_windows,
    ready_model,
)
from dancejax.tasks.prediction.step import (  # noqa: F401
    hparams,
    init_state,
    make_train_step,
    variables_template,
)

__all__ = [
    "HParams",
    "PredictionConfig",
    "PredictionData",
    "Predictor",
    "LOSSES",
    "METHODS",
    "NAME",
    "PRESETS",
    "SCORE",
    "DEFAULT_METHOD",
    "check_observed",
    "config_for_data",
    "print_evaluation",
    "ready_model",
    "variables_template",
    "describe",
    "epoch_batches",
    "evaluate",
    "forward",
    "from_description",
    "hparams",
    "init_state",
    "load_data",
    "make_config",
    "make_train_step",
    "predict_windows",
    "prepare",
    "score",
    "static_key",
    "steps_per_epoch",
    "trainable",
    "with_hparams",
]
