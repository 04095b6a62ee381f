//===- session/Midi.cpp - MIDI controllers move parameters ----------------===//
//
// See Midi.h. RtMidi reports errors through an error callback (set, so that
// it never throws from its own threads); during open() the callback keeps
// the last error for the message. libjack is used directly only to find
// out whether a JACK server runs and which client name is free.
//
//===----------------------------------------------------------------------===//
#include "session/Midi.h"

#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"

#include <jack/jack.h>
#include <rtmidi/RtMidi.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace dspjit::session {

namespace {

constexpr const char *PortSuffix = "midi_in";

uint64_t nowNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

/// A JACK client on the default server, or null; libjack's complaints
/// about a missing server are hidden (no server is an ordinary case).
jack_client_t *openJackClient(const char *Name) {
  setenv("JACK_NO_START_SERVER", "1", /*overwrite=*/0);
  auto Saved = jack_error_callback;
  jack_set_error_function([](const char *) {});
  jack_status_t Status;
  jack_client_t *C = jack_client_open(Name, JackNoStartServer, &Status);
  jack_set_error_function(Saved);
  return C;
}

/// The errors RtMidi reports while we open a port.
struct ErrorSink {
  std::string Last;
  static void callback(RtMidiError::Type Type, const std::string &Text,
                       void *Self) {
    if (Type == RtMidiError::WARNING || Type == RtMidiError::DEBUG_WARNING)
      return;
    static_cast<ErrorSink *>(Self)->Last = Text;
  }
};

/// An RtMidiIn of `Api`, or the reason there is none.
Result<std::unique_ptr<RtMidiIn>>
makeInput(RtMidi::Api Api, const std::string &Client, ErrorSink &Errors) {
  try {
    auto In = std::make_unique<RtMidiIn>(Api, Client, 100);
    In->setErrorCallback(&ErrorSink::callback, &Errors);
    if (!Errors.Last.empty())
      return fail(Errors.Last);
    return In;
  } catch (const RtMidiError &E) {
    return fail(E.getMessage());
  }
}

std::vector<std::string> portNames(RtMidiIn &In) {
  std::vector<std::string> Names;
  unsigned N = In.getPortCount();
  for (unsigned I = 0; I < N; ++I)
    Names.push_back(In.getPortName(I));
  return Names;
}

std::string listing(const std::vector<std::string> &Names) {
  std::string Text;
  for (size_t I = 0; I < Names.size(); ++I)
    Text += "\n  " + std::to_string(I) + "  " + Names[I];
  return Text;
}

/// Whether the ALSA sequencer exists: without it, ALSA and RtMidi print
/// their failures on stderr before RtMidi throws.
Result<void> alsaSequencer() {
  const char *Path = "/dev/snd/seq";
  if (access(Path, R_OK | W_OK) != 0)
    return fail(std::string(Path) + ": " + std::strerror(errno));
  return {};
}

} // namespace

std::vector<MidiPortList> listMidiSources() {
  std::vector<MidiPortList> Lists;
  if (jack_client_t *C = openJackClient("dspjit-list")) {
    jack_client_close(C);
    MidiPortList L{"JACK", {}, {}};
    ErrorSink Errors;
    auto In = makeInput(RtMidi::UNIX_JACK, "dspjit-list", Errors);
    if (In)
      L.Ports = portNames(**In);
    else
      L.Error = In.error();
    Lists.push_back(std::move(L));
  }
  MidiPortList L{"ALSA", {}, {}};
  ErrorSink Errors;
  if (auto Seq = alsaSequencer(); !Seq) {
    L.Error = message<Msg::MidiNoAlsa>(Seq.error());
  } else if (auto In = makeInput(RtMidi::LINUX_ALSA, "dspjit-list", Errors)) {
    L.Ports = portNames(**In);
  } else {
    L.Error = In.error();
  }
  Lists.push_back(std::move(L));
  return Lists;
}

//===-- Opening -----------------------------------------------------------===//

Result<std::vector<MidiMapping>> MidiInput::check(const MidiOptions &O) {
  std::vector<MidiMapping> Mappings;
  if (!O.MapFile.empty()) {
    auto FromFile = loadMidiMapFile(O.MapFile);
    if (!FromFile)
      return fail(FromFile.error());
    Mappings = std::move(*FromFile);
  }
  for (const std::string &Spec : O.Maps) {
    auto M = parseMidiMapping(Spec);
    if (!M)
      return fail(M.error());
    // A mapping given on the command line replaces the file's for its
    // parameter.
    std::erase_if(Mappings, [&](const MidiMapping &Old) {
      return Old.Param == M->Param;
    });
    Mappings.push_back(*M);
  }
  return Mappings;
}

