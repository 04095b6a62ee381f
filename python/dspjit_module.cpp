//===- python/dspjit_module.cpp - The Python module, `dspjit._dspjit` -----===//
//
// Python bindings of the compiler and the runtime, with pybind11. Thin on
// purpose: every decision (what compiles, how a parameter is clamped, which
// input fits a kernel, how a file is rendered) is the C++ libraries', and
// their messages reach Python unchanged, so that Python and the command line
// say the same thing about the same mistake. What is here is conversion:
// numpy arrays to interleaved float buffers, Results and ParamUpdates to
// exceptions and warnings.
//
// Ownership: a Python Kernel holds the compiled code (a shared_ptr to the
// C++ Kernel); every Instance made from it holds that shared_ptr too, so the
// code outlives every instance that runs it, whatever Python collects
// first. The addresses handed out for PortAudio (callback_address,
// userdata_address) are valid while the Instance object is alive.
//
// Threads: process() releases the GIL while the kernel runs, with every
// pointer taken and every Python object converted beforehand; nothing
// between the release and the re-acquire touches Python. One instance runs
// on one thread at a time: a second thread that calls process() or reset()
// on an instance that is running gets an exception, never a data race on
// the kernel's state.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/AudioFile.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"
#include "session/Session.h"

#include <pybind11/eval.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace py = pybind11;
using namespace dspjit;

namespace {

/// Python types made once at import and kept for the life of the process.
/// Raw, leaked references: a static py::object would be released after the
/// interpreter is gone, at exit.
struct ModuleTypes {
  PyObject *CompileError = nullptr;
  PyObject *CompileWarning = nullptr;
  PyObject *ParamError = nullptr;
  PyObject *ParamWarning = nullptr;
  PyObject *Param = nullptr; // namedtuple
  PyObject *Meter = nullptr; // namedtuple
};
ModuleTypes Types;

[[noreturn]] void raise(PyObject *Type, const std::string &Message) {
  PyErr_SetString(Type, Message.c_str());
  throw py::error_already_set();
}

/// A compiled script. Shared between the Python Kernel and its instances.
struct PyKernel {
  std::unique_ptr<Kernel> K;
  /// Names the kernel in messages, as the command line does: the script's
  /// file name ("echo.dsp"), or the name given with the source.
  std::string Name;
  std::string Path; ///< empty for compile_source
  double CompileSeconds = 0;
  bool Cached = false;

