"""The seeds' way, for real: PortAudio opened through cffi (what
python-sounddevice does underneath) with a dspjit kernel's callback_address
and an instance's userdata_address, on a private JACK server with the dummy
driver. While the main thread holds the GIL in a busy Python loop, the
compiled callback keeps time; a Python callback in the same place falls
behind."""

import hashlib
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


CHUNK = bytes(1 << 20)


def run_busy(ffi, pa, callback, user, seconds=1.0, gil=True):
    """Runs an output stream on JACK's system ports for `seconds`, with the
    main thread busy: in a pure Python loop, holding the GIL but for the
    interpreter's switch interval, or (`gil=False`) hashing, which takes as
    much of a core with the GIL released. Returns the seconds it ran."""
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
        if gil:
            spins += 1  # pure Python: holds the GIL
        else:
            hashlib.sha256(CHUNK).digest()  # releases it
    check(ffi, pa, pa.Pa_StopStream(stream[0]))
    elapsed = time.perf_counter() - start
    check(ffi, pa, pa.Pa_CloseStream(stream[0]))
    return elapsed


def test_compiled_callback_keeps_time_while_python_is_busy(portaudio):
    ffi, pa = portaudio
    k = dspjit.compile_source(
        "io 0 -> 2; meter last; state n = 0; "
        "process { n = n + 1; last = n; out = [0.1, 0.1]; }", name="counter.dsp")
    callback = ffi.cast("PaStreamCallback *", k.callback_address)
    # What the dummy driver delivers on this machine right now with a core
    # as busy but the GIL free: on a loaded machine it runs fewer cycles
    # than the clock's periods (xruns), whoever the callback is. Rounds of
    # one and the other, alternating, so that a change of load between them
    # weighs on both.
    free_calls = free_time = held_time = 0
    held = []
    for _ in range(3):
        free = k.instance()
        free_time += run_busy(ffi, pa, callback,
                              ffi.cast("void *", free.userdata_address), gil=False)
        free_calls += free.callbacks
        fx = k.instance()
        held_time += run_busy(ffi, pa, callback,
                              ffi.cast("void *", fx.userdata_address))
        held.append(fx)
    cycles_per_second = free_calls / free_time
    periods = held_time * cycles_per_second
    held_calls = sum(fx.callbacks for fx in held)
    print(f"compiled: {held_calls} callbacks in {held_time:.2f} s with the GIL "
          f"held ({periods:.0f} expected from the runs without, "
          f"{held_time * RATE / PERIOD:.0f} periods of the clock)")
    # Every cycle the server ran with the GIL free, it runs while Python
    # holds it, but a few (those cut by start and stop), each a full block.
    assert held_calls >= 0.85 * periods
    for fx in held:
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
    periods = elapsed * cycles_per_second
    gap = np.diff(calls).max() * 1e3 if len(calls) > 1 else float("inf")
    print(f"python: {len(calls)} callbacks in {elapsed:.2f} s ({periods:.0f} "
          f"periods), {late[0]} flagged late, at most {gap:.1f} ms apart")
    # Waiting for the switch interval (5 ms) at every period of 1.3 ms, it
    # falls behind: periods lost, or callbacks told of an underflow.
    assert len(calls) < 0.8 * periods or late[0] > 0.1 * len(calls)
