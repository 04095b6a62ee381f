//===- session/ControlBus.cpp - Where every surface meets the session -----===//
//
// See ControlBus.h. Subscribers live in a shared block that Subscriptions
// point to weakly, so that a Subscription may outlive the bus.
//
//===----------------------------------------------------------------------===//
#include "session/ControlBus.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>

namespace dspjit::session {

struct ControlBus::Subscribers {
  struct Entry {
    uint64_t Id;
    std::shared_ptr<Subscriber> Call;
  };
  std::mutex Lock; ///< guards List and NextId
  /// One event at a time, in order; held by remove() too, so that a
  /// subscriber is never called after its Subscription is gone. Recursive:
  /// a subscriber may publish, or drop its own Subscription.
  std::recursive_mutex DeliverLock;
  std::vector<Entry> List;
  uint64_t NextId = 1;

  void remove(uint64_t Id) {
    std::lock_guard<std::recursive_mutex> Delivering(DeliverLock);
    std::lock_guard<std::mutex> Guard(Lock);
    std::erase_if(List, [&](const Entry &E) { return E.Id == Id; });
  }
};

//===-- Subscription ------------------------------------------------------===//

Subscription::Subscription(Subscription &&Other) noexcept
    : Bus(std::move(Other.Bus)), Id(std::exchange(Other.Id, 0)) {}

Subscription &Subscription::operator=(Subscription &&Other) noexcept {
  if (this != &Other) {
    reset();
    Bus = std::move(Other.Bus);
    Id = std::exchange(Other.Id, 0);
  }
  return *this;
}

Subscription::~Subscription() { reset(); }

void Subscription::reset() {
  if (auto S = Bus.lock())
    static_cast<ControlBus::Subscribers *>(S.get())->remove(Id);
  Bus.reset();
  Id = 0;
}

//===-- ControlBus --------------------------------------------------------===//

ControlBus::ControlBus(Host &H)
    : H(&H), Subs(std::make_shared<Subscribers>()) {}

ControlBus::~ControlBus() = default;

static Failure stopped() { return fail(message<Msg::SessionStopped>()); }

ParamUpdate ControlBus::setParam(std::string_view Name, float Value) {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  if (!H)
    return {ParamUpdate::UnknownName, Value, message<Msg::SessionStopped>()};
  return H->setParam(Name, Value);
}

Result<std::string> ControlBus::midiLearn(std::string_view Param) {
  std::vector<std::string> Open = surfaces();
  if (std::find(Open.begin(), Open.end(), message<Msg::MidiSurface>()) ==
      Open.end())
    return fail(message<Msg::MidiNotOpen>());
  std::shared_ptr<Instance> Inst = instance();
  if (!Inst)
    return stopped();
  if (auto V = Inst->param(Param); !V)
    return fail(V.error());
  event::MidiLearn Learn{std::string(Param)};
  publish(Learn);
  return message<Msg::MidiLearning>(Learn.Param);
}

bool ControlBus::sendMidi(const ChannelMessage &M) {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  return H && H->sendMidi(M);
}

HotSwap::VoiceCounts ControlBus::voiceCounts() const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  return H ? H->voiceCounts() : HotSwap::VoiceCounts{};
}

Result<void> ControlBus::resetParams() {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  if (!H)
    return stopped();
  H->resetParams();
  return {};
}

Result<void> ControlBus::resetState() {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  if (!H)
    return stopped();
  return H->resetState();
}

void ControlBus::requestStop() {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  if (H)
    H->requestStop();
}

std::shared_ptr<Instance> ControlBus::instance() const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  return H ? H->instance() : nullptr;
}

Result<std::vector<float>> ControlBus::meter(std::string_view Name) const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  if (!H)
    return stopped();
  return H->meter(Name);
}

Result<TimingSummary> ControlBus::summary() const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  if (!H)
    return stopped();
  return H->summary();
}

double ControlBus::cpuLoad() const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  return H ? H->cpuLoad() : 0;
}

std::array<uint64_t, CallbackStats::ShareBuckets>
ControlBus::shareBuckets() const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  return H ? H->shareBuckets()
           : std::array<uint64_t, CallbackStats::ShareBuckets>{};
}

double ControlBus::sampleRate() const {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  return H ? H->sampleRate() : 0;
}

size_t ControlBus::readMonitor(float *Out, size_t MaxFrames,
                               unsigned &Channels) {
  std::shared_lock<std::shared_mutex> Guard(HostLock);
  Channels = H ? H->outputs() : 0;
  return H ? H->readMonitor(Out, MaxFrames) : 0;
}

void ControlBus::detach() {
  std::unique_lock<std::shared_mutex> Guard(HostLock);
  H = nullptr;
}

Subscription ControlBus::subscribe(Subscriber S) {
  std::lock_guard<std::mutex> Guard(Subs->Lock);
  uint64_t Id = Subs->NextId++;
  Subs->List.push_back({Id, std::make_shared<Subscriber>(std::move(S))});
  return Subscription(std::shared_ptr<void>(Subs), Id);
}

void ControlBus::publish(const Event &E) {
  std::lock_guard<std::recursive_mutex> Order(Subs->DeliverLock);
  std::vector<std::shared_ptr<Subscriber>> Calls;
  {
    std::lock_guard<std::mutex> Guard(Subs->Lock);
    for (const Subscribers::Entry &Entry : Subs->List)
      Calls.push_back(Entry.Call);
  }
  for (const std::shared_ptr<Subscriber> &Call : Calls)
    (*Call)(E);
}

void ControlBus::attachSurface(const std::string &Name) {
  std::lock_guard<std::mutex> Guard(SurfaceLock);
  if (std::find(SurfaceNames.begin(), SurfaceNames.end(), Name) ==
      SurfaceNames.end())
    SurfaceNames.push_back(Name);
}

void ControlBus::countError(const std::string &Surface) {
  attachSurface(Surface);
  Errors.fetch_add(1);
}

std::vector<std::string> ControlBus::surfaces() const {
  std::lock_guard<std::mutex> Guard(SurfaceLock);
  return SurfaceNames;
}

} // namespace dspjit::session