  const DspjitKernel &info() const { return K->info(); }
};

/// The diagnostics of a compile as (line, column, id, message); line and
/// column are 0 for a diagnostic without a location. Plain values: made on
/// any thread, turned into Python objects with the GIL.
using DiagnosticTuple =
    std::tuple<unsigned, unsigned, std::string, std::string>;
std::vector<DiagnosticTuple> diagnosticTuples(const DiagnosticEngine &D) {
  std::vector<DiagnosticTuple> L;
  for (const Diagnostic &Diag : D.all()) {
    unsigned Line = 0, Column = 0;
    if (Diag.Loc.isValid())
      std::tie(Line, Column) = D.sources().lineColumn(Diag.Loc);
    L.emplace_back(Line, Column, diagName(Diag.Id), Diag.Message);
  }
  return L;
}

/// Raises CompileError: the printed text, and the diagnostics as data.
[[noreturn]] void raiseCompileError(const std::string &Printed,
                                    const std::vector<DiagnosticTuple> &Diags) {
  py::object Error =
      py::reinterpret_borrow<py::object>(Types.CompileError)(Printed);
  Error.attr("diagnostics") = py::cast(Diags);
  PyErr_SetObject(Types.CompileError, Error.ptr());
  throw py::error_already_set();
}

std::string printed(const DiagnosticEngine &D) {
  std::ostringstream OS;
  D.print(OS, /*Color=*/false);
  std::string Text = OS.str();
  while (!Text.empty() && Text.back() == '\n')
    Text.pop_back();
  return Text;
}

/// Runs one compile with the GIL released (a compile takes milliseconds to
/// seconds, and other threads may compile or process meanwhile), then turns
/// its diagnostics into CompileError or warnings.
std::shared_ptr<PyKernel> compileWith(double SampleRate, unsigned Opt,
                                      const std::string &CacheDir,
                                      const std::string *Path,
                                      const std::string &Name,
                                      const std::string *Text) {
  if (!(SampleRate > 0) || SampleRate > 1e7)
    raise(PyExc_ValueError, "sample_rate must be a positive rate in Hz, not " +
                                std::to_string(SampleRate));
  if (Opt > 3)
    raise(PyExc_ValueError,
          "opt must be 0, 1, 2 or 3, not " + std::to_string(Opt));
  CompileOptions Options;
  // The same environment the command line honours (DSPJIT_CPU...).
  applyEnvironment(Options);
  Options.sampleRate = SampleRate;
  Options.optLevel = Opt;
  Options.cacheDir = CacheDir;
  Compiler C(Options);
  std::unique_ptr<Kernel> K;
  {
    py::gil_scoped_release Release;
    K = Path ? C.compileFile(*Path) : C.compileSource(Name, *Text);
  }
  const DiagnosticEngine &D = C.diagnostics();
  if (!K) {
    std::string Message = printed(D);
    if (Message.empty())
      Message = Name + ": does not compile";
    raiseCompileError(Message, diagnosticTuples(D));
  }
  // Warnings of a compile that succeeded: Python's warnings, so that a
  // notebook shows them once and a test can turn them into errors.
  if (!D.all().empty()) {
    std::string Message = printed(D);
    if (PyErr_WarnEx(Types.CompileWarning, Message.c_str(), 1) != 0)
      throw py::error_already_set();
  }
  auto P = std::make_shared<PyKernel>();
  P->K = std::move(K);
  P->Name = Name;
  P->Path = Path ? *Path : "";
  P->CompileSeconds = C.times().total();
  P->Cached = C.times().cached;
  return P;
}

/// A float32 setting as the double a user wrote: 0.35f is
/// 0.3499999940395355 as a double, but its shortest decimal form, 0.35, is
/// what the script says and what a notebook should show.
double asWritten(float V) {
  char Buf[32];
  auto [End, Ec] = std::to_chars(Buf, Buf + sizeof Buf, V);
  if (Ec != std::errc())
    return V;
  *End = 0;
  return std::strtod(Buf, nullptr);
}

std::string baseName(const std::string &Path) {
  return std::filesystem::path(Path).filename().string();
}

std::string number(double V) {
  std::ostringstream OS;
  OS << V;
  return OS.str();
}

std::string kernelRepr(const PyKernel &P) {
  const DspjitKernel &K = P.info();
  std::string S =
      "<dspjit.Kernel " + P.Name + ": io " + std::to_string(K.inputs) + " -> " +
      std::to_string(K.outputs) + " at " + number(K.sample_rate) + " Hz";
  if (K.voices)
    S += ", " + std::to_string(K.voices) + " voices";
  std::string Params, Meters;
  for (uint32_t I = 0; I < K.num_slots; ++I) {
    const DspjitSlot &Slot = K.slots[I];
    if (Slot.kind == DSPJIT_SLOT_PARAM) {
      Params += Params.empty() ? "" : ", ";
      Params += std::string(Slot.name) + "=" + number(Slot.def) + " [" +
                number(Slot.min) + ", " + number(Slot.max) + "]";
      if (Slot.unit && *Slot.unit)
        Params += std::string(" ") + Slot.unit;
    } else if (Slot.kind == DSPJIT_SLOT_METER) {
      Meters += Meters.empty() ? "" : ", ";
      Meters += Slot.name;
      if (Slot.width > 1)
        Meters += "[" + std::to_string(Slot.width) + "]";
    }
  }
  if (!Params.empty())
    S += "; params " + Params;
  if (!Meters.empty())
    S += "; meters " + Meters;
  return S + ">";
}

/// The kernel's parameters as Param tuples, or its meters as Meter tuples,
/// in script order.
py::tuple kernelSlots(const PyKernel &P, DspjitSlotKind Kind) {
  const DspjitKernel &K = P.info();
  py::list L;
  for (uint32_t I = 0; I < K.num_slots; ++I) {
    const DspjitSlot &S = K.slots[I];
    if (S.kind != uint32_t(Kind))
      continue;
    if (Kind == DSPJIT_SLOT_PARAM)
      L.append(py::handle(Types.Param)(
          S.name, asWritten(S.def), asWritten(S.min), asWritten(S.max),
          S.unit ? S.unit : "", asWritten(S.smooth_seconds)));
    else
      L.append(py::handle(Types.Meter)(S.name, S.width));
  }
  return py::tuple(L);
}

/// One running instance, shared by the Python Instance and its params and
/// meters mappings (which may outlive the Instance object).
struct PyInstance {
  std::shared_ptr<PyKernel> Kernel; // declared first: destroyed last
  Instance I;
  /// Set while a thread runs the kernel on this instance (process, reset).
  std::atomic<bool> Busy{false};

