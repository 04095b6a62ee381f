"""Shared fixtures of the Python tests. They import the dspjit package from
PYTHONPATH (ctest points it at build/python) and read the examples from the
source tree."""

import os
import pathlib
import shutil
import subprocess
import tempfile

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


# The private JACK server's settings, as the C++ live tests use them.
RATE, PERIOD = 48000, 64
# A fixed name, as scripts/dev's demo uses: JACK's registry holds 8 servers
# and frees the entry of a killed jackd only when one of the same name starts.
SERVER = "dspjit-pytest"


@pytest.fixture(scope="session")
def jack_server():
    """A private jackd with the dummy driver (48 kHz, 64-frame periods) for
    the whole run; this process's clients find it and never start one."""
    if not shutil.which("jackd") or not shutil.which("jack_wait"):
        pytest.skip("no jackd (Debian jackd2)")
    os.environ.update(JACK_DEFAULT_SERVER=SERVER, JACK_NO_START_SERVER="1",
                      JACK_NO_AUDIO_RESERVATION="1")
    log = tempfile.TemporaryFile()
    jackd = subprocess.Popen(
        ["jackd", "--no-realtime", "-n", SERVER, "-d", "dummy", "-r", str(RATE),
         "-p", str(PERIOD)], stdout=log, stderr=subprocess.STDOUT)
    try:
        if subprocess.run(["jack_wait", "-s", SERVER, "-w", "-t", "15"],
                          capture_output=True).returncode != 0:
            log.seek(0)
            pytest.fail("jackd did not start:\n" + log.read().decode(errors="replace"))
        yield SERVER
    finally:
        jackd.terminate()
        jackd.wait(timeout=10)
