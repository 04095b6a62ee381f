"""Processing against independent references, chunked against whole,
parameters and meters."""

import ctypes
import gc
import math

import numpy as np
import pytest
import scipy.signal

import dspjit

RATE = 48000


def rbj(mode, freq, q, gain_db, rate=RATE):
    """The RBJ cookbook's coefficients (b, a) for examples/biquad.dsp's
    modes 0 (lowpass), 1 (highpass), 2 (bandpass) and 4 (peaking)."""
    w0 = 2 * math.pi * freq / rate
    c, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    a = 10 ** (gain_db / 40)
    if mode == 0:
        b = [(1 - c) / 2, 1 - c, (1 - c) / 2]
        den = [1 + alpha, -2 * c, 1 - alpha]
    elif mode == 1:
        b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
        den = [1 + alpha, -2 * c, 1 - alpha]
    elif mode == 2:
        b = [alpha, 0, -alpha]
        den = [1 + alpha, -2 * c, 1 - alpha]
    elif mode == 4:
        b = [1 + alpha * a, -2 * c, 1 - alpha * a]
        den = [1 + alpha / a, -2 * c, 1 - alpha / a]
    return np.array(b), np.array(den)


@pytest.mark.parametrize("mode,freq,q,gain", [
    (0, 1000, 0.707, 0), (1, 250, 2.0, 0), (2, 3000, 4.0, 0), (4, 800, 1.5, 9.0)])