  PyInstance(std::shared_ptr<PyKernel> K, Instance I)
      : Kernel(std::move(K)), I(std::move(I)) {}
};

/// Claims an instance for one thread for a scope, or refuses.
class BusyGuard {
public:
  explicit BusyGuard(PyInstance &P) : P(P) {
    if (P.Busy.exchange(true, std::memory_order_acquire))
      raise(PyExc_RuntimeError,
            "this " + P.Kernel->Name +
                " instance is being processed by another thread; an "
                "instance runs on one thread at a time (make one instance "
                "per thread)");
  }
  ~BusyGuard() { P.Busy.store(false, std::memory_order_release); }
  BusyGuard(const BusyGuard &) = delete;
  BusyGuard &operator=(const BusyGuard &) = delete;

private:
  PyInstance &P;
};

std::shared_ptr<PyInstance> makeInstance(std::shared_ptr<PyKernel> K) {
  auto I = Instance::create(K->info(), K->info().sample_rate);
  if (!I)
    raise(PyExc_RuntimeError, I.error());
  return std::make_shared<PyInstance>(std::move(K), std::move(*I));
}

/// What the runtime said of a parameter update, in Python's terms: a
/// clamped value is a warning (as the command line warns), an unknown name
/// a ParamError (a KeyError), a non-finite value a ValueError. Returns the
/// value stored.
float reportParam(const ParamUpdate &U) {
  switch (U.Status) {
  case ParamUpdate::Set: break;
  case ParamUpdate::Clamped:
    if (PyErr_WarnEx(Types.ParamWarning, U.Message.c_str(), 1) != 0)
      throw py::error_already_set();
    break;
  case ParamUpdate::UnknownName:
  case ParamUpdate::NotAParam: raise(Types.ParamError, U.Message);
  case ParamUpdate::NotFinite: raise(PyExc_ValueError, U.Message);
  }
  return U.Value;
}

/// Sets a parameter of an instance (see reportParam).
float setParam(PyInstance &P, const std::string &Name, double Value,
               bool Immediate) {
  // Doubles beyond float's range become infinities, refused below as the
  // runtime refuses them; a large finite float is clamped.
  float V = float(Value);
  ParamUpdate U;
  if (Immediate) {
    BusyGuard Guard(P);
    U = P.I.setParamImmediate(Name, V);
  } else {
    // A target store is safe while another thread processes (the ABI's
    // contract): no guard, so that a control thread can move a parameter
    // while a worker thread renders.
    U = P.I.setParam(Name, V);
  }
  return reportParam(U);
}

std::vector<std::string> names(const PyInstance &P, DspjitSlotKind Kind) {
  return slotNames(P.I.kernel(), Kind);
}

/// `fx.params`: a live view of an instance's parameter targets.
struct ParamMap {
  std::shared_ptr<PyInstance> P;
};
/// `fx.meters`: a live view of an instance's meters.
struct MeterMap {
  std::shared_ptr<PyInstance> P;
};

py::object meterValue(const PyInstance &P, const std::string &Name) {
  auto M = P.I.meter(Name);
  if (!M)
    raise(Types.ParamError, M.error());
  if (M->size() == 1)
    return py::float_((*M)[0]);
  py::tuple T(M->size());
  for (size_t I = 0; I < M->size(); ++I)
    T[I] = py::float_((*M)[I]);
  return T;
}

py::object paramValue(const PyInstance &P, const std::string &Name) {
  auto V = P.I.param(Name);
  if (!V)
    raise(Types.ParamError, V.error());
  return py::float_(asWritten(*V));
}

/// The read side of a name -> value view (params, meters), as a Mapping:
/// [name], in, len, iteration, keys, items and a dict-like repr.
template <class Map>
void bindNameView(py::class_<Map> &C, DspjitSlotKind Kind,
                  py::object (*Value)(const PyInstance &,
                                      const std::string &)) {
  C.def("__getitem__",
        [Value](const Map &M, const std::string &Name) {
          return Value(*M.P, Name);
        })
      .def("__contains__",
           [Kind](const Map &M, const std::string &Name) {
             const DspjitSlot *S = findSlot(M.P->I.kernel(), Name);
             return S && S->kind == uint32_t(Kind);
           })
      .def("__len__", [Kind](const Map &M) { return names(*M.P, Kind).size(); })
      .def("__iter__",
           [Kind](const Map &M) {
             return py::iter(py::cast(names(*M.P, Kind)));
           })
      .def("keys", [Kind](const Map &M) { return names(*M.P, Kind); })
      .def("items",
           [Kind, Value](const Map &M) {
             py::list L;
             for (const auto &N : names(*M.P, Kind))
               L.append(py::make_tuple(N, Value(*M.P, N)));
             return L;
           })
      .def("__repr__", [Kind, Value](const Map &M) {
        std::string S = "{";
        for (const auto &N : names(*M.P, Kind))
          S += (S.size() > 1 ? ", '" : "'") + N +
               "': " + std::string(py::repr(Value(*M.P, N)));
        return S + "}";
      });
}

/// Converts what process() was given to a C-contiguous float32 array, or
/// refuses it. Floating types are converted (a copy); anything else
/// (integers, booleans, complex, objects) is refused: integer samples have
/// no agreed scale, and guessing one would be a silent bug.
py::array_t<float> floatSamples(const py::handle &X, const char *What) {
  py::module_ Np = py::module_::import("numpy");
  py::object A = Np.attr("asarray")(X);
  py::dtype Type = A.attr("dtype").cast<py::dtype>();
  if (Type.kind() != 'f')
    raise(PyExc_TypeError,
          std::string(What) + " has dtype " +
              py::str(A.attr("dtype")).cast<std::string>() +
              "; dspjit processes float32 samples (float64 is converted): "
              "convert integer samples with a scale of your choice, e.g. " +
              What + ".astype(numpy.float32) / 32768");
  using ContiguousFloats =
      py::array_t<float, py::array::c_style | py::array::forcecast>;
  auto C = ContiguousFloats::ensure(A);
  if (!C)
    raise(PyExc_TypeError,
          std::string(What) + " cannot be converted to a float32 array");
  return py::reinterpret_borrow<py::array_t<float>>(C);
}

/// fx.process(x, out=None, block=64).
py::object process(PyInstance &P, py::object X, py::object Out,
                   unsigned Block) {
  const DspjitKernel &K = P.I.kernel();
  if (Block == 0)
    raise(PyExc_ValueError, "block must be at least 1 frame");

  // What x is: samples, or for a generator (no inputs) a frame count.
  py::array_t<float> In;
  uint64_t Frames = 0;
  unsigned Channels = 0;
  bool OneDimensional = false;
  RenderInput Input;
  if (!py::isinstance<py::array>(X) && PyIndex_Check(X.ptr()) &&
      !PyBool_Check(X.ptr())) {
    // A frame count (an int, or numpy's integers): for a generator; a
    // kernel with inputs is refused by the check below, in the runtime's
    // words.
    Py_ssize_t N = PyNumber_AsSsize_t(X.ptr(), PyExc_OverflowError);
    if (N == -1 && PyErr_Occurred())
      throw py::error_already_set();
    if (N < 0)
      raise(PyExc_ValueError, "a frame count cannot be negative");
    Frames = uint64_t(N);
  } else {
    In = floatSamples(X, "x");
    if (In.ndim() == 1) {
      OneDimensional = true;
      Frames = In.shape(0);
      Channels = 1;
    } else if (In.ndim() == 2) {
      Frames = In.shape(0);
      Channels = unsigned(In.shape(1));
    } else {
      raise(PyExc_ValueError,
            "x has " + std::to_string(In.ndim()) +
                " dimensions; process takes (frames, channels), or "
                "(frames,) for one channel");
    }
    BufferInput B;
    B.Samples = In.data();
    B.Frames = Frames;
    B.Channels = Channels;
    B.Name = "x";
    Input = B;
  }
  // The runtime's own check of an input against a kernel, with its message
  // ("x has 1 channel but echo.dsp expects 2 (io 2 -> 2)").
  RenderOptions Check;
  Check.KernelName = P.Kernel->Name;
  Check.BlockSize = Block;
  Check.Frames = Frames;
  if (auto Length = renderLength(K, P.I.sampleRate(), Input, Check); !Length)
    raise(PyExc_ValueError, Length.error());

  // The output: a new array, or the caller's, which must be exactly right
  // (converting it would write into a copy the caller never sees).
  bool OneDimensionalOut = OneDimensional && K.outputs == 1;
  py::array_t<float> Result;
  if (Out.is_none()) {
    if (OneDimensionalOut)
      Result = py::array_t<float>(py::ssize_t(Frames));
    else
      Result = py::array_t<float>(std::vector<py::ssize_t>{
          py::ssize_t(Frames), py::ssize_t(K.outputs)});
  } else {
    if (!py::isinstance<py::array>(Out))
      raise(PyExc_TypeError, "out must be a numpy array");
    py::array O = Out.cast<py::array>();
    std::string Want = OneDimensionalOut ? "(" + std::to_string(Frames) + ",)"
                                         : "(" + std::to_string(Frames) + ", " +
                                               std::to_string(K.outputs) + ")";
    bool ShapeOk = OneDimensionalOut
                       ? (O.ndim() == 1 && uint64_t(O.shape(0)) == Frames) ||
                             (O.ndim() == 2 && uint64_t(O.shape(0)) == Frames &&
                              O.shape(1) == 1)
                       : O.ndim() == 2 && uint64_t(O.shape(0)) == Frames &&
                             uint64_t(O.shape(1)) == K.outputs;
    if (!ShapeOk)
      raise(PyExc_ValueError, "out must have shape " + Want + " for " +
                                  P.Kernel->Name + "'s " +
                                  std::to_string(K.outputs) + " output" +
                                  (K.outputs == 1 ? "" : "s"));
    if (!py::isinstance<py::array_t<float>>(O) ||
        !(O.flags() & py::array::c_style) || !O.writeable())
      raise(PyExc_TypeError,
            "out must be a writable, C-contiguous float32 array (it has "
            "dtype " +
                py::str(O.attr("dtype")).cast<std::string>() + ")");
    Result = py::reinterpret_borrow<py::array_t<float>>(O);
  }

  const float *InData = K.inputs ? In.data() : nullptr;
  float *OutData = K.outputs ? Result.mutable_data() : nullptr;
  // Output written into the input's memory would be read back as input by
  // later frames and channels: process from a copy then.
  if (InData && OutData && Frames) {
    auto InBegin = reinterpret_cast<uintptr_t>(InData);
    auto InEnd = InBegin + Frames * K.inputs * sizeof(float);
    auto OutBegin = reinterpret_cast<uintptr_t>(OutData);
    auto OutEnd = OutBegin + Frames * K.outputs * sizeof(float);
    if (InBegin < OutEnd && OutBegin < InEnd) {
      In = py::array_t<float>(In.request()); // a copy
      InData = In.data();
    }
  }

  BusyGuard Guard(P);
  {
    // From here to the end of the scope, no Python object is touched: the
    // arrays are kept alive by the references held above.
    py::gil_scoped_release Release;
    for (uint64_t Done = 0; Done < Frames;) {
      unsigned long N = (unsigned long)std::min<uint64_t>(Block, Frames - Done);
      P.I.process(InData ? InData + Done * K.inputs : nullptr,
                  OutData ? OutData + Done * K.outputs : nullptr, N);
      Done += N;
    }
  }
  if (!Out.is_none())
    return Out;
  return Result;
}

/// dspjit.process_file: the command line's `dspjit render in.wav out.wav`,
/// through the runtime's render and AudioFile, at the input file's rate.
py::dict processFile(const std::string &Script, const std::string &InPath,
                     const std::string &OutPath, py::dict Set, unsigned Block,
                     double Tail, unsigned Opt, const std::string &CacheDir) {
  if (Tail < 0)
    raise(PyExc_ValueError, "tail cannot be negative");
  Result<AudioData> In = [&] {
    py::gil_scoped_release Release;
    return readAudioFile(InPath);
  }();
  if (!In)
    raise(PyExc_OSError, In.error());
  auto K = compileWith(In->SampleRate, Opt, CacheDir, &Script, baseName(Script),
                       nullptr);
  auto P = makeInstance(K);
  for (auto Item : Set)
    setParam(*P, py::str(Item.first).cast<std::string>(),
             Item.second.cast<double>(), /*Immediate=*/true);
  RenderOptions Options;
  Options.BlockSize = Block;
  Options.KernelName = K->Name;
  Options.Frames = In->frames() + uint64_t(Tail * In->SampleRate + 0.5);
  BufferInput Buffer = BufferInput::fromAudio(*In, baseName(InPath));
  Result<RenderResult> R = fail("");
  Result<void> Written;
  {
    BusyGuard Guard(*P);
    py::gil_scoped_release Release;
    R = render(P->I, Buffer, Options);
    if (R)
      Written = writeAudioFile(OutPath, R->Output.data(), R->Frames,
                               R->Channels, In->SampleRate, In->Format);
  }
  if (!R)
    raise(PyExc_ValueError, R.error());
  if (!Written)
    raise(PyExc_OSError, Written.error());
  py::dict D;
  D["frames"] = R->Frames;
  D["channels"] = R->Channels;
  D["sample_rate"] = In->SampleRate;
  D["process_seconds"] = R->ProcessSeconds;
  D["audio_seconds"] = R->AudioSeconds;
  D["realtime_factor"] = R->realTimeFactor();
  D["compile_seconds"] = K->CompileSeconds;
  return D;
}

/// dspjit.read_audio: a whole sound file as a (frames, channels) float32
/// array (the samples are moved into it, not copied) and its rate.
py::tuple readAudio(const std::filesystem::path &Path) {
  Result<AudioData> In = [&] {
    py::gil_scoped_release Release;
    return readAudioFile(Path.string());
  }();
  if (!In)
    raise(PyExc_OSError, In.error());
  auto *Samples = new std::vector<float>(std::move(In->Samples));
  py::capsule Owner(
      Samples, [](void *P) { delete static_cast<std::vector<float> *>(P); });
  py::array_t<float> A(
      std::vector<py::ssize_t>{
          py::ssize_t(In->Channels ? Samples->size() / In->Channels : 0),
          py::ssize_t(In->Channels)},
      Samples->data(), Owner);
  return py::make_tuple(A, In->SampleRate, sampleFormatName(In->Format));
}

/// dspjit.write_audio: samples of shape (frames, channels) or (frames,) to
/// a file, in a format parseSampleFormat knows ("float", "16", "24").
void writeAudio(const std::filesystem::path &Path, py::object Samples,
                double Rate, const std::string &Format) {
  auto F = parseSampleFormat(Format);
  if (!F)
    raise(PyExc_ValueError, F.error());
  if (!(Rate > 0))
    raise(PyExc_ValueError, "sample_rate must be a positive rate in Hz");
  py::array_t<float> A = floatSamples(Samples, "samples");
  if (A.ndim() != 1 && A.ndim() != 2)
    raise(PyExc_ValueError, "samples must have shape (frames, channels) or "
                            "(frames,)");
  uint64_t Frames = A.shape(0);
  unsigned Channels = A.ndim() == 1 ? 1 : unsigned(A.shape(1));
  if (Channels == 0)
    raise(PyExc_ValueError, "samples have no channels");
  Result<void> Written;
  {
    py::gil_scoped_release Release;
    Written =
        writeAudioFile(Path.string(), A.data(), Frames, Channels, Rate, *F);
  }
  if (!Written)
    raise(PyExc_OSError, Written.error());
}

/// dspjit.Stream: a live session (session/Session.h, what `dspjit run`
/// is), not a second implementation of one. Events arrive on the session's
/// threads; they are queued here as plain C++ values and turned into Python
/// objects only on a Python thread (events()), so no session thread ever
/// needs the GIL.
struct PyStream {
  struct Record {
    std::string Kind, Text;
    bool Error = false;
  };
  std::string Name;
  std::unique_ptr<session::Session> S;
  session::Subscription Sub; // declared after S: unsubscribed first
  std::mutex Lock;
  std::deque<Record> Pending; // guarded by Lock
  std::optional<session::event::Stopped> End;
  bool Started = false;