MidiInput::MidiInput(ControlBus &Bus, std::vector<MidiMapping> Mappings,
                     MidiOptions Options, LogFn Log)
    : Bus(Bus), O(std::move(Options)), Log(std::move(Log)),
      Ring(O.RingCapacity), Mapper(std::move(Mappings)) {
  Messages.reserve(256);
  Changes.reserve(256);
}

void MidiInput::attach() {
  Bus.attachSurface(message<Msg::MidiSurface>());
  Events = Bus.subscribe([this](const Event &E) { onEvent(E); });
}

std::unique_ptr<MidiInput> MidiInput::forTest(ControlBus &Bus,
                                              std::vector<MidiMapping> Mappings,
                                              size_t RingCapacity,
                                              std::string MapFile) {
  MidiOptions O;
  O.RingCapacity = RingCapacity;
  O.MapFile = std::move(MapFile);
  std::unique_ptr<MidiInput> M(
      new MidiInput(Bus, std::move(Mappings), std::move(O), {}));
  M->attach();
  return M;
}

Result<std::unique_ptr<MidiInput>>
MidiInput::open(ControlBus &Bus, MidiOptions Options, LogFn Log) {
  auto Mappings = check(Options);
  if (!Mappings)
    return fail(Mappings.error());
  std::shared_ptr<Instance> Inst = Bus.instance();
  if (!Inst)
    return fail(message<Msg::SessionStopped>());
  for (const MidiMapping &M : *Mappings)
    if (auto V = Inst->param(M.Param); !V)
      return fail(
          message<Msg::MidiMapUnknownParam>(midiMappingSpec(M), V.error()));

  std::unique_ptr<MidiInput> Self(
      new MidiInput(Bus, std::move(*Mappings), std::move(Options), Log));
  MidiInput &M = *Self;
  // JACK when its server runs; its client name must be free, so that the
  // port's full name is known ("dspjit:midi_in").
  std::string Client = M.O.ClientName;
  RtMidi::Api Api = RtMidi::LINUX_ALSA;
  if (jack_client_t *C = openJackClient((Client + "-probe").c_str())) {
    Api = RtMidi::UNIX_JACK;
    std::string Taken = Client + ":" + PortSuffix;
    if (jack_port_by_name(C, Taken.c_str()))
      Client += "-" + std::to_string(getpid());
    jack_client_close(C);
  }
  M.Api = Api == RtMidi::UNIX_JACK ? "JACK" : "ALSA";
  if (Api == RtMidi::LINUX_ALSA)
    if (auto Seq = alsaSequencer(); !Seq)
      return fail(message<Msg::MidiNoJackNoAlsa>(Seq.error()));
  ErrorSink Errors;
  auto In = makeInput(Api, Client, Errors);
  if (!In)
    return fail(message<Msg::MidiCannotOpen>(M.Api, In.error()));
  M.In = std::move(*In);
  try {
    M.In->ignoreTypes(/*midiSysex=*/true, /*midiTime=*/true,
                      /*midiSense=*/true);
    M.In->setCallback(
        [](double, std::vector<unsigned char> *Message, void *User) {
          static_cast<MidiInput *>(User)->receive(Message->data(),
                                                  Message->size(), nowNs());
        },
        &M);
    if (M.O.Port.empty()) {
      M.In->openVirtualPort(PortSuffix);
      M.Own = true;
      M.PortName = Client + ":" + PortSuffix;
    } else {
      std::vector<std::string> Names = portNames(*M.In);
      std::optional<unsigned> Index;
      char *End = nullptr;
      unsigned long N = std::strtoul(M.O.Port.c_str(), &End, 10);
      if (*End == '\0' && N < Names.size())
        Index = unsigned(N);
      for (unsigned I = 0; !Index && I < Names.size(); ++I)
        if (Names[I].find(M.O.Port) != std::string::npos)
          Index = I;
      if (!Index && Names.empty())
        return fail(message<Msg::MidiNoPorts>(M.Api, M.O.Port));
      if (!Index)
        return fail(
            message<Msg::MidiNoSuchPort>(M.Api, M.O.Port, listing(Names)));
      M.In->openPort(*Index, PortSuffix);
      M.PortName = Names[*Index];
    }
  } catch (const RtMidiError &E) {
    return fail(message<Msg::MidiCannotOpen>(M.Api, E.getMessage()));
  }
  if (!Errors.Last.empty())
    return fail(message<Msg::MidiCannotOpen>(M.Api, Errors.Last));
  M.attach();
  M.Surface = std::thread([&M] { M.run(); });
  return Self;
}

MidiInput::~MidiInput() {
  // Closing the client waits for a callback in progress: none after this.
  In.reset();
  Quit.store(true);
  if (Surface.joinable())
    Surface.join();
  Events.reset();
  if (!O.MapFile.empty())
    save();
}

//===-- Receiving ---------------------------------------------------------===//

