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

namespace dspjit {

double RenderResult::realTimeFactor() const {
  if (ProcessSeconds <= 0)
    return std::numeric_limits<double>::infinity();
  return AudioSeconds / ProcessSeconds;
}

/// The plural ending of "channel{N}" in the catalog's messages.
static const char *plural(unsigned N) { return N == 1 ? "" : "s"; }

/// Checks that the input fits the kernel and settles the frame count.
static Result<uint64_t> planRender(const DspjitKernel &K, double Rate,
                                   const RenderInput &Input,
                                   const RenderOptions &Options) {
  const std::string &Kernel = Options.KernelName;
  if (Options.BlockSize == 0)
    return fail(message<Msg::RenderBlockSize>());
  if (K.inputs == 0 && K.outputs == 0)
    return fail(message<Msg::RenderNoIo>(Kernel, K.inputs, K.outputs));

  if (const auto *Buffer = std::get_if<BufferInput>(&Input)) {
    if (K.inputs == 0)
      return fail(message<Msg::RenderTakesNoInput>(
          Buffer->Name, Buffer->Channels, plural(Buffer->Channels), Kernel,
          K.inputs, K.outputs));
    if (Buffer->Channels != K.inputs)
      return fail(message<Msg::RenderInputChannels>(
          Buffer->Name, Buffer->Channels, plural(Buffer->Channels), Kernel,
          K.inputs, K.outputs));
    if (Buffer->SampleRate != 0 && Buffer->SampleRate != Rate)
      return fail(message<Msg::RenderInputRate>(
          Buffer->Name, Buffer->SampleRate, Kernel, Rate));
    if (Buffer->Frames == 0 && !Options.Frames)
      return fail(message<Msg::RenderInputEmpty>(Buffer->Name));
    return Options.Frames.value_or(Buffer->Frames);
  }

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

/// The block loop, for anything with a stream callback's `process`.
namespace {
/// The kernel's input block by block: frames of a buffer (then silence
/// after its end), a test signal, or nothing for a generator.
class InputFeed {
public:
  InputFeed(const RenderInput &Input, double Rate, unsigned Channels,
            unsigned Block)
      : Buffer(std::get_if<BufferInput>(&Input)), Channels(Channels),
        InBlock(size_t(Block) * Channels) {
    if (const auto *Signal = std::get_if<SignalSpec>(&Input))
      Generator.emplace(*Signal, Rate, Channels);
  }

  /// The input for frames [Done, Done + N).
  const float *next(uint64_t Done, unsigned long N) {
    if (Generator) {
      Generator->generate(InBlock.data(), N);
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
    return InBlock.data();
  }

private:
  const BufferInput *Buffer;
  unsigned Channels;
  std::vector<float> InBlock;
  std::optional<SignalGenerator> Generator;
};
} // namespace

template <class Processor>
static Result<RenderResult>
renderWith(const DspjitKernel &K, double Rate, Processor &&Process,
           const RenderInput &Input, const RenderOptions &Options) {
  auto Planned = planRender(K, Rate, Input, Options);
  if (!Planned)
    return fail(Planned.error());
  const uint64_t Total = *Planned;
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
    R.Output.assign(Total * K.outputs, 0.0f);
  InputFeed Feed(Input, Rate, K.inputs, Block);
  std::vector<float> OutBlock(Options.Sink ? size_t(Block) * K.outputs : 0);

  const uint64_t ProgressStep = std::max<uint64_t>(1, Total / 100);
  uint64_t NextProgress = ProgressStep;
  std::chrono::steady_clock::duration InProcess{};

  uint64_t Done = 0;
  while (Done < Total) {
    while (NextEvent < Events.size() && Events[NextEvent]->AtFrame <= Done)
      Events[NextEvent++]->Run();
    uint64_t Until = Total;
    if (Options.Automate)
      Until = Done + std::min(Options.Automate(Done), Total - Done);
    if (NextEvent < Events.size())
      Until = std::min(Until, Events[NextEvent]->AtFrame);
    const unsigned long N =
        static_cast<unsigned long>(std::min<uint64_t>(Block, Until - Done));

    const float *In = Feed.next(Done, N);

    float *Out = nullptr;
    if (K.outputs)
      Out = Options.Sink ? OutBlock.data() : R.Output.data() + Done * K.outputs;

    double Now = static_cast<double>(Done) / Rate;
    DspjitTimeInfo Time = {Now, Now, Now};
    auto Start = std::chrono::steady_clock::now();
    int Status = Process(In, Out, N, &Time);
    InProcess += std::chrono::steady_clock::now() - Start;
    ++R.Callbacks;
    Done += N;

    if (Options.Sink && Out)
      if (auto Sunk = Options.Sink(Out, N); !Sunk)
        return fail(Sunk.error());
    if (Options.Progress && (Done >= NextProgress || Done == Total)) {
      Options.Progress(Done, Total);
      NextProgress = Done + ProgressStep;
    }
    if (Status != 0)
      break;
  }

  R.Frames = Done;
  if (!Options.Sink)
    R.Output.resize(Done * K.outputs);
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