def test_biquad_matches_scipy_lfilter(examples, rng, mode, freq, q, gain):
    x = rng.standard_normal((RATE // 2, 2)).astype(np.float32) * 0.5
    y = dspjit.render(examples / "biquad.dsp", x, RATE,
                      set={"mode": mode, "freq": freq, "q": q, "gain": gain})
    # The parameters as the kernel holds them: float32.
    b, a = rbj(mode, freq, float(np.float32(q)), float(np.float32(gain)))
    ref = scipy.signal.lfilter(b, a, x.astype(np.float64), axis=0)
    assert y.shape == x.shape and y.dtype == np.float32
    # float32 arithmetic in the kernel against float64 in scipy.
    np.testing.assert_allclose(y, ref, atol=2e-4 * np.abs(ref).max())


def echo_model(x, delay, feedback, mix):
    """examples/echo.dsp with a whole number of frames of delay: the line
    holds w = x + feedback * (w, `delay` frames ago)."""
    w = np.zeros_like(x, dtype=np.float64)
    wet = np.zeros_like(w)
    for n in range(len(x)):
        wet[n] = w[n - delay] if n >= delay else 0.0
        w[n] = x[n] + feedback * wet[n]
    return x + mix * (wet - x)


def test_echo_matches_numpy_model(examples, rng):
    delay = 480
    time = delay / RATE
    x = rng.standard_normal((4 * delay, 2)).astype(np.float32)
    k = dspjit.compile(examples / "echo.dsp", sample_rate=RATE)
    fx = k.instance()
    fx.set_param("time", time, immediate=True)
    fx.set_param("feedback", 0.5, immediate=True)
    fx.set_param("mix", 0.25, immediate=True)
    y = fx.process(x)
    # time * sr in float32 is within a hair of 480 frames: the linear
    # interpolation's error is far below the tolerance.
    ref = echo_model(x.astype(np.float64), delay, 0.5, 0.25)
    np.testing.assert_allclose(y, ref, atol=1e-4)


@pytest.mark.parametrize("script", ["echo.dsp", "freeverb.dsp", "biquad.dsp",
                                    "chorus.dsp"])
def test_chunked_equals_whole(examples, rng, script):
    k = dspjit.compile(examples / script)
    x = rng.standard_normal((20000, k.inputs)).astype(np.float32)
    whole = k.instance().process(x, block=64)
    fx = k.instance()
    parts, start = [], 0
    while start < len(x):
        n = int(rng.integers(1, 3000))
        parts.append(fx.process(x[start:start + n], block=64))
        start += n
    chunked = np.concatenate(parts)
    # Blocks split differently at chunk edges; with the parameters at
    # rest, nothing depends on where a block starts: identical samples.
    np.testing.assert_array_equal(chunked, whole)


def test_oversample_latency_is_reported_and_measured():
    k = dspjit.compile_source("io 1 -> 1; process { oversample 2 { out = in; } }")
    assert k.latency_frames == 79
    x = np.zeros(256, np.float32)
    x[10] = 1
    y = k.instance().process(x)
    # A linear-phase FIR: symmetric about its centre, the reported latency.
    assert int(np.argmax(np.abs(y))) == 10 + 79
    assert dspjit.compile_source("io 1 -> 1; process { out = in; }").latency_frames == 0


def test_mono_arrays_stay_one_dimensional(rng):
    k = dspjit.compile_source("io 1 -> 1; process { out = in * 0.5; }")
    x = rng.standard_normal(1000).astype(np.float32)
    y = k.instance().process(x)
    assert y.shape == (1000,)
    np.testing.assert_array_equal(y, x * np.float32(0.5))
    # (frames, 1) in gives (frames, 1) out.
    assert k.instance().process(x[:, None]).shape == (1000, 1)


def test_float64_is_converted_and_out_is_written(rng):
    k = dspjit.compile_source("io 2 -> 2; process { out = in * 2; }")
    x = rng.standard_normal((500, 2))
    out = np.zeros((500, 2), np.float32)
    result = k.instance().process(x, out=out)
    assert result is out
    np.testing.assert_allclose(out, 2 * x, rtol=1e-6)


def test_non_contiguous_arrays_are_copied(rng):
    k = dspjit.compile_source("io 2 -> 2; process { out = in * 2; }")
    x = rng.standard_normal((1000, 4)).astype(np.float32)
    for view in (x[:, ::2], x[::3, 1:3], np.asfortranarray(x[:, :2]), x[::-1, :2]):
        np.testing.assert_array_equal(k.instance().process(view),
                                      2 * np.ascontiguousarray(view))


def test_out_overlapping_x_reads_x_first(rng):
    # A stereo swap reads both inputs of a frame before writing either.
    k = dspjit.compile_source("io 2 -> 2; process { out = [in[1], in[0]]; }")
    x = rng.standard_normal((300, 2)).astype(np.float32)
    expect = x[:, ::-1].copy()
    k.instance().process(x, out=x)
    np.testing.assert_array_equal(x, expect)


def test_generator_takes_a_frame_count(examples):
    k = dspjit.compile(examples / "additive.dsp")
    assert k.inputs == 0
    y = k.instance().process(4800)
    assert y.shape == (4800, k.outputs) and np.abs(y).max() > 0.01
    np.testing.assert_array_equal(dspjit.render(k, 4800), y)
    assert k.instance().process(np.int64(10)).shape == (10, k.outputs)


def test_parameter_changes_are_smoothed():
    k = dspjit.compile_source(
        "io 1 -> 1; param g = 1 in [0, 2] smooth 10 ms; process { out = in * g; }")
    fx = k.instance()
    ones = np.ones(64, np.float32)
    np.testing.assert_array_equal(fx.process(ones), ones)
    fx.params["g"] = 2
    assert fx.params["g"] == 2.0
    ramp = fx.process(np.ones(2000, np.float32))
    # From 1 towards 2, never back, there within 1.42 smoothing times.
    assert 1.0 <= ramp[0] < 1.2
    assert np.all(np.diff(ramp) >= 0)
    assert ramp[int(0.0142 * RATE) + 64] == pytest.approx(2.0, abs=1e-6)
    assert fx.smoothed("g") == pytest.approx(2.0, abs=1e-6)
    # reset: back to the default.
    fx.reset()
    assert fx.params["g"] == 1.0 and fx.frames_processed == 0


def test_set_immediate_starts_without_a_ramp():
    k = dspjit.compile_source(
        "io 1 -> 1; param g = 1 in [0, 2]; process { out = in * g; }")
    y = dspjit.render(k, np.ones(100, np.float32), set={"g": 0.5})
    np.testing.assert_array_equal(y, np.full(100, 0.5, np.float32))


def test_meters(examples):
    k = dspjit.compile_source(
        "io 1 -> 1; meter level; process { out = in; level = in * 2; }")
    fx = k.instance()
    assert dict(fx.meters.items()) == {"level": 0.0}
    fx.process(np.linspace(0, 0.25, 100, dtype=np.float32))
    assert fx.meters["level"] == pytest.approx(0.5)
    # A stereo meter: one lane per channel, a tuple.
    fx = dspjit.compile(examples / "meter.dsp").instance()
    x = np.empty((RATE * 2, 2), np.float32)
    x[:, 0], x[:, 1] = 0.5, 0.25
    fx.process(x)
    left, right = fx.meters["rms"]
    assert left == pytest.approx(20 * math.log10(0.5), abs=0.05)
    assert right == pytest.approx(20 * math.log10(0.25), abs=0.05)
    assert set(fx.meters) == {"rms", "peak"} and "rms" in fx.meters


def test_kernel_description(examples):
    k = dspjit.compile(examples / "echo.dsp", sample_rate=44100, opt=0)
    assert (k.inputs, k.outputs, k.sample_rate, k.voices) == (2, 2, 44100.0, 0)
    assert k.params[1] == dspjit.Param("feedback", 0.4, 0.0, 0.95, "", 0.01)
    assert [p.name for p in k.params] == ["time", "feedback", "mix"]
    assert k.params[0].unit == "s" and k.meters == ()
    assert repr(k) == ("<dspjit.Kernel echo.dsp: io 2 -> 2 at 44100 Hz; params "
                       "time=0.35 [0.01, 2] s, feedback=0.4 [0, 0.95], mix=0.3 [0, 1]>")
    fx = k.instance()
    assert repr(fx.params) == "{'time': 0.35, 'feedback': 0.4, 'mix': 0.3}"
    assert fx.kernel is k


def test_instance_keeps_its_kernel_alive(rng):
    fx = dspjit.compile_source("io 1 -> 1; process { out = in * 3; }").instance()
    gc.collect()
    x = rng.standard_normal(256).astype(np.float32)
    np.testing.assert_array_equal(fx.process(x), 3 * x)
    assert fx.kernel.name == "<source>"


def test_callback_address_is_a_stream_callback(examples, rng):
    """The two addresses are what PortAudio takes: call the callback
    through ctypes with the instance as userData, as a stream would."""
    k = dspjit.compile(examples / "echo.dsp")
    fx = k.instance()
    callback = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong,
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p)(k.callback_address)
    x = rng.standard_normal((256, 2)).astype(np.float32)
    out = np.zeros_like(x)
    for start in range(0, 256, 64):
        assert callback(x[start:].ctypes.data, out[start:].ctypes.data, 64,
                        None, 0, fx.userdata_address) == 0  # paContinue
    assert fx.callbacks == 4 and fx.frames_processed == 256
    np.testing.assert_array_equal(out, k.instance().process(x))


def test_read_and_write_audio(rng, tmp_path):
    x = rng.standard_normal((1000, 2)).astype(np.float32) * 0.1
    dspjit.write_audio(str(tmp_path / "a.wav"), x, 44100)
    y, rate, fmt = dspjit.read_audio(str(tmp_path / "a.wav"))
    assert (rate, fmt, y.dtype) == (44100.0, "float", np.float32)
    np.testing.assert_array_equal(y, x)
    dspjit.write_audio(str(tmp_path / "m.wav"), x[:, 0].astype(np.float64), 48000, "16")
    y, rate, fmt = dspjit.read_audio(str(tmp_path / "m.wav"))
    assert (y.shape, rate, fmt) == ((1000, 1), 48000.0, "16-bit")
    np.testing.assert_allclose(y[:, 0], x[:, 0], atol=1 / 32768)
    with pytest.raises(ValueError, match="invalid sample format '12'"):
        dspjit.write_audio(str(tmp_path / "b.wav"), x, 48000, "12")
    with pytest.raises(OSError, match="cannot open"):
        dspjit.read_audio(str(tmp_path / "none.wav"))


def test_process_file(examples, rng, tmp_path):
    import wave  # writes the input; reading the output is done by hand
    x = (rng.standard_normal((RATE // 4, 2)) * 4000).astype(np.int16)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(x.tobytes())
    info = dspjit.process_file(examples / "echo.dsp", src, dst,
                               set={"feedback": 0.6}, tail=0.5)
    assert info["frames"] == len(x) + RATE // 2 and info["channels"] == 2
    # libsndfile writes WAVE_FORMAT_EXTENSIBLE, which the wave module cannot
    # read: the chunks by hand. 16-bit PCM in, 16-bit PCM out.
    data, chunks = dst.read_bytes(), {}
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        chunks[tag] = data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    fmt = chunks[b"fmt "]
    assert int.from_bytes(fmt[4:8], "little") == RATE
    assert int.from_bytes(fmt[14:16], "little") == 16
    y = np.frombuffer(chunks[b"data"], np.int16).reshape(-1, 2)
    padded = np.concatenate([x / 32768, np.zeros((RATE // 2, 2))]).astype(np.float32)
    ref = dspjit.render(examples / "echo.dsp", padded, RATE, set={"feedback": 0.6})
    np.testing.assert_allclose(y / 32768, ref, atol=1.5 / 32768)
