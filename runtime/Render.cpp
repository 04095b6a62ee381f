//===- runtime/Render.cpp - Running a kernel offline ----------------------===//
//
// The block loop of an offline render; see Render.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/Render.h"

#include "runtime/HotSwap.h"
#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

namespace dspjit {

double RenderResult::realTimeFactor() const {
  if (ProcessSeconds <= 0)
    return std::numeric_limits<double>::infinity();
  return AudioSeconds / ProcessSeconds;
}

/// The plural ending of "channel{N}" in the catalog's messages.
static const char *plural(unsigned N) { return N == 1 ? "" : "s"; }

/// Checks that a buffer's or a stream's audio fits the kernel (`Frames`
/// long, or expected to be) and settles the frame count.
static Result<uint64_t> planFileInput(const DspjitKernel &K, double Rate,
                                      const std::string &Name,
                                      unsigned Channels, double InputRate,
                                      uint64_t Frames,
                                      const RenderOptions &Options) {
  const std::string &Kernel = Options.KernelName;
  if (K.inputs == 0)
    return fail(message<Msg::RenderTakesNoInput>(
        Name, Channels, plural(Channels), Kernel, K.inputs, K.outputs));
  if (Channels != K.inputs)
    return fail(message<Msg::RenderInputChannels>(
        Name, Channels, plural(Channels), Kernel, K.inputs, K.outputs));
  if (InputRate != 0 && InputRate != Rate)
    return fail(message<Msg::RenderInputRate>(Name, InputRate, Kernel, Rate));
  if (Frames == 0 && !Options.Frames)
    return fail(message<Msg::RenderInputEmpty>(Name));
  return Options.Frames.value_or(Frames);
}

/// Checks that the input fits the kernel and settles the frame count (for
/// a stream without a length, the frames it expects to give).
static Result<uint64_t> planRender(const DspjitKernel &K, double Rate,
                                   const RenderInput &Input,
                                   const RenderOptions &Options) {
  const std::string &Kernel = Options.KernelName;
  if (Options.BlockSize == 0)
    return fail(message<Msg::RenderBlockSize>());
  if (K.inputs == 0 && K.outputs == 0)
    return fail(message<Msg::RenderNoIo>(Kernel, K.inputs, K.outputs));

  if (const auto *Buffer = std::get_if<BufferInput>(&Input))
    return planFileInput(K, Rate, Buffer->Name, Buffer->Channels,
                         Buffer->SampleRate, Buffer->Frames, Options);
  if (const auto *Stream = std::get_if<StreamInput>(&Input))
    return planFileInput(K, Rate, Stream->Name, Stream->Source->channels(),
                         Stream->Source->sampleRate(),
                         Stream->Source->expectedFrames(), Options);

  if (const auto *Signal = std::get_if<SignalSpec>(&Input)) {
    if (K.inputs == 0)
      return fail(message<Msg::RenderSignalNotTaken>(Signal->str(), Kernel,
                                                     K.inputs, K.outputs));
  } else if (K.inputs != 0) {
    return fail(message<Msg::RenderNeedsInput>(
        Kernel, K.inputs, plural(K.inputs), K.inputs, K.outputs));
  }
  if (!Options.Frames)
    return fail(message<Msg::RenderNoLength>(Kernel));
  return *Options.Frames;
}

Result<uint64_t> renderLength(const DspjitKernel &Kernel, double Rate,
                              const RenderInput &Input,
                              const RenderOptions &Options) {
  return planRender(Kernel, Rate, Input, Options);
}

namespace {
/// The kernel's input block by block: frames of a buffer or a stream (then
/// silence after its end), a test signal, or nothing for a generator.
class InputFeed {
public:
  InputFeed(const RenderInput &Input, double Rate, unsigned Channels,
            unsigned Block)
      : Buffer(std::get_if<BufferInput>(&Input)), Channels(Channels),
        InBlock(size_t(Block) * Channels) {
    if (const auto *Signal = std::get_if<SignalSpec>(&Input))
      Generator.emplace(*Signal, Rate, Channels);
    if (const auto *Stream = std::get_if<StreamInput>(&Input))
      Source = Stream->Source;
  }

