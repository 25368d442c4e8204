"""Benchmark scripts, run as modules from the repository root (``python -m benchmarks.vs_torch``).
What they share is in ``common.py`` (timing, traces, results files) and ``workloads.py`` (the
models timed against PyTorch, whose PyTorch side is the top-level ``reference`` package)."""
