//===- tests/support/JackProbe.cpp - Plays and records JACK ports for tests ===//
//
// See JackProbe.h.
//
//===----------------------------------------------------------------------===//
#include "tests/support/JackProbe.h"

#include <jack/jack.h>

#include <algorithm>
#include <cstdlib>

namespace dspjit::test {

float JackProbe::playedSample(uint32_t Time, unsigned Channel) {
  // A 32-bit integer hash (lowbias32) of time and channel; the top 24 bits
  // scaled, so every value is exact in float.
  uint32_t X = Time * 2u + Channel * 0x9E3779B9u + 0x6A09E667u;
  X ^= X >> 16;
  X *= 0x7FEB352Du;
  X ^= X >> 15;
  X *= 0x846CA68Bu;
  X ^= X >> 16;
  return static_cast<float>(X >> 8) * 0x1p-24f - 0.5f;
}

Result<std::unique_ptr<JackProbe>> JackProbe::open(const Options &Opts) {
  std::unique_ptr<JackProbe> Probe(new JackProbe());
  jack_status_t Status;
  Probe->Client =
      jack_client_open(Opts.ClientName.c_str(), JackNoStartServer, &Status);
  if (!Probe->Client)
    return fail("cannot open JACK client '" + Opts.ClientName + "' (status 0x" +
                [&] {
                  char Hex[16];
                  std::snprintf(Hex, sizeof(Hex), "%x", unsigned(Status));
                  return std::string(Hex);
                }() +
                ")");

  for (unsigned I = 1; I <= Opts.PlayPorts; ++I) {
    std::string Name = "play_" + std::to_string(I);
    jack_port_t *Port =
        jack_port_register(Probe->Client, Name.c_str(), JACK_DEFAULT_AUDIO_TYPE,
                           JackPortIsOutput, 0);
    if (!Port)
      return fail("cannot register JACK port " + Name);
    Probe->Play.push_back(Port);
  }
  for (unsigned I = 1; I <= Opts.RecordPorts; ++I) {
    std::string Name = "record_" + std::to_string(I);
    jack_port_t *Port =
        jack_port_register(Probe->Client, Name.c_str(), JACK_DEFAULT_AUDIO_TYPE,
                           JackPortIsInput, 0);
    if (!Port)
      return fail("cannot register JACK port " + Name);
    Probe->Record.push_back(Port);
    Probe->Recording.emplace_back(Opts.RecordCapacity);
  }
  Probe->Times.resize(Opts.RecordPorts ? Opts.RecordCapacity : 0);

  jack_set_process_callback(Probe->Client, &JackProbe::processCallback,
                            Probe.get());
  if (jack_activate(Probe->Client) != 0)
    return fail("cannot activate JACK client '" + Opts.ClientName + "'");
  Probe->Active = true;
  return Probe;
}

JackProbe::~JackProbe() {
  stop();
  if (Client)
    jack_client_close(Client);
}

int JackProbe::processCallback(uint32_t Frames, void *Self) {
  return static_cast<JackProbe *>(Self)->process(Frames);
}

int JackProbe::process(uint32_t Frames) {
  jack_nframes_t Start = jack_last_frame_time(Client);
  for (unsigned C = 0; C < Play.size(); ++C) {
    auto *Out = static_cast<float *>(jack_port_get_buffer(Play[C], Frames));
    for (uint32_t F = 0; F < Frames; ++F)
      Out[F] = playedSample(Start + F, C);
  }
  if (!Record.empty()) {
    uint64_t Done = Recorded.load(std::memory_order_relaxed);
    uint64_t N = std::min<uint64_t>(Frames, Times.size() - Done);
    for (unsigned C = 0; C < Record.size(); ++C) {
      auto *In =
          static_cast<const float *>(jack_port_get_buffer(Record[C], Frames));
      std::copy_n(In, N, Recording[C].begin() + Done);
    }
    for (uint64_t F = 0; F < N; ++F)
      Times[Done + F] = Start + static_cast<uint32_t>(F);
    Recorded.store(Done + N, std::memory_order_release);
  }
  Cycles.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

std::string JackProbe::playPort(unsigned Index) const {
  return jack_port_name(Play.at(Index));
}

std::string JackProbe::recordPort(unsigned Index) const {
  return jack_port_name(Record.at(Index));
}

std::vector<std::string> JackProbe::findPorts(const std::string &Pattern,
                                              unsigned long Flags) const {
  std::vector<std::string> Names;
  if (const char **Ports = jack_get_ports(Client, Pattern.c_str(),
                                          JACK_DEFAULT_AUDIO_TYPE, Flags)) {
    for (const char **P = Ports; *P; ++P)
      Names.emplace_back(*P);
    jack_free(Ports);
  }
  std::sort(Names.begin(), Names.end());
  return Names;
}

Result<void> JackProbe::connect(const std::string &Source,
                                const std::string &Destination) {
  if (int Error = jack_connect(Client, Source.c_str(), Destination.c_str());
      Error != 0)
    return fail("cannot connect JACK port " + Source + " to " + Destination +
                " (error " + std::to_string(Error) + ")");
  return {};
}

uint32_t JackProbe::frameTime() const { return jack_frame_time(Client); }

void JackProbe::stop() {
  if (Active && Client)
    jack_deactivate(Client);
  Active = false;
}

uint64_t JackProbe::recordedFrames() const {
  return Recorded.load(std::memory_order_acquire);
}

} // namespace dspjit::test
