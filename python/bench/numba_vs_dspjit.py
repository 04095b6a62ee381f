"""dspjit kernels against Numba cfunc callbacks, the seeds' approach.

    PYTHONPATH=build/python /usr/bin/python3 python/bench/numba_vs_dspjit.py

The same five effects (a one-pole lowpass, an RBJ biquad lowpass, the echo,
a tanh drive into a one-pole tone filter, Freeverb) as dspjit scripts
(examples/) and as Numba `cfunc`s with PortAudio's callback signature,
written the way the Numba blog writes its callback: carray views of the
buffers, a loop over frames, state kept between calls (here in an array
passed as userData, since Numba freezes global arrays as constants). Both
run on the same 64-frame blocks of the same stereo noise, called through
their function pointers by the same small C loop (compiled here with cffi),
so neither pays for an interpreter per block. Prints ns per frame (best of
5 runs over 10 s of audio), the ratio, and each compile time (Numba's
cfunc compile, dspjit.compile without the object cache), after checking
that each pair computes the same samples. Not a test: run it on a quiet
machine.
"""

import math
import os
import pathlib
import sys
import tempfile
import time

import cffi
import numpy as np

import dspjit

ROOT = pathlib.Path(__file__).resolve().parents[2]
RATE, BLOCK = 48000, 64
FRAMES = RATE * 10

# The driver: every block through a callback pointer, timed in C.
DRIVER_CDEF = """
double drive(void *callback, void *user, const float *in, float *out,
             unsigned long frames, unsigned long block, int inputs, int outputs);
"""
DRIVER_SOURCE = """
#include <time.h>
typedef int (*Callback)(const void *, void *, unsigned long, const void *,
                        unsigned long, void *);
double drive(void *callback, void *user, const float *in, float *out,
             unsigned long frames, unsigned long block, int inputs, int outputs) {
  Callback cb = (Callback)callback;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (unsigned long done = 0; done < frames; done += block) {
    unsigned long n = frames - done < block ? frames - done : block;
    cb(in + done * inputs, out + done * outputs, n, 0, 0, user);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec);
}
"""


def build_driver():
    ffi = cffi.FFI()
    ffi.cdef(DRIVER_CDEF)
    ffi.set_source("_dspjit_bench_driver", DRIVER_SOURCE, extra_compile_args=["-O2"])
    where = tempfile.mkdtemp(prefix="dspjit-bench-")
    ffi.compile(tmpdir=where, verbose=False)
    sys.path.insert(0, where)
    import _dspjit_bench_driver
    return _dspjit_bench_driver


# --- The Numba callbacks ----------------------------------------------------

