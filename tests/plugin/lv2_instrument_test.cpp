//===- tests/plugin/lv2_instrument_test.cpp - An exported instrument in jalv ===//
//
// An instrument (`voices N;`) exported with `dspjit export lv2` has a MIDI
// input: jalv runs it on a private JACK dummy server, a JACK client of the
// test's own sends it a note, and a probe records it: silent before the
// note, sounding after it.
//
//===----------------------------------------------------------------------===//
#include "tests/plugin/JalvRig.h"
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <jack/jack.h>
#include <jack/midiport.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

/// A JACK client with one MIDI output that writes a note-on every 4096
/// frames while Playing (again and again: a connection made just before
/// may take effect a cycle or two later, and a loaded machine may run
/// those cycles late).
struct NoteSender {
  jack_client_t *Client = nullptr;
  jack_port_t *Port = nullptr;
  std::atomic<bool> Playing{false};
  uint32_t Since = 4096;

  bool open() {
    Client = jack_client_open("notes", JackNoStartServer, nullptr);
    if (!Client)
      return false;
    Port = jack_port_register(Client, "midi_out", JACK_DEFAULT_MIDI_TYPE,
                              JackPortIsOutput, 0);
    jack_set_process_callback(Client, &NoteSender::process, this);
    return Port && jack_activate(Client) == 0;
  }
  ~NoteSender() {
    if (Client) {
      jack_deactivate(Client);
      jack_client_close(Client);
    }
  }
  static int process(jack_nframes_t Frames, void *Arg) {
    auto *Self = static_cast<NoteSender *>(Arg);
    void *Buffer = jack_port_get_buffer(Self->Port, Frames);
    jack_midi_clear_buffer(Buffer);
    if (Self->Playing.load() && (Self->Since += Frames) >= 4096) {
      const jack_midi_data_t NoteOn[3] = {0x90, 60, 100};
      jack_midi_event_write(Buffer, 0, NoteOn, 3);
      Self->Since = 0;
    }
    return 0;
  }
};

float peak(const JackProbe &P, uint64_t From, uint64_t To) {
  float Peak = 0;
  for (uint64_t I = From; I < std::min(To, P.recordedFrames()); ++I)
    Peak = std::max(Peak, std::fabs(P.recorded(0)[I]));
  return Peak;
}

TEST(Lv2Instrument, AnExportedInstrumentPlaysTheNotesJalvSendsIt) {
  const fs::path Dir = fs::temp_directory_path() /
                       ("dspjit-lv2-instrument-" + std::to_string(getpid()));
  fs::create_directories(Dir);
  ChildResult X = runChild(
      DSPJIT_BINARY, {"export", "lv2",
                      std::string(DSPJIT_SOURCE_DIR) + "/examples/subsynth.dsp",
                      "-o", Dir.string()});
  ASSERT_EQ(X.Status, 0) << X.describe();
  JalvRig Rig;
  ASSERT_NO_FATAL_FAILURE(Rig.start(Dir.string(), Dir / "cache", 1));
  NoteSender Notes;
  ASSERT_TRUE(Notes.open());
  Rig.Server->finishSetup();
  JackProbe &P = *Rig.Probe;

  uint64_t Connected = 0, Sent = 0, End = 0;
  std::string Failure;
  ChildOptions CO;
  CO.CloseStdin = false;
  CO.TimeoutSeconds = 40;
  CO.Actions = {
      {.AfterSeconds = 1.0,
       .Run =
           [&] {
             if (auto Ok =
                     P.connect("dspjit-synth-test:out_1", P.recordPort(0));
                 !Ok)
               Failure = Ok.error();
             if (jack_connect(Notes.Client, "notes:midi_out",
                              "dspjit-synth-test:midi_in") != 0)
               Failure += " cannot connect notes:midi_out";
             Connected = P.recordedFrames();
           },
       .WaitFor = "Update rate"},
      {.AfterSeconds = 0.5,
       .Run =
           [&] {
             Sent = P.recordedFrames();
             Notes.Playing = true;
           }},
      {.AfterSeconds = 1.0, .Run = [&] { End = P.recordedFrames(); }},
      {.AfterSeconds = 0.1, .Signal = SIGINT},
  };
  ChildResult J = runChild(
      "/usr/bin/jalv",
      {"-n", "dspjit-synth-test", "-x", "urn:dspjit:plugin:subsynth"}, CO);
  P.stop();
  Rig.Server->beginShutdown();
  ASSERT_TRUE(Failure.empty()) << Failure << "\n" << J.describe();
  ASSERT_GT(End, Sent) << J.describe();
  EXPECT_LT(peak(P, Connected, Sent), 1e-6f) << J.describe();
  EXPECT_GT(peak(P, Sent, End), 0.01f) << J.describe();
  std::error_code EC;
  fs::remove_all(Dir, EC);
}

} // namespace
