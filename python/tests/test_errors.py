"""Every mistake a caller can make is a Python exception (or a warning)
with the C++ libraries' message, never a crash."""

import math
import warnings

import numpy as np
import pytest

import dspjit


@pytest.fixture
def echo(examples):
    return dspjit.compile(examples / "echo.dsp").instance()


def test_compile_error_carries_the_cli_text_and_the_diagnostics(tmp_path):
    script = tmp_path / "broken.dsp"
    script.write_text("io 1 -> 1;\nparam cutoff = 1 in [0, 2];\n"
                      "process { out = in * cutof + malloc(8); }\n")
    with pytest.raises(dspjit.CompileError) as e:
        dspjit.compile(script)
    text = str(e.value)
    assert text.startswith(f"{script}:3:22: error: unknown name 'cutof'; did you mean 'cutoff'?\n")
    assert "process { out = in * cutof + malloc(8); }\n                     ^~~~~" in text
    ids = [(line, col, ident) for line, col, ident, _ in e.value.diagnostics]
    assert ids == [(3, 22, "UnknownNameSuggest"), (3, 30, "UnknownFunction")]
    assert all(isinstance(m, str) for *_, m in e.value.diagnostics)


def test_compile_source_names_the_source_in_messages():
    with pytest.raises(dspjit.CompileError, match=r"^fx\.dsp:1:1: error: "):
        dspjit.compile_source("oi 1 -> 1;", name="fx.dsp")


def test_missing_file_is_a_compile_error():
    with pytest.raises(dspjit.CompileError, match="cannot read 'no-such.dsp'"):
        dspjit.compile("no-such.dsp")


def test_compile_warnings_are_python_warnings():
    with pytest.warns(dspjit.CompileWarning, match=r"'u' is never used \[-Wunused-let\]"):
        dspjit.compile_source("io 1 -> 1; process { let u = 3; out = in; }")


@pytest.mark.parametrize("kwargs,message", [
    ({"sample_rate": 0}, "sample_rate must be a positive rate"),
    ({"sample_rate": -48000}, "sample_rate must be a positive rate"),
    ({"opt": 4}, "opt must be 0, 1, 2 or 3"),
])
def test_bad_compile_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dspjit.compile_source("io 1 -> 1; process { out = in; }", **kwargs)


def test_wrong_channel_count(echo):
    with pytest.raises(ValueError, match=r"^x has 1 channel but echo\.dsp expects 2 \(io 2 -> 2\)$"):
        echo.process(np.zeros(100, np.float32))
    with pytest.raises(ValueError, match=r"^x has 3 channels but echo\.dsp expects 2"):
        echo.process(np.zeros((100, 3), np.float32))
    with pytest.raises(ValueError, match=r"x has 3 dimensions"):
        echo.process(np.zeros((100, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"echo\.dsp expects 2 channels of input"):
        echo.process(100)  # a frame count is for generators


def test_generator_refuses_input(examples):
    gen = dspjit.compile(examples / "additive.dsp").instance()
    with pytest.raises(ValueError, match=r"^x has 1 channel but additive\.dsp"):
        gen.process(np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="negative"):
        gen.process(-1)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint8, bool, np.complex64])
def test_non_float_samples_are_refused(echo, dtype):
    with pytest.raises(TypeError, match=f"x has dtype {np.dtype(dtype)}; dspjit processes float32"):
        echo.process(np.zeros((100, 2), dtype))


def test_other_inputs(echo):
    with pytest.raises(TypeError, match="dtype <U"):
        echo.process(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="dtype object"):
        echo.process([[None, 1]])
    # Lists of floats are arrays like any other.
    assert echo.process([[0.5, 0.25]]).shape == (1, 2)
    # Byte-swapped floats are converted.
    x = np.ones((10, 2), ">f8")
    assert echo.process(x).dtype == np.float32


def test_bad_out(echo):
    x = np.zeros((100, 2), np.float32)
    with pytest.raises(ValueError, match=r"out must have shape \(100, 2\) for echo\.dsp's 2 outputs"):
        echo.process(x, out=np.zeros((99, 2), np.float32))
    with pytest.raises(TypeError, match="out must be a writable, C-contiguous float32 array"):
        echo.process(x, out=np.zeros((100, 2), np.float64))
    with pytest.raises(TypeError, match="out must be a writable, C-contiguous float32 array"):
        echo.process(x, out=np.zeros((100, 4), np.float32)[:, ::2])
    readonly = np.zeros((100, 2), np.float32)
    readonly.flags.writeable = False
    with pytest.raises(TypeError, match="writable"):
        echo.process(x, out=readonly)
    with pytest.raises(TypeError, match="out must be a numpy array"):
        echo.process(x, out=[0] * 200)
    with pytest.raises(ValueError, match="block must be at least 1 frame"):
        echo.process(x, block=0)


def test_unknown_parameter(echo):
    with pytest.raises(dspjit.ParamError) as e:
        echo.params["feedbak"] = 0.5
    assert isinstance(e.value, KeyError)
    assert str(e.value) == ("unknown parameter 'feedbak'; did you mean 'feedback'? "
                            "(parameters: time, feedback, mix)")
    with pytest.raises(KeyError, match="unknown parameter 'nope'"):
        echo.params["nope"]
    with pytest.raises(KeyError, match="unknown parameter 'nope'"):
        echo.smoothed("nope")
    assert "nope" not in echo.params


def test_a_meter_is_not_a_parameter(examples):
    fx = dspjit.compile(examples / "meter.dsp").instance()
    with pytest.raises(KeyError, match="'rms' is a meter"):
        fx.params["rms"] = 1
    with pytest.raises(KeyError):
        fx.meters["window"]
    with pytest.raises(KeyError):
        fx.meters["nope"]


def test_out_of_range_is_clamped_with_a_warning(echo):
    with pytest.warns(dspjit.ParamWarning, match=r"'feedback' = 2 is outside \[0, 0\.95\]; using 0\.95"):
        echo.params["feedback"] = 2
    assert echo.params["feedback"] == 0.95
    with pytest.warns(dspjit.ParamWarning):
        assert echo.set_param("mix", -1) == 0.0
    # Warnings can be errors, as for any Python warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", dspjit.ParamWarning)
        with pytest.raises(dspjit.ParamWarning):
            echo.params["time"] = 100
    # In range: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        echo.params["time"] = 1


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e300])
def test_non_finite_values_are_refused(echo, value):
    with pytest.raises(ValueError, match="feedback"):
        echo.params["feedback"] = value
    assert echo.params["feedback"] == 0.4


def test_wrong_types_of_values(echo):
    with pytest.raises(TypeError):
        echo.params["feedback"] = "loud"
    with pytest.raises(TypeError):
        echo.params[3] = 0.5


def test_render_checks_the_kernel_rate(examples):
    k = dspjit.compile(examples / "echo.dsp", sample_rate=44100)
    with pytest.raises(ValueError, match="compiled for 44100 Hz, not 48000 Hz"):
        dspjit.render(k, np.zeros((10, 2), np.float32), 48000)


def test_process_file_errors(examples, tmp_path):
    with pytest.raises(OSError, match="cannot open"):
        dspjit.process_file(examples / "echo.dsp", tmp_path / "none.wav", tmp_path / "o.wav")
