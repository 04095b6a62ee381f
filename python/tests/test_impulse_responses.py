"""The impulse responses in examples/ir are what scripts/make-impulse-responses
makes: the script is their source, and the committed files must not drift
from it (a hand-edited or re-generated-elsewhere file would fail here)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_committed_responses_are_what_the_script_makes(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make-impulse-responses"),
                    str(tmp_path)], check=True, capture_output=True)
    for name in ("cabinet.wav", "hall.wav"):
        made = (tmp_path / name).read_bytes()
        committed = (ROOT / "examples" / "ir" / name).read_bytes()
        assert made == committed, f"examples/ir/{name} differs from what the script makes"
