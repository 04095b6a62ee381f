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
    "process_file", "read_audio", "write_audio", "Stream", "Event",
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


class Event(tuple):
    """One event of a live session: kind ("started", "reloaded",
    "reload-failed", "xrun", "stopped"...), text (the line `dspjit run`
    prints) and error (whether it deserves the user's attention)."""
    __slots__ = ()

    def __new__(cls, kind, text, error):
        return tuple.__new__(cls, (kind, text, error))

    kind = property(lambda self: self[0])
    text = property(lambda self: self[1])
    error = property(lambda self: self[2])

    def __repr__(self):
        return f"Event({self.kind!r}, {self.text!r})"


class _StreamParams:
    """stream.params["name"] = value: the session's control bus, as the
    console, OSC and the web panel set parameters (clamped, smoothed, kept
    across reloads)."""

    def __init__(self, stream):
        self._stream = stream

    def __setitem__(self, name, value):
        self._stream.set_param(name, value)


class _StreamMeters:
    def __init__(self, stream):
        self._stream = stream

    def __getitem__(self, name):
        return self._stream.meter(name)


class Stream:
    """A script live on an audio device: the session library that
    `dspjit run` is (session/Session.h), with the same devices, files,
    hot reload, events and timing summary.

        with dspjit.Stream("echo.dsp", play="drums.wav", record="out.wav",
                           set={"feedback": 0.6}) as s:
            s.params["mix"] = 0.5      # live, smoothed
            s.wait(10)                 # until the file ends, or 10 s
        print(s.summary["timing"]["callbacks"])

    script: a path (or a Kernel compiled from one: the session compiles the
    script anew, for the device's rate). rate: 0 for the device's. device,
    input_device, host_api: as `dspjit run --device/--input-device/--host-api`.
    block: frames per buffer, 0 for the server's period. play/loop, record/
    record_format, duration (seconds), watch (reload on save), set (initial
    values, without a ramp) as the command line's options.

    start() (or `with`) starts it; wait(timeout) waits until it should stop
    (its duration, the end of the played file, a failure); stop() stops it
    with the library's protocol and returns the summary as a dict (also
    .summary). events() returns the events since the last call. The
    session owns its kernels; no address of them is handed out.
    """

    def __init__(self, script, *, rate=0, device=None, input_device=None,
                 host_api=None, block=0, play=None, loop=False, record=None,
                 record_format="float", duration=None, watch=True, set=None,
                 opt=3, cache_dir=None):
        if isinstance(script, Kernel):
            if script.path is None:
                raise TypeError(
                    f"a Stream runs a script file (it watches it for hot "
                    f"reload); {script.name} was compiled from source text")
            script = script.path
        self._s = _dspjit._open_stream(
            _os.fspath(script), float(rate), opt, host_api or "", device or "",
            input_device or "", block, _os.fspath(play) if play else "", loop,
            _os.fspath(record) if record else "", record_format,
            float(duration or 0), watch, dict(set or {}),
            _os.fspath(cache_dir) if cache_dir else "")
        self.params = _StreamParams(self._s)
        self.meters = _StreamMeters(self._s)
        self.summary = None

    @property
    def sample_rate(self):
        return self._s.sample_rate

    def start(self):
        self._s.start()
        return self

    def wait(self, timeout=None):
        """Waits until the session should stop; False if `timeout` seconds
        passed first."""
        return self._s.wait(-1.0 if timeout is None else float(timeout))

    def done(self):
        return self._s.done()

    def stop(self):
        """Stops (idempotent) and returns the summary: why, errors,
        exit_status, failed, recording, reloads, failed_reloads, timing (the
        --stats-json dict) and text (the table `dspjit run` prints)."""
        self.summary = self._s.stop()
        return self.summary

    def events(self):
        return [Event(*e) for e in self._s.events()]

    def timing(self):
        """The timing so far, as stop()'s summary["timing"]."""
        return self._s.timing()

    def reload(self):
        """Compiles and swaps in the script now, as if it had been saved."""
        self._s.reload()

    def close(self):
        """Stops if needed and frees the session (the stream, the kernels)."""
        if self.summary is None:
            self.stop()
        self._s.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False
