"""The recognition task: refine noisy 2D keypoints and recognise the dance style (paper §III-B).

A task module exposes the functions every task has (``dancejax.tasks``).

Training data, inside one jitted train step per run:

* **simulated**: 3D training takes projected through random virtual cameras every epoch,
  augmented (2D rotation, scale, flip, temporal blur) and passed through the detector-noise
  simulator calibrated on the real AIST++ detections (``dancejax.data.noise``);
* **real** (``cfg.real_fraction`` of every batch): the AIST++ detector's own keypoints of the
  train-split sequences, all 9 views, against their projected 3D ground truth, augmented with
  the same rotation, scale and flip applied to both.  The last ``REAL_VAL_FRACTION`` of those
  sequences' frames is held out as real validation data (``real_val``).

Inputs are normalised per window (``dancejax.data.pipeline.normalize``); the loss is eq. 10
plus a cross-entropy for the style, weighted per class (or uniform with class-balanced
sampling, ``cfg.balanced``).  Evaluation sets: ``sim_val``/``sim_test`` (held-out takes,
fixed virtual cameras, simulated noise), ``real_val`` and ``aist_real`` (the real detections of
the held-out sequences, 9 views — the number that matters).  Model selection and early
stopping use ``cfg.select_on``'s mean PCK@0.05.
"""

from dancejax.tasks.recognition.config import (  # noqa: F401
    DEFAULT_METHOD,
    METHODS,
    MISSING,
    NAME,
    PRESETS,
    REAL_DATA,
    SCORE,
    SETS,
    HParams,
    RecognitionConfig,
    config_for_data,
    describe,
    from_description,
    make_config,
    prepare,
    preset_overrides,
    static_key,
    trainable,
    with_hparams,
)
from dancejax.tasks.recognition.data import (  # noqa: F401
    RecognitionData,
    _real_set,
    _simulated_set,
    epoch_batches,
    load_data,
    steps_per_epoch,
)
from dancejax.tasks.recognition.evaluate import (  # noqa: F401
    FILTER_GRID,
    evaluate,
    evaluate_set,
    filter_predictions,
    print_evaluation,
    raw_prediction,
    score,
    tune_filter,
)
from dancejax.tasks.recognition.infer import (  # noqa: F401
    Refiner,
    _inference_fn,
    apply_refiner,
    check_window,
    mirror_normalized,
    predict_set,
    ready_model,
    refine_sequence,
)
from dancejax.tasks.recognition.step import (  # noqa: F401
    hparams,
    init_state,
    make_train_step,
    variables_template,
)
