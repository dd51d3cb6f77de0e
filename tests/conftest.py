"""Shared pytest fixtures."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def shared_data() -> Path:
    """The real datasets (``EMPATH_SHARED_DATA``); tests that need them skip when absent."""
    from empath._data import shared_data_dir

    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set EMPATH_SHARED_DATA)")
    return path