void MidiInput::receive(const unsigned char *Bytes, size_t Size,
                        uint64_t TimeNs) {
  // SysEx, timing and active sensing are ignored by RtMidi; a longer
  // message is no channel message.
  if (Size == 0 || Size > 3)
    return;
  Received.fetch_add(1, std::memory_order_relaxed);
  MidiRingEvent E;
  E.TimeNs = TimeNs;
  E.Size = uint8_t(Size);
  std::copy(Bytes, Bytes + Size, E.Bytes);
  if (Ring.push(&E, 1) == 0)
    Dropped.fetch_add(1, std::memory_order_relaxed);
}

void MidiInput::run() {
  while (!Quit.load(std::memory_order_relaxed))
    if (drain() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

size_t MidiInput::drain() {
  MidiRingEvent Events[256];
  size_t Got = Ring.pop(Events, std::size(Events));
  if (Got == 0)
    return 0;
  std::shared_ptr<Instance> Inst = Bus.instance();
  if (!Inst)
    return Got;
  const DspjitKernel &K = Inst->kernel();
  std::vector<MidiMapping> Learned;
  std::vector<std::string> Notices;
  {
    std::lock_guard<std::mutex> Guard(MapLock);
    Changes.clear();
    for (size_t I = 0; I < Got; ++I) {
      Messages.clear();
      Decoder.feed(Events[I].Bytes, Events[I].Size, Messages);
      for (const MidiMessage &Msg : Messages) {
        if (auto New = Mapper.handle(Msg, K, Changes))
          Learned.push_back(*New);
        // An instrument's voices take notes, bend, pressure and the pedal
        // at the audio thread's next block.
        if (K.voices && !Bus.sendMidi(toChannelMessage(Msg)))
          Dropped.fetch_add(1, std::memory_order_relaxed);
      }
    }
    checkMissing(K, Notices);
  }
  // The last value of each parameter: the audio thread sees no other.
  for (size_t I = 0; I < Changes.size(); ++I) {
    bool Later = false;
    for (size_t J = I + 1; J < Changes.size() && !Later; ++J)
      Later = Changes[J].Param == Changes[I].Param;
    if (Later)
      continue;
    ParamUpdate U = Bus.setParam(Changes[I].Param, Changes[I].Value);
    if (U.stored())
      Applied.fetch_add(1, std::memory_order_relaxed);
  }
  if (!Changes.empty())
    LastLatencyUs.store(double(nowNs() - Events[Got - 1].TimeNs) / 1e3);
  for (const std::string &Text : Notices)
    Bus.publish(
        event::Notice{event::Notice::Warning, message<Msg::MidiLogLine>(Text)});
  for (const MidiMapping &M : Learned) {
    Bus.publish(
        event::Notice{event::Notice::Info,
                      message<Msg::MidiLogLine>(message<Msg::MidiLearned>(
                          M.Param, describeMidiSource(M.Source)))});
    if (!O.MapFile.empty())
      save();
  }
  return Got;
}

//===-- Mappings ----------------------------------------------------------===//

void MidiInput::checkMissing(const DspjitKernel &K,
                             std::vector<std::string> &Notices) {
  for (const MidiMapping &M : Mapper.mappings()) {
    const DspjitSlot *S = findSlot(K, M.Param);
    bool Present = S && S->kind == DSPJIT_SLOT_PARAM;
    auto Reported = std::find(Missing.begin(), Missing.end(), M.Param);
    if (Present && Reported != Missing.end())
      Missing.erase(Reported);
    if (!Present && Reported == Missing.end()) {
      Missing.push_back(M.Param);
      Notices.push_back(
          message<Msg::MidiMappingMissing>(midiMappingSpec(M), M.Param));
    }
  }
}

void MidiInput::onEvent(const Event &E) {
  std::vector<std::string> Notices;
  if (const auto *L = std::get_if<event::MidiLearn>(&E)) {
    std::lock_guard<std::mutex> Guard(MapLock);
    Mapper.learn(L->Param);
    return;
  }
  if (!std::holds_alternative<event::Reloaded>(E))
    return;
  std::shared_ptr<Instance> Inst = Bus.instance();
  if (!Inst)
    return;
  {
    std::lock_guard<std::mutex> Guard(MapLock);
    checkMissing(Inst->kernel(), Notices);
  }
  for (const std::string &Text : Notices)
    Bus.publish(
        event::Notice{event::Notice::Warning, message<Msg::MidiLogLine>(Text)});
}

std::vector<MidiMapping> MidiInput::mappings() const {
  std::lock_guard<std::mutex> Guard(MapLock);
  return Mapper.mappings();
}

void MidiInput::save() {
  auto Saved = saveMidiMapFile(O.MapFile, mappings());
  if (!Saved && Log)
    Log(message<Msg::MidiLogLine>(Saved.error()), true);
}

} // namespace dspjit::session