def numba_effects():
    """(name, script, make_callback, state_size) for each effect:
    make_callback compiles the cfunc (with the script's default parameter
    values as constants); its state is a float32 array of state_size,
    passed as userData."""
    from numba import carray, cfunc, types

    sig = types.intc(types.CPointer(types.float32), types.CPointer(types.float32),
                     types.ulong, types.voidptr, types.ulong, types.voidptr)
    tau = 2 * math.pi

    def onepole():
        cutoff = 1000.0

        @cfunc(sig, nopython=True, error_model="numpy")
        def callback(in_, out, frames, time_info, status, user):
            x = carray(in_, (frames, 2))
            y = carray(out, (frames, 2))
            s = carray(user, (2,), np.float32)
            a = np.float32(1 - math.exp(-tau * cutoff / RATE))
            for n in range(frames):
                for c in range(2):
                    s[c] += a * (x[n, c] - s[c])
                    y[n, c] = s[c]
            return 0
        return callback
    yield "onepole", "lowpass.dsp", onepole, 2

    def biquad():
        freq, q = 1000.0, 0.707

        @cfunc(sig, nopython=True, error_model="numpy")
        def callback(in_, out, frames, time_info, status, user):
            x = carray(in_, (frames, 2))
            y = carray(out, (frames, 2))
            s = carray(user, (8,), np.float32)  # x1, x2, y1, y2 per channel
            w0 = tau * freq / RATE
            c, alpha = math.cos(w0), math.sin(w0) / (2 * q)
            a0 = 1 + alpha
            b0 = np.float32((1 - c) / 2 / a0)
            b1 = np.float32((1 - c) / a0)
            a1 = np.float32(-2 * c / a0)
            a2 = np.float32((1 - alpha) / a0)
            for n in range(frames):
                for ch in range(2):
                    k = 4 * ch
                    v = b0 * x[n, ch] + b1 * s[k] + b0 * s[k + 1] - a1 * s[k + 2] - a2 * s[k + 3]
                    s[k + 1] = s[k]
                    s[k] = x[n, ch]
                    s[k + 3] = s[k + 2]
                    s[k + 2] = v
                    y[n, ch] = v
            return 0
        return callback
    yield "biquad", "biquad.dsp", biquad, 8

    LINE = 131072  # 2 s at 48 kHz, a power of two

    def echo():
        @cfunc(sig, nopython=True, error_model="numpy")
        def callback(in_, out, frames, time_info, status, user):
            x = carray(in_, (frames, 2))
            y = carray(out, (frames, 2))
            s = carray(user, (2 * LINE + 1,), np.float32)  # two rings, position
            d = np.float32(0.35) * np.float32(RATE)
            i = int(d)
            f = d - np.float32(i)
            fb, mix = np.float32(0.4), np.float32(0.3)
            pos = int(s[2 * LINE])
            for n in range(frames):
                for c in range(2):
                    base = c * LINE
                    t0 = s[base + ((pos - i) & (LINE - 1))]
                    t1 = s[base + ((pos - i - 1) & (LINE - 1))]
                    wet = t0 + f * (t1 - t0)
                    s[base + pos] = x[n, c] + fb * wet
                    y[n, c] = x[n, c] + mix * (wet - x[n, c])
                pos = (pos + 1) & (LINE - 1)
            s[2 * LINE] = pos
            return 0
        return callback
    yield "echo", "echo.dsp", echo, 2 * LINE + 1

    def drive():
        @cfunc(sig, nopython=True, error_model="numpy")
        def callback(in_, out, frames, time_info, status, user):
            x = carray(in_, (frames, 2))
            y = carray(out, (frames, 2))
            s = carray(user, (2,), np.float32)
            gain = np.float32(10 ** (12 / 20))
            level = np.float32(10 ** (-6 / 20))
            a = np.float32(1 - math.exp(-tau * 6000 / RATE))
            for n in range(frames):
                for c in range(2):
                    s[c] += a * (math.tanh(x[n, c] * gain) - s[c])
                    y[n, c] = level * s[c]
            return 0
        return callback
    yield "tanh drive", "distortion.dsp", drive, 2

    scale = RATE / 44100
    combs = [round(t * scale) for t in (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)]
    combs_r = [round((t + 23) * scale) for t in (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)]
    alls = [round(t * scale) for t in (556, 441, 341, 225)]
    alls_r = [round((t + 23) * scale) for t in (556, 441, 341, 225)]
    lengths = np.array(combs + combs_r + alls + alls_r, np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # Layout: every line's samples, then a position per line, then the
    # 16 combs' lowpass states.
    total = int(offsets[-1])
    size = total + 24 + 16

    def freeverb():
        @cfunc(sig, nopython=True, error_model="numpy")
        def callback(in_, out, frames, time_info, status, user):
            x = carray(in_, (frames, 2))
            y = carray(out, (frames, 2))
            s = carray(user, (size,), np.float32)
            feedback = np.float32(0.7 + 0.28 * 0.5)
            damp = np.float32(0.4 * 0.5)
            wet1 = np.float32(3 * (1 / 3) * 1.0)
            for n in range(frames):
                inp = np.float32(0.015) * (x[n, 0] + x[n, 1])
                left = np.float32(0)
                right = np.float32(0)
                for k in range(16):
                    p = int(s[total + k])
                    delayed = s[offsets[k] + p]
                    low = delayed * (1 - damp) + s[total + 24 + k] * damp
                    s[total + 24 + k] = low
                    s[offsets[k] + p] = inp + low * feedback
                    s[total + k] = (p + 1) % lengths[k]
                    if k < 8:
                        left += delayed
                    else:
                        right += delayed
                for k in range(16, 24):
                    p = int(s[total + k])
                    delayed = s[offsets[k] + p]
                    v = left if k < 20 else right
                    s[offsets[k] + p] = v + delayed * np.float32(0.5)
                    s[total + k] = (p + 1) % lengths[k]
                    if k < 20:
                        left = delayed - v
                    else:
                        right = delayed - v
                y[n, 0] = left * wet1
                y[n, 1] = right * wet1
            return 0
        return callback
    yield "freeverb", "freeverb.dsp", freeverb, size


def main():
    driver = build_driver()
    ffi = cffi.FFI()
    x = np.random.default_rng(0).standard_normal((FRAMES, 2)).astype(np.float32) * 0.3
    rows = []
    # Each compiler's one-time start-up (Numba's typing machinery, LLVM's
    # initialization in both), paid by the first compile of a process and
    # shown apart, so that each effect's compile time is its own.
    from numba import cfunc, types
    start = time.perf_counter()
    cfunc(types.intc(types.intc))(lambda v: v + 1)
    numba_startup = time.perf_counter() - start
    start = time.perf_counter()
    dspjit.compile_source("io 1 -> 1; process { out = in + 1; }")
    dspjit_startup = time.perf_counter() - start
    for name, script, make, state_size in numba_effects():
        start = time.perf_counter()
        callback = make()
        numba_compile = time.perf_counter() - start
        start = time.perf_counter()
        kernel = dspjit.compile(ROOT / "examples" / script, sample_rate=RATE)
        dspjit_compile = time.perf_counter() - start

        def run(address, user):
            out = np.zeros_like(x)
            seconds = driver.lib.drive(
                ffi.cast("void *", address), ffi.cast("void *", user),
                ffi.cast("float *", x.ctypes.data), ffi.cast("float *", out.ctypes.data),
                FRAMES, BLOCK, 2, 2)
            return seconds, out

        best = {"numba": math.inf, "dspjit": math.inf}
        outputs = {}
        for _ in range(5):
            state = np.zeros(state_size, np.float32)
            seconds, outputs["numba"] = run(callback.address, state.ctypes.data)
            best["numba"] = min(best["numba"], seconds)
            fx = kernel.instance()
            seconds, outputs["dspjit"] = run(kernel.callback_address, fx.userdata_address)
            best["dspjit"] = min(best["dspjit"], seconds)
        a, b = outputs["numba"], outputs["dspjit"]
        error = np.abs(a - b).max() / max(np.abs(b).max(), 1e-9)
        ns = {k: v / FRAMES * 1e9 for k, v in best.items()}
        rows.append((name, ns["numba"], ns["dspjit"], ns["numba"] / ns["dspjit"],
                     numba_compile * 1e3, dspjit_compile * 1e3, error))

    print(f"{FRAMES} stereo frames in {BLOCK}-frame blocks at {RATE} Hz, best of 5; "
          f"Numba {__import__('numba').__version__}, dspjit {dspjit.compiler_version}")
    print(f"first compile of a process (start-up, not in the table): Numba "
          f"{numba_startup * 1e3:.0f} ms, dspjit {dspjit_startup * 1e3:.0f} ms")
    print()
    print("| effect | Numba ns/frame | dspjit ns/frame | Numba / dspjit | Numba compile | dspjit compile | max difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, nb, dj, ratio, nbc, djc, err in rows:
        print(f"| {name} | {nb:.2f} | {dj:.2f} | {ratio:.2f} | {nbc:.0f} ms | {djc:.0f} ms | {err:.1e} |")


if __name__ == "__main__":
    main()