  /// The input for frames [Done, Done + N); `Got` is set to how many of
  /// them the input had (fewer only at its end).
  const float *next(uint64_t Done, unsigned long N, unsigned long &Got) {
    Got = N;
    if (Generator) {
      Generator->generate(InBlock.data(), N);
      return InBlock.data();
    }
    if (Source) {
      Got = 0;
      while (Got < N && !SourceEnded) {
        uint64_t Read = Source->read(InBlock.data() + Got * Channels, N - Got);
        SourceEnded = Read == 0;
        Got += static_cast<unsigned long>(Read);
      }
      std::fill(InBlock.begin() + Got * Channels, InBlock.end(), 0.0f);
      return InBlock.data();
    }
    if (!Buffer)
      return nullptr;
    if (Done + N <= Buffer->Frames)
      return Buffer->Samples + Done * Channels;
    // The end of the input: what is left, then silence.
    uint64_t Left = Buffer->Frames > Done ? Buffer->Frames - Done : 0;
    std::fill(InBlock.begin(), InBlock.end(), 0.0f);
    std::copy_n(Buffer->Samples + Done * Channels, Left * Channels,
                InBlock.begin());
    Got = static_cast<unsigned long>(Left);
    return InBlock.data();
  }

private:
  const BufferInput *Buffer;
  AudioSource *Source = nullptr;
  bool SourceEnded = false;
  unsigned Channels;
  std::vector<float> InBlock;
  std::optional<SignalGenerator> Generator;
};
} // namespace

/// The block loop, for anything with a stream callback's `process`.
template <class Processor>
static Result<RenderResult>
renderWith(const DspjitKernel &K, double Rate, Processor &&Process,
           const RenderInput &Input, const RenderOptions &Options) {
  auto Planned = planRender(K, Rate, Input, Options);
  if (!Planned)
    return fail(Planned.error());
  // A stream without a length runs until it ends; *Planned is then only
  // what it expects to give, for the progress.
  const bool UntilInputEnds =
      std::holds_alternative<StreamInput>(Input) && !Options.Frames;
  const uint64_t Drop = Options.DropFrames;
  uint64_t Total =
      UntilInputEnds ? std::numeric_limits<uint64_t>::max() : *Planned + Drop;
  const unsigned Block = Options.BlockSize;
  std::vector<const RenderEvent *> Events;
  for (const RenderEvent &E : Options.Events)
    Events.push_back(&E);
  std::stable_sort(Events.begin(), Events.end(),
                   [](auto *A, auto *B) { return A->AtFrame < B->AtFrame; });
  size_t NextEvent = 0;

  RenderResult R;
  R.Channels = K.outputs;
  if (!Options.Sink)
    R.Output.reserve(*Planned * K.outputs);
  InputFeed Feed(Input, Rate, K.inputs, Block);
  std::vector<float> OutBlock(size_t(Block) * K.outputs);
  // The sink gets the output in chunks of several blocks: a file writer
  // makes a write(2) of each (at 64 frames, most of a long render's time).
  const uint64_t SinkFrames = std::max<uint64_t>(Block, RenderSinkChunkFrames);
  std::vector<float> SinkChunk(Options.Sink ? SinkFrames * K.outputs : 0);
  uint64_t Chunked = 0;
  auto FlushSink = [&]() -> Result<void> {
    if (!Options.Sink || Chunked == 0)
      return {};
    return Options.Sink(SinkChunk.data(), std::exchange(Chunked, 0));
  };

  const uint64_t ProgressStep =
      std::max<uint64_t>(1, *Planned ? *Planned / 100 : uint64_t(Rate));
  uint64_t NextProgress = ProgressStep;
  std::chrono::steady_clock::duration InProcess{};

  uint64_t Done = 0;
  while (Done < Total) {
    if (Options.Stop && Options.Stop->load(std::memory_order_relaxed)) {
      R.Stopped = true;
      break;
    }
    while (NextEvent < Events.size() && Events[NextEvent]->AtFrame <= Done)
      Events[NextEvent++]->Run();
    uint64_t Until = Total;
    if (Options.Automate)
      Until = Done + std::min(Options.Automate(Done), Total - Done);
    if (NextEvent < Events.size())
      Until = std::min(Until, Events[NextEvent]->AtFrame);
    unsigned long N =
        static_cast<unsigned long>(std::min<uint64_t>(Block, Until - Done));

    unsigned long Got = N;
    const float *In = Feed.next(Done, N, Got);
    if (UntilInputEnds) {
      // At the input's end: DropFrames more of silence, then stop.
      if (Got < N && Total == std::numeric_limits<uint64_t>::max())
        Total = Done + Got + Drop;
      N = static_cast<unsigned long>(std::min<uint64_t>(N, Total - Done));
      if (N == 0)
        break;
    }

    float *Out = K.outputs ? OutBlock.data() : nullptr;
    double Now = static_cast<double>(Done) / Rate;
    DspjitTimeInfo Time = {Now, Now, Now};
    auto Start = std::chrono::steady_clock::now();
    int Status = Process(In, Out, N, &Time);
    InProcess += std::chrono::steady_clock::now() - Start;
    ++R.Callbacks;
    // The first Drop frames of the output are not kept.
    const unsigned long Skip = static_cast<unsigned long>(
        Done < Drop ? std::min<uint64_t>(N, Drop - Done) : 0);
    Done += N;
    const unsigned long Kept = N - Skip;
    if (Out)
      Out += Skip * K.outputs;

    if (Out && Options.Sink) {
      if (Chunked + Kept > SinkFrames)
        if (auto Sunk = FlushSink(); !Sunk)
          return fail(Sunk.error());
      std::copy_n(Out, Kept * K.outputs,
                  SinkChunk.data() + Chunked * K.outputs);
      Chunked += Kept;
    } else if (Out) {
      R.Output.insert(R.Output.end(), Out, Out + Kept * K.outputs);
    }
    if (Options.Progress && (Done >= NextProgress || Done == Total)) {
      Options.Progress(Done, *Planned);
      NextProgress = Done + ProgressStep;
    }
    if (Status != 0)
      break;
  }
  if (auto Sunk = FlushSink(); !Sunk)
    return fail(Sunk.error());
  // A stream's end, which the loop could not foresee: the progress's end.
  if (Options.Progress && UntilInputEnds && !R.Stopped)
    Options.Progress(Done, Done);

  R.Frames = Done > Drop ? Done - Drop : 0;
  R.ProcessSeconds = std::chrono::duration<double>(InProcess).count();
  R.AudioSeconds = static_cast<double>(Done) / Rate;
  return R;
}

Result<RenderResult> render(Instance &I, const RenderInput &Input,
                            const RenderOptions &Options) {
  auto Process = [&](const float *In, float *Out, unsigned long N,
                     const DspjitTimeInfo *Time) {
    return I.process(In, Out, N, Time);
  };
  return renderWith(I.kernel(), I.sampleRate(), Process, Input, Options);
}

Result<RenderResult> render(HotSwap &Swap, const RenderInput &Input,
                            const RenderOptions &Options) {
  auto Process = [&](const float *In, float *Out, unsigned long N,
                     const DspjitTimeInfo *Time) {
    return Swap.process(In, Out, N, Time, 0);
  };
  // The io and rate are fixed for a HotSwap's life; keep this version's
  // descriptor alive for the whole render, whatever the events retire.
  std::shared_ptr<KernelVersion> First = Swap.newest();
  return renderWith(First->I.kernel(), Swap.sampleRate(), Process, Input,
                    Options);
}

} // namespace dspjit