  session::Session &session() {
    if (!S)
      raise(PyExc_RuntimeError, "this stream is closed");
    return *S;
  }
};

std::shared_ptr<PyStream>
openStream(const std::string &Script, double Rate, unsigned Opt,
           const std::string &HostApi, const std::string &Device,
           const std::string &InputDevice, unsigned long Block,
           const std::string &Play, bool Loop, const std::string &Record,
           const std::string &RecordFormat, double Duration, bool Watch,
           py::dict Set, const std::string &CacheDir) {
  session::SessionOptions O;
  O.Script = Script;
  applyEnvironment(O.Compile);
  if (Opt > 3)
    raise(PyExc_ValueError,
          "opt must be 0, 1, 2 or 3, not " + std::to_string(Opt));
  O.Compile.optLevel = Opt;
  O.Compile.cacheDir = CacheDir;
  O.Rate = Rate;
  O.Host.Devices.HostApi = HostApi;
  O.Host.Devices.OutputDevice = Device;
  O.Host.Devices.InputDevice = InputDevice.empty() ? Device : InputDevice;
  O.Host.FramesPerBuffer = Block;
  O.Host.PlayPath = Play;
  O.Host.Loop = Loop;
  O.Host.RecordPath = Record;
  auto Format = parseSampleFormat(RecordFormat);
  if (!Format)
    raise(PyExc_ValueError, Format.error());
  O.Host.RecordFormat = *Format;
  if (Duration < 0)
    raise(PyExc_ValueError, "duration cannot be negative");
  if (Duration > 0)
    O.Length = dspjit::Duration{Duration, std::nullopt};
  O.Watch = Watch;

  // Compile errors: the printed text and the diagnostics as plain values,
  // made into Python objects once the GIL is back.
  std::string Printed;
  std::vector<DiagnosticTuple> Diags;
  auto Print = [&](const DiagnosticEngine &D) {
    Printed = printed(D);
    Diags = diagnosticTuples(D);
  };
  auto P = std::make_shared<PyStream>();
  P->Name = baseName(Script);
  {
    Result<std::unique_ptr<session::Session>> S = [&] {
      py::gil_scoped_release Release;
      return session::Session::open(O, Print);
    }();
    if (!S) {
      if (!S.error().empty() || Printed.empty())
        raise(PyExc_RuntimeError, S.error());
      raiseCompileError(Printed, Diags);
    }
    P->S = std::move(*S);
  }
  if (!Printed.empty() &&
      PyErr_WarnEx(Types.CompileWarning, Printed.c_str(), 1) != 0)
    throw py::error_already_set();
  for (auto Item : Set) {
    reportParam(P->S->host().setParamImmediate(
        py::str(Item.first).cast<std::string>(), Item.second.cast<float>()));
  }
  // A weak pointer: the subscription lives in the stream, and must not
  // keep it alive.
  std::weak_ptr<PyStream> Weak = P;
  P->Sub = P->S->bus().subscribe([Weak](const session::Event &E) {
    if (auto Self = Weak.lock()) {
      std::lock_guard<std::mutex> Guard(Self->Lock);
      Self->Pending.push_back(
          {session::eventName(E), session::describe(E), session::isError(E)});
    }
  });
  return P;
}

py::dict stoppedDict(const session::event::Stopped &E) {
  py::dict D;
  D["why"] = E.Why;
  D["errors"] = E.Errors;
  D["exit_status"] = E.ExitStatus;
  D["failed"] = E.Failed;
  D["recording"] = E.Recording;
  D["reloads"] = E.Reloads.Reloads;
  D["failed_reloads"] = E.Reloads.Failed;
  D["timing"] = py::module_::import("json").attr("loads")(E.Summary.json());
  D["text"] = E.Summary.text();
  return D;
}

/// Stops the session (the library's protocol), without the GIL: stopping
/// waits for the audio server.
py::dict stopStream(PyStream &P) {
  if (!P.End) {
    session::Session &S = P.session();
    py::gil_scoped_release Release;
    P.End = S.stop();
  }
  return stoppedDict(*P.End);
}

/// Waits until the session should stop (its length, the end of the played
/// file, a failure), up to `Timeout` seconds (negative: no limit). Ctrl-C
/// interrupts the wait as in any Python code. Returns whether it is done.
bool waitStream(PyStream &P, double Timeout) {
  session::Session &S = P.session();
  auto Start = std::chrono::steady_clock::now();
  while (!S.done()) {
    if (Timeout >= 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
                .count() >= Timeout)
      return false;
    {
      py::gil_scoped_release Release;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (PyErr_CheckSignals() != 0)
      throw py::error_already_set();
  }
  return true;
}

/// Exception and record types, defined in Python inside the module: a
/// KeyError whose str() is its message (a plain KeyError shows the repr,
/// in quotes), and namedtuples that print well.
const char *PythonDefinitions = R"PY(
import collections as _collections

class CompileError(Exception):
    """A script does not compile.

    str(e) is what `dspjit check` prints: file:line:col, the line and a
    caret under each error. e.diagnostics lists them as
    (line, column, id, message) tuples; id is the catalog's name
    ("UnknownName"), line and column are 0 for an error without a place."""
    diagnostics = ()

class CompileWarning(UserWarning):
    """A script compiled with warnings (the text `dspjit check` prints)."""

class ParamError(KeyError):
    """An unknown parameter or meter name; the message lists the names."""
    def __str__(self):
        return str(self.args[0]) if self.args else ""

class ParamWarning(UserWarning):
    """A parameter value was out of range and was clamped into it."""

Param = _collections.namedtuple("Param", "name default min max unit smooth")
Param.__doc__ = "A parameter: default, range, unit and smoothing time in seconds."
Meter = _collections.namedtuple("Meter", "name lanes")
Meter.__doc__ = "A meter: its name and how many lanes (1: a float, else a tuple)."

for _t in (CompileError, CompileWarning, ParamError, ParamWarning, Param, Meter):
    _t.__module__ = "dspjit"
del _t
)PY";

} // namespace

