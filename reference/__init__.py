"""Independent PyTorch transcriptions of the models dancejax implements, written from the
original papers and code (never the original code itself): the oracles of the parity tests
(``tests/test_torch_parity.py``, ``tests/test_baseline_parity.py``) and the PyTorch side of the
benchmarks (``benchmarks/workloads.py``).  Parameter names and shapes follow each original, so
their state dicts load into dancejax.  Needs the ``torch`` extra; not installed with dancejax:
import it from the repository root (pytest's ``pythonpath`` puts the root on the path)."""
