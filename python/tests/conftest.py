"""Shared fixtures of the Python tests. They import the dspjit package from
PYTHONPATH (ctest points it at build/python) and read the examples from the
source tree."""

import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples():
    return EXAMPLES


@pytest.fixture
def rng():
    # Fixed seeds: a failure replays exactly.
    return np.random.default_rng(16)
