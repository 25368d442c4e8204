"""dancejax: skeleton-based dance pose refinement, style recognition and motion prediction in JAX."""

__version__ = "0.2.0"


def save_model(*args, **kwargs):
    """Save a trained model (``dancejax.saved.save_model``)."""
    from dancejax.saved import save_model as _save

    return _save(*args, **kwargs)


def load_model(path):
    """Load a saved model as a ready ``Refiner`` or ``Predictor`` (``dancejax.saved.load_model``)."""
    from dancejax.saved import load_model as _load

    return _load(path)
