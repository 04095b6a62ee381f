"""convolve(x, ir) (dsl/LANGUAGE.md, "convolve") against
scipy.signal.fftconvolve: exact linear convolution, within 1e-5 of the
output's peak, for responses either side of the partition sizes, at
callbacks of 1, 37, 64 and 1024 frames (every alignment of the callbacks
with the convolver's 64-frame blocks)."""

import numpy as np
import pytest
import scipy.signal

import dspjit

TAPS = [1, 63, 64, 65, 4096, 96000]
BLOCKS = [1, 37, 64, 1024]


def kernel(tmp_path, ir, io="1 -> 1", body="out = convolve(in, ir);"):
    path = tmp_path / "ir.wav"
    dspjit.write_audio(path, ir, 48000)
    return dspjit.compile_source(
        f'io {io}; table ir = file "{path}"; process {{ {body} }}')


def decaying_noise(rng, taps, lanes=None):
    shape = (taps,) if lanes is None else (taps, lanes)
    decay = np.exp(-np.arange(taps) / (taps / 4 + 1))
    if lanes is not None:
        decay = decay[:, None]
    return (rng.standard_normal(shape) * decay).astype(np.float32)


def relative_error(y, ref):
    return float(np.max(np.abs(y - ref)) / np.max(np.abs(ref)))


@pytest.mark.parametrize("taps", TAPS)
def test_matches_fftconvolve(tmp_path, rng, taps):
    ir = decaying_noise(rng, taps)
    k = kernel(tmp_path, ir)
    x = rng.standard_normal(taps + 3000).astype(np.float32)
    ref = scipy.signal.fftconvolve(x.astype(np.float64),
                                   ir.astype(np.float64))[:len(x)]
    for block in BLOCKS:
        y = k.instance().process(x, block=block)
        err = relative_error(y, ref)
        print(f"taps {taps} block {block}: {err:.2e}")
        assert err < 1e-5, (taps, block, err)


def test_lanes_each_own_response(tmp_path, rng):
    ir = decaying_noise(rng, 5000, 2)
    k = kernel(tmp_path, ir, io="2 -> 2")
    x = rng.standard_normal((8000, 2)).astype(np.float32)
    y = k.instance().process(x, block=64)
    for lane in range(2):
        ref = scipy.signal.fftconvolve(x[:, lane].astype(np.float64),
                                       ir[:, lane].astype(np.float64))[:8000]
        assert relative_error(y[:, lane], ref) < 1e-5


def test_mono_response_for_every_lane(tmp_path, rng):
    ir = decaying_noise(rng, 3000)
    k = kernel(tmp_path, ir, io="2 -> 2")
    x = rng.standard_normal((6000, 2)).astype(np.float32)
    y = k.instance().process(x, block=37)
    for lane in range(2):
        ref = scipy.signal.fftconvolve(x[:, lane].astype(np.float64),
                                       ir.astype(np.float64))[:6000]
        assert relative_error(y[:, lane], ref) < 1e-5


def test_mono_input_through_a_stereo_response(tmp_path, rng):
    ir = decaying_noise(rng, 3000, 2)
    k = kernel(tmp_path, ir, io="1 -> 2")
    x = rng.standard_normal(6000).astype(np.float32)
    y = k.instance().process(x, block=64)
    for lane in range(2):
        ref = scipy.signal.fftconvolve(x.astype(np.float64),
                                       ir[:, lane].astype(np.float64))[:6000]
        assert relative_error(y[:, lane], ref) < 1e-5


def test_true_stereo(tmp_path, rng):
    # Lanes L->L, L->R, R->L, R->R.
    ir = decaying_noise(rng, 3000, 4)
    k = kernel(tmp_path, ir, io="2 -> 2")
    x = rng.standard_normal((6000, 2)).astype(np.float32)
    y = k.instance().process(x, block=64)
    for out in range(2):
        ref = sum(
            scipy.signal.fftconvolve(x[:, i].astype(np.float64),
                                     ir[:, i * 2 + out].astype(np.float64))
            for i in range(2))[:6000]
        assert relative_error(y[:, out], ref) < 1e-5
