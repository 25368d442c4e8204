import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
RAW = Path(os.environ.get("DANCEJAX_RAW", Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def raw() -> Path:
    if not (RAW / "SOURCES.md").exists():
        pytest.skip(f"full raw data not found at {RAW} (set DANCEJAX_RAW); CI runs these tests")
    return RAW
