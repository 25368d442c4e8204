"""dancejax: skeleton-based dance pose refinement, style recognition and motion prediction in JAX."""

__version__ = "0.1.0"
