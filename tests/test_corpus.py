"""Every malformed input of the corpus (tests/corpus/make_corpus.py, built from the fixtures) gets
a clear error naming the file (or "input") and the field, within a timeout: never a bare
traceback, never garbage, never a hang."""

import signal

import pytest

from dancejax.errors import DataError
from tests.corpus.make_corpus import all_cases

TIMEOUT_S = 20


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return {c.name: c for c in all_cases(tmp_path_factory.mktemp("corpus"))}


def _names(tmp_path_factory=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        return [c.name for c in all_cases(Path(d))]


NAMES = _names()


def test_corpus_is_large_enough():
    assert len(NAMES) >= 80


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang(f"no answer within {TIMEOUT_S} s")


@pytest.mark.parametrize("name", NAMES)
def test_malformed_input_gets_a_clear_error(cases, name):
    case = cases[name]
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        with pytest.raises((DataError, SystemExit)) as e:
            case.run()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if isinstance(e.value, SystemExit):
        assert e.value.code == 2
        return
    msg = str(e.value)
    assert case.field.lower() in msg.lower(), msg
    if case.names_file:
        assert "/" in msg or msg.startswith("input") or "input:" in msg, msg
