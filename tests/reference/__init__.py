"""Independent PyTorch transcriptions of the models dancejax implements, written from the
original papers and code for parity tests and benchmarks (never the original code itself).
Parameter names and shapes follow each original, so their state dicts load into dancejax."""
