"""`dspjit render --automate`: a parameter's curve, frame by frame, through
the parameter's smoother, against a numpy model of both (the curve of
runtime/Automation.h and the smoother of dsl/LANGUAGE.md section 11). The
script's outputs are the smoothed values themselves."""

import math
import os
import pathlib
import subprocess

import numpy as np

import dspjit

RATE = 48000
CLI = os.environ.get("DSPJIT_CLI") or str(
    pathlib.Path(dspjit.__file__).resolve().parents[2] / "tools" / "dspjit")

SCRIPT = """io 0 -> 2;
param gain = 0.5 in [0, 1];
param cutoff = 1000 in [20, 20000] hz smooth 50 ms;
process { out = [gain, cutoff]; }
"""


def curve(points, frames, exponential):
    """The target at every frame: straight (or, in hz, equal-ratio) lines
    between breakpoints (frame, value), held outside them, as doubles
    rounded to float once."""
    f = np.arange(frames, dtype=np.float64)
    out = np.empty(frames)
    xs = [p[0] for p in points]
    for n in range(frames):
        # The last breakpoint at or before n (the later of two at one frame).
        i = np.searchsorted(xs, n, side="right")
        if i == 0:
            out[n] = points[0][1]
        elif i == len(points):
            out[n] = points[-1][1]
        else:
            (fa, a), (fb, b) = points[i - 1], points[i]
            u = (f[n] - fa) / (fb - fa)
            out[n] = a * (b / a) ** u if exponential else a + (b - a) * u
    return out.astype(np.float32)


def smoothed(targets, seconds, lo, hi):
    """LANGUAGE.md section 11: c = 1 - exp(-4.6 / (T sr)), e = (max - min) /
    256; value += c max(|g|, e) sign(g), landing on the target once |g| <=
    c e or a step changes nothing. In float, as the kernel computes it; the
    value starts on the first target (the curve's value at frame 0 is set
    without a ramp)."""
    c64 = 1 - math.exp(-4.6 / (seconds * RATE))
    e64 = (hi - lo) / 256
    c, e, ce = np.float32(c64), np.float32(e64), np.float32(c64 * e64)
    value = targets[0]
    out = np.empty_like(targets)
    for n, target in enumerate(targets):
        gap = np.float32(target - value)
        dist = np.float32(abs(gap))
        step = np.float32(c * max(dist, e))
        nxt = np.float32(value + math.copysign(step, gap))
        value = target if (dist <= ce or nxt == value) else nxt
        out[n] = value
    return out


def render(tmp_path, *automate, frames):
    script = tmp_path / "probe.dsp"
    script.write_text(SCRIPT)
    out = tmp_path / "out.wav"
    args = [CLI, "render", str(script), str(out), "--rate", str(RATE),
            "--duration", f"{frames}frames", "--quiet"]
    for a in automate:
        args += ["--automate", a]
    run = subprocess.run(args, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    y, rate, _ = dspjit.read_audio(out)
    assert rate == RATE and y.shape == (frames, 2)
    return y


def test_curves_through_the_smoother_match_a_numpy_model(tmp_path):
    frames = 12000
    # gain: a rise, a hold, a jump down, a slow fall; cutoff: a sweep up and
    # back (exponential, from a CSV file with a header), smoothed over 50 ms.
    csv = tmp_path / "sweep.csv"
    csv.write_text("time,value\n0.02,100\n0.12,8000\n0.2,300\n")
    y = render(tmp_path,
               "gain=ramp:0.1@1000frames,0.9@3000frames,0.9@5000frames,"
               "0.2@5000frames,0@11000frames",
               f"cutoff={csv}", frames=frames)

    gain_targets = curve([(1000, 0.1), (3000, 0.9), (5000, 0.9), (5000, 0.2),
                          (11000, 0.0)], frames, exponential=False)
    cutoff_targets = curve([(960, 100.0), (5760, 8000.0), (9600, 300.0)],
                           frames, exponential=True)
    gain = smoothed(gain_targets, 0.01, 0.0, 1.0)
    cutoff = smoothed(cutoff_targets, 0.05, 20.0, 20000.0)

    # The model's own sanity: the jump is smoothed, the sweep lags behind.
    assert gain_targets[5000] == np.float32(0.2) and gain[5000] > 0.8
    assert cutoff[5760] < cutoff_targets[5760]

    np.testing.assert_allclose(y[:, 0], gain, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y[:, 1], cutoff, rtol=1e-6)


def test_a_bad_curve_is_refused_before_rendering(tmp_path):
    script = tmp_path / "probe.dsp"
    script.write_text(SCRIPT)
    out = tmp_path / "out.wav"
    run = subprocess.run([CLI, "render", str(script), str(out), "--automate",
                          "cutoff=ramp:200@0s,30000@1s"],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "'30000@1s': 30000 is outside the range of 'cutoff' [20, 20000]" \
        in run.stderr
    assert not out.exists()
