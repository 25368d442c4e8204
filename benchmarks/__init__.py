"""Benchmark scripts and the PyTorch reference models they (and the parity tests) use."""
