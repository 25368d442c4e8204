"""The optional extra ``dancejax[video]``: its modules are imported here, on first use."""

from __future__ import annotations

import contextlib
import importlib

from dancejax.errors import DataError

INSTALL = "pip install 'dancejax[video]'"


def require(module: str):
    """Import ``module`` (``cv2``, or a MediaPipe module); without it, a one-line ``DataError``
    that says how to install the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"dancejax.video needs OpenCV and MediaPipe ({module} cannot be imported); install the extra: {INSTALL}"
        ) from None


@contextlib.contextmanager
def quiet_opencv(cv2):
    """Silence OpenCV's own log while it probes a source: a failed open is reported as a
    ``DataError`` instead of a page of backend warnings."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(level)
