"""The shipped dataset, windows, augmentation and detector noise."""

from dancejax.data.dataset import (
    DanceDataset,
    DetectionSet,
    Take,
    Windows,
    cut_windows,
    project_take,
    project_windows,
    random_cameras,
    take_windows,
)

__all__ = [
    "DanceDataset",
    "DetectionSet",
    "Take",
    "Windows",
    "cut_windows",
    "project_take",
    "project_windows",
    "random_cameras",
    "take_windows",
    "load_dataset",
]


def load_dataset(path=None) -> DanceDataset:
    """The compact real dance dataset inside the package (or another built copy at ``path``)."""
    return DanceDataset(path)
