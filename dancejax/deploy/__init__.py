"""Deployment: saved models (``saved``), ``jax.export`` artifacts (``export``), the streaming
engine (``stream``) and the import of original PyTorch checkpoints (``convert``)."""