PYBIND11_MODULE(_dspjit, m) {
  m.doc() = "dspjit's compiler and runtime (use the dspjit package)";
  py::exec(PythonDefinitions, m.attr("__dict__"));
  auto Keep = [&](const char *Name) {
    PyObject *O = m.attr(Name).ptr();
    Py_INCREF(O); // leaked on purpose: see ModuleTypes
    return O;
  };
  Types.CompileError = Keep("CompileError");
  Types.CompileWarning = Keep("CompileWarning");
  Types.ParamError = Keep("ParamError");
  Types.ParamWarning = Keep("ParamWarning");
  Types.Param = Keep("Param");
  Types.Meter = Keep("Meter");

  py::class_<PyKernel, std::shared_ptr<PyKernel>>(
      m, "Kernel",
      "A compiled script: native code, specialized to its sample rate. "
      "Made by dspjit.compile or dspjit.compile_source.")
      .def_property_readonly("name", [](const PyKernel &P) { return P.Name; })
      .def_property_readonly("path",
                             [](const PyKernel &P) -> py::object {
                               if (P.Path.empty())
                                 return py::none();
                               return py::str(P.Path);
                             })
      .def_property_readonly("inputs",
                             [](const PyKernel &P) { return P.info().inputs; })
      .def_property_readonly("outputs",
                             [](const PyKernel &P) { return P.info().outputs; })
      .def_property_readonly(
          "sample_rate", [](const PyKernel &P) { return P.info().sample_rate; })
      .def_property_readonly("voices",
                             [](const PyKernel &P) { return P.info().voices; })
      .def_property_readonly(
          "latency_frames",
          [](const PyKernel &P) { return P.info().latency_frames; },
          "Frames the output lags the input by, from `oversample` blocks")
      .def_property_readonly(
          "params",
          [](const PyKernel &P) { return kernelSlots(P, DSPJIT_SLOT_PARAM); },
          "The parameters, as Param(name, default, min, "
          "max, unit, smooth) tuples in script order")
      .def_property_readonly(
          "meters",
          [](const PyKernel &P) { return kernelSlots(P, DSPJIT_SLOT_METER); },
          "The meters, as Meter(name, lanes) tuples")
      .def_property_readonly(
          "instance_size",
          [](const PyKernel &P) { return P.info().instance_size; })
      .def_property_readonly(
          "compile_seconds", [](const PyKernel &P) { return P.CompileSeconds; },
          "Wall-clock seconds the compile took (all phases)")
      .def_property_readonly("code_hash",
                             [](const PyKernel &P) { return P.K->codeHash(); })
      .def_property_readonly(
          "callback_address",
          [](const PyKernel &P) {
            return reinterpret_cast<uintptr_t>(P.info().process);
          },
          "The address of the kernel's process function, which has "
          "PortAudio's PaStreamCallback signature; its userData is an "
          "instance's userdata_address. Valid while this kernel (or an "
          "instance of it) is alive.")
      .def("instance", &makeInstance,
           "A new instance: the kernel's state, parameters at their "
           "defaults. Each holds a reference to the kernel.")
      .def("__repr__", &kernelRepr);

  py::class_<PyInstance, std::shared_ptr<PyInstance>>(
      m, "Instance",
      "One running copy of a kernel: its parameters, meters, state and "
      "delay lines. Successive process() calls continue its state.")
      .def("process", &process, py::arg("x"), py::arg("out") = py::none(),
           py::arg("block") = 64u,
           "Processes x, a float32 (or float64, converted) array of shape "
           "(frames, channels), or (frames,) for one channel; for a "
           "generator (no inputs), x is a frame count. Runs the kernel "
           "block frames at a time, as a stream with that buffer size "
           "would, without the GIL. Returns a new (frames, outputs) array "
           "((frames,) for mono in and out), or writes into out.")
      .def(
          "reset",
          [](PyInstance &P) {
            BusyGuard Guard(P);
            P.I.reset();
          },
          "Parameters back to their defaults, state and delay lines "
          "cleared, counters zeroed.")
      .def(
          "set_param",
          [](PyInstance &P, const std::string &Name, double Value,
             bool Immediate) {
            return asWritten(setParam(P, Name, Value, Immediate));
          },
          py::arg("name"), py::arg("value"), py::arg("immediate") = false,
          "Sets a parameter's target (clamped into range, with a "
          "ParamWarning); the kernel smooths towards it as live. "
          "immediate=True also jumps the smoothed value (as render --set). "
          "Returns the value stored.")
      .def(
          "smoothed",
          [](const PyInstance &P, const std::string &Name) {
            auto V = P.I.smoothedParam(Name);
            if (!V)
              raise(Types.ParamError, V.error());
            return *V;
          },
          py::arg("name"), "The smoothed value the kernel uses right now")
      .def_property_readonly(
          "params",
          [](std::shared_ptr<PyInstance> P) { return ParamMap{std::move(P)}; })
      .def_property_readonly(
          "meters",
          [](std::shared_ptr<PyInstance> P) { return MeterMap{std::move(P)}; })
      .def_property_readonly("kernel",
                             [](const PyInstance &P) { return P.Kernel; })
      .def_property_readonly(
          "userdata_address",
          [](const PyInstance &P) {
            return reinterpret_cast<uintptr_t>(P.I.data());
          },
          "The instance's memory, the userData to pass with "
          "callback_address to Pa_OpenStream. Valid while this object is "
          "alive; no other thread may process() it while a stream runs it.")
      .def_property_readonly(
          "frames_processed",
          [](const PyInstance &P) { return P.I.framesProcessed(); })
      .def_property_readonly(
          "callbacks", [](const PyInstance &P) { return P.I.callbacks(); })
      .def_property_readonly(
          "nonfinite_samples",
          [](const PyInstance &P) { return P.I.nonfiniteSamples(); })
      .def("__repr__", [](const PyInstance &P) {
        return "<dspjit.Instance of " + P.Kernel->Name + ", " +
               std::to_string(P.I.framesProcessed()) + " frames processed>";
      });

  py::class_<ParamMap> Params(
      m, "Params",
      "An instance's parameters by name: reading gives the target, "
      "assigning sets it (clamped, smoothed)");
  bindNameView(Params, DSPJIT_SLOT_PARAM, &paramValue);
  Params.def("__setitem__",
             [](ParamMap &M, const std::string &Name, double Value) {
               setParam(*M.P, Name, Value, /*Immediate=*/false);
             });
  py::class_<MeterMap> Meters(
      m, "Meters",
      "An instance's meters by name: a float, or a tuple of lanes");
  bindNameView(Meters, DSPJIT_SLOT_METER, &meterValue);

  m.def(
      "compile",
      [](py::object Path, double SampleRate, unsigned Opt,
         py::object CacheDir) {
        std::string P = py::str(py::module_::import("os").attr("fspath")(Path));
        std::string Cache =
            CacheDir.is_none() ? "" : py::str(CacheDir).cast<std::string>();
        return compileWith(SampleRate, Opt, Cache, &P, baseName(P), nullptr);
      },
      py::arg("path"), py::arg("sample_rate") = 48000.0, py::arg("opt") = 3u,
      py::arg("cache_dir") = py::none(),
      "Compiles a .dsp script for one sample rate. Raises CompileError "
      "with every error; warnings become CompileWarning warnings.");
  m.def(
      "compile_source",
      [](const std::string &Text, double SampleRate, const std::string &Name,
         unsigned Opt, py::object CacheDir) {
        std::string Cache =
            CacheDir.is_none() ? "" : py::str(CacheDir).cast<std::string>();
        return compileWith(SampleRate, Opt, Cache, nullptr, Name, &Text);
      },
      py::arg("text"), py::arg("sample_rate") = 48000.0,
      py::arg("name") = "<source>", py::arg("opt") = 3u,
      py::arg("cache_dir") = py::none(),
      "Compiles script text; name is used in messages and resolves "
      "relative imports as if it were a path.");
  m.def("process_file", &processFile, py::arg("script"), py::arg("in_path"),
        py::arg("out_path"), py::arg("set") = py::dict(),
        py::arg("block") = 64u, py::arg("tail") = 0.0, py::arg("opt") = 3u,
        py::arg("cache_dir") = "");
  m.def("read_audio", &readAudio, py::arg("path"),
        "Reads a sound file: (samples, sample_rate, format), samples a "
        "(frames, channels) float32 array, format 'float', '16-bit' or "
        "'24-bit' (what write_audio can write back).");
  m.def("write_audio", &writeAudio, py::arg("path"), py::arg("samples"),
        py::arg("sample_rate"), py::arg("format") = "float",
        "Writes samples ((frames, channels) or (frames,)) to a sound file, "
        "its type from the name (.wav, .flac...); format 'float', '16' or "
        "'24'.");
  py::class_<PyStream, std::shared_ptr<PyStream>>(
      m, "_Stream", "A live session; use dspjit.Stream")
      .def("start",
           [](PyStream &P) {
             session::Session &S = P.session();
             if (P.Started)
               return;
             Result<void> R = [&] {
               py::gil_scoped_release Release;
               return S.start();
             }();
             if (!R)
               raise(PyExc_RuntimeError, R.error());
             P.Started = true;
           })
      .def("stop", &stopStream)
      .def("wait", &waitStream, py::arg("timeout") = -1.0)
      .def("done", [](PyStream &P) { return P.session().done(); })
      .def("reload", [](PyStream &P) { P.session().reloadNow(); })
      .def("set_param",
           [](PyStream &P, const std::string &Name, double Value) {
             return asWritten(
                 reportParam(P.session().bus().setParam(Name, float(Value))));
           })
      .def("meter",
           [](PyStream &P, const std::string &Name) -> py::object {
             auto M = P.session().bus().meter(Name);
             if (!M)
               raise(Types.ParamError, M.error());
             if (M->size() == 1)
               return py::float_((*M)[0]);
             return py::tuple(py::cast(*M));
           })
      .def("events",
           [](PyStream &P) {
             std::deque<PyStream::Record> Taken;
             {
               std::lock_guard<std::mutex> Guard(P.Lock);
               Taken.swap(P.Pending);
             }
             py::list L;
             for (auto &R : Taken)
               L.append(py::make_tuple(R.Kind, R.Text, R.Error));
             return L;
           })
      .def_property_readonly(
          "sample_rate", [](PyStream &P) { return P.session().sampleRate(); })
      .def("timing",
           [](PyStream &P) {
             return py::module_::import("json").attr("loads")(
                 P.session().host().summary().json());
           })
      .def("close", [](PyStream &P) {
        if (!P.S)
          return;
        if (!P.End) {
          py::gil_scoped_release Release;
          P.End = P.S->stop();
        }
        P.Sub.reset();
        py::gil_scoped_release Release;
        P.S.reset();
      });
  m.def("_open_stream", &openStream, py::arg("script"), py::arg("rate"),
        py::arg("opt"), py::arg("host_api"), py::arg("device"),
        py::arg("input_device"), py::arg("block"), py::arg("play"),
        py::arg("loop"), py::arg("record"), py::arg("record_format"),
        py::arg("duration"), py::arg("watch"), py::arg("set"),
        py::arg("cache_dir"));
  m.attr("compiler_version") = compilerVersion();
}
