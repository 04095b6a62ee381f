"""The seeds' way, for real: PortAudio opened through cffi (what
python-sounddevice does underneath) with a dspjit kernel's callback_address
and an instance's userdata_address, on a private JACK server with the dummy
driver. While the main thread holds the GIL in a busy Python loop, the
compiled callback keeps time; a Python callback in the same place falls
behind."""

import time

import numpy as np
import pytest

import dspjit
from dspjit.portaudio import CDEF, PA_FLOAT32, PA_JACK, PA_OUTPUT_UNDERFLOW

cffi = pytest.importorskip("cffi")

from conftest import PERIOD, RATE


@pytest.fixture(scope="module")
def portaudio(jack_server):
    """PortAudio through cffi, on the private jackd."""
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    try:
        pa = ffi.dlopen("libportaudio.so.2")
    except OSError:
        pytest.skip("no libportaudio.so.2 (Debian libportaudio2)")
    check(ffi, pa, pa.Pa_Initialize())
    yield ffi, pa
    pa.Pa_Terminate()


def check(ffi, pa, error):
    if error < 0:
        raise RuntimeError(ffi.string(pa.Pa_GetErrorText(error)).decode())


def run_busy(ffi, pa, callback, user, seconds=1.0):
    """Runs an output stream on JACK's system ports for `seconds`, with the
    main thread in a busy Python loop (holding the GIL but for the
    interpreter's switch interval). Returns the seconds it ran."""
    api = pa.Pa_HostApiTypeIdToHostApiIndex(PA_JACK)
    assert api >= 0, "PortAudio has no JACK host API"
    device = pa.Pa_GetHostApiInfo(api).defaultOutputDevice
    out = ffi.new("PaStreamParameters *", {
        "device": device, "channelCount": 2, "sampleFormat": PA_FLOAT32,
        "suggestedLatency": pa.Pa_GetDeviceInfo(device).defaultLowOutputLatency})
    stream = ffi.new("PaStream **")
    check(ffi, pa, pa.Pa_OpenStream(stream, ffi.NULL, out, RATE, PERIOD, 0,
                                    callback, user))
    start = time.perf_counter()
    check(ffi, pa, pa.Pa_StartStream(stream[0]))
    spins = 0
    while time.perf_counter() - start < seconds:
        spins += 1  # pure Python: holds the GIL
    check(ffi, pa, pa.Pa_StopStream(stream[0]))
    elapsed = time.perf_counter() - start
    check(ffi, pa, pa.Pa_CloseStream(stream[0]))
    return elapsed


def test_compiled_callback_keeps_time_while_python_is_busy(portaudio):
    ffi, pa = portaudio
    k = dspjit.compile_source(
        "io 0 -> 2; meter last; state n = 0; "
        "process { n = n + 1; last = n; out = [0.1, 0.1]; }", name="counter.dsp")
    fx = k.instance()
    elapsed = run_busy(ffi, pa, ffi.cast("PaStreamCallback *", k.callback_address),
                       ffi.cast("void *", fx.userdata_address))
    periods = elapsed * RATE / PERIOD
    print(f"compiled: {fx.callbacks} callbacks in {elapsed:.2f} s "
          f"({periods:.0f} periods)")
    # Every period ran but a few (those cut by start and stop, and the
    # dummy driver's own lateness on a loaded machine), each a full block.
    assert fx.callbacks >= 0.85 * periods
    assert fx.frames_processed == fx.callbacks * PERIOD
    # The kernel's own count of frames, read back through its meter.
    assert fx.meters["last"] == float(fx.frames_processed)
    assert fx.nonfinite_samples == 0

    # A Python callback in the same place needs the GIL for every period.
    calls, late = [], [0]

    @ffi.callback("PaStreamCallback")
    def python_callback(inp, out, frames, time_info, flags, user):
        calls.append(time.perf_counter())
        if flags & PA_OUTPUT_UNDERFLOW:
            late[0] += 1
        ffi.memmove(out, bytes(frames * 8), frames * 8)
        return 0

    elapsed = run_busy(ffi, pa, python_callback, ffi.NULL)
    periods = elapsed * RATE / PERIOD
    gap = np.diff(calls).max() * 1e3 if len(calls) > 1 else float("inf")
    print(f"python: {len(calls)} callbacks in {elapsed:.2f} s ({periods:.0f} "
          f"periods), {late[0]} flagged late, at most {gap:.1f} ms apart")
    # Waiting for the switch interval (5 ms) at every period of 1.3 ms, it
    # falls behind: periods lost, or callbacks told of an underflow.
    assert len(calls) < 0.8 * periods or late[0] > 0.1 * len(calls)
