import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
RAW = Path(os.environ.get("DANCEJAX_RAW", Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"))


def pytest_configure(config):
    # the persistent XLA compilation cache, as the command line uses it: tests that build the same
    # train step in several runs (resume, studies against separate runs) compile it once
    # and the C allocator setting of the command-line scripts (freed memory kept for reuse)
    from dancejax.runtime import enable_compilation_cache, keep_freed_memory

    keep_freed_memory()
    enable_compilation_cache(log=lambda m: print(m))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def raw() -> Path:
    if not (RAW / "SOURCES.md").exists():
        pytest.skip(f"full raw data not found at {RAW} (set DANCEJAX_RAW); CI runs these tests")
    return RAW
