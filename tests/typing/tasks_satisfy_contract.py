"""Checked by mypy (tests/test_types.py), not run: both tasks satisfy ``dancejax.tasks.Task``,
and the converted classifier satisfies the saved-model part of it."""

from dancejax.deploy import classifier
from dancejax.tasks import SavedKind, Task, prediction, recognition

recognition_task: Task = recognition
prediction_task: Task = prediction
classifier_kind: SavedKind = classifier
