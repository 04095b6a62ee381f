"""dspjit from Python: compile .dsp scripts into native audio kernels and run
them on numpy arrays, without the GIL.

    import dspjit, numpy as np
    k = dspjit.compile("examples/echo.dsp", sample_rate=48000)
    fx = k.instance()
    fx.params["feedback"] = 0.6
    y = fx.process(np.random.randn(48000, 2).astype(np.float32))

The compiler and runtime are the C++ libraries of the command line (the
extension dspjit._dspjit binds them); this file adds only one-line
conveniences on top.

For PortAudio (the Numba cfunc way): k.callback_address is the kernel's
PaStreamCallback, fx.userdata_address its userData. The instance holds the
kernel; keep the instance alive as long as a stream uses the two.
"""

import os as _os

from ._dspjit import (  # noqa: F401  (the public API)
    CompileError,
    CompileWarning,
    Instance,
    Kernel,
    Meter,
    Meters,
    Param,
    ParamError,
    ParamWarning,
    Params,
    compile,
    compile_source,
    compiler_version,
    read_audio,
    write_audio,
)
from . import _dspjit

__all__ = [
    "CompileError", "CompileWarning", "Instance", "Kernel", "Meter", "Param",
    "ParamError", "ParamWarning", "compile", "compile_source", "render",
    "process_file", "read_audio", "write_audio",
]


def render(script, x, sample_rate=None, set=None, block=64, opt=3):
    """Runs x through a script (a path, or a compiled Kernel) from a fresh
    instance and returns the output, as `dspjit render` would: `set`
    values apply from the first frame, without a ramp from the defaults.

    x is a (frames, channels) or (frames,) float array, or a frame count
    for a generator. sample_rate defaults to 48000 for a path and must
    match a Kernel's own rate (kernels are specialized to theirs).
    """
    if isinstance(script, Kernel):
        kernel = script
        if sample_rate is not None and float(sample_rate) != kernel.sample_rate:
            raise ValueError(
                f"{kernel.name} was compiled for {kernel.sample_rate:g} Hz, "
                f"not {float(sample_rate):g} Hz; compile it for that rate")
    else:
        kernel = compile(_os.fspath(script),
                         sample_rate=48000 if sample_rate is None else sample_rate,
                         opt=opt)
    fx = kernel.instance()
    for name, value in (set or {}).items():
        fx.set_param(name, value, immediate=True)
    return fx.process(x, block=block)


def process_file(script, in_path, out_path, set=None, block=64, tail=0.0,
                 opt=3, cache_dir=None):
    """`dspjit render SCRIPT IN OUT --set name=value...` as a call: compiles
    the script for the input file's rate, renders the file through it
    (tail: seconds of silence after it, for echoes and reverbs) and writes
    out_path in the input's sample format. Returns a dict: frames,
    channels, sample_rate, process_seconds, audio_seconds,
    realtime_factor, compile_seconds."""
    return _dspjit.process_file(
        _os.fspath(script), _os.fspath(in_path), _os.fspath(out_path),
        dict(set or {}), block, float(tail), opt,
        "" if cache_dir is None else _os.fspath(cache_dir))
