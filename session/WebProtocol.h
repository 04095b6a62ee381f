//===- session/WebProtocol.h - The web panel's messages, as JSON -*- C++ -*-===//
//
// The web panel (session/WebPanel.h) and its page talk over one WebSocket
// in JSON text messages. This file is that protocol, apart from any socket,
// so that tests and the fuzzer run exactly what the server runs.
//
// From the page (each at most MaxMessage bytes; anything else is dropped
// and counted, and answered with an error reply):
//
//   {"type":"set","name":"feedback","value":0.6}   one parameter
//   {"type":"reset","what":"params"}               every parameter's default
//   {"type":"reset","what":"state"}                state and delays, crossfaded
//
// To the page:
//
//   hello     {"type":"hello","script","state":"waiting|running|stopped",
//              "rate","protocol":1}: first, on every connection
//   script    the playing version's io, parameters (name, min, max,
//             default, unit, smooth, log, toggle, value) and meters (name,
//             lanes): on connection and whenever a reload changes them
//   tick      parameter targets, meters, output peak and RMS (dBFS), and
//             health (processing time as a share of the deadline now and
//             overall, a histogram, xruns by kind, non-finite samples, CPU
//             load): 30 times a second
//   scope     the last few milliseconds of each output lane, from a rising
//             zero crossing of the first
//   spectrum  each output lane's magnitude in dBFS at log-spaced
//             frequencies (Hann window, FFTW)
//   response  the script's magnitude and phase response at its current
//             parameters (analysis/Response.h), when they change
//   event     a session event (session/Events.h): its kind, its line, and
//             for a failed or warned reload the compiler's diagnostics
//   reply     the answer to a command that did not go as asked (refused,
//             or clamped): {"type":"reply","ok":false,"text":...}
//
// Thread contract: the functions are pure but for handleMessage, which
// calls the bus's controls (any thread but the audio thread).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_WEBPROTOCOL_H
#define DSPJIT_SESSION_WEBPROTOCOL_H

#include "session/ControlBus.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit::session::web {

/// The longest message taken from a page.
constexpr size_t MaxMessage = 4096;

/// What a page asked for.
struct Command {
  enum Kind { Set, ResetParams, ResetState, Learn } What = Set;
  std::string Name; ///< Set, Learn: the parameter
  double Value = 0; ///< Set: the value
};

/// Parses one message from a page; the failure says why, for the user.
Result<Command> parseCommand(std::string_view Text);

/// What handling a message did.
struct Handled {
  bool Ok = true;    ///< false: refused (malformed, unknown name, ...)
  std::string Reply; ///< a reply message to send back, or empty
};

/// Parses and runs one message on `Bus`: what the server does with each.
Handled handleMessage(ControlBus &Bus, std::string_view Text);

//===-- To the page -------------------------------------------------------===//

enum class SessionState { Waiting, Running, Stopped };

std::string helloMessage(std::string_view Script, SessionState State,
                         double Rate);
/// `Inst`'s io, parameters and meters.
/// `MidiOpen`: a MIDI input runs, so the page offers `learn`.
std::string scriptMessage(const Instance &Inst, std::string_view Script,
                          bool MidiOpen = false);
/// A change of parameters or meters between versions, so that the page
/// rebuilds its controls only then.
bool sameControls(const DspjitKernel &A, const DspjitKernel &B);

struct Health {
  TimingSummary Summary;
  double RecentShare = 0; ///< mean share since the last tick
  double CpuLoad = 0;
  std::array<uint64_t, CallbackStats::ShareBuckets> Buckets = {};
};
/// Peak and RMS of each output lane since the last tick, in dBFS.
struct Levels {
  std::vector<double> PeakDb, RmsDb;
};
std::string tickMessage(const Instance &Inst, const Levels &Out,
                        const Health &H, double Seconds);
std::string scopeMessage(const std::vector<std::vector<float>> &Lanes,
                         double Rate);
std::string spectrumMessage(const std::vector<double> &Hz,
                            const std::vector<std::vector<double>> &Db);
/// The magnitude and phase at `Hz`, and the band the magnitude fills
/// between points (analysis::FrequencyResponse's MinDb and MaxDb: an
/// echo's comb teeth are closer than the points).
std::string responseMessage(const std::vector<double> &Hz,
                            const std::vector<double> &MagnitudeDb,
                            const std::vector<double> &PhaseDegrees,
                            const std::vector<double> &MinDb,
                            const std::vector<double> &MaxDb);
std::string eventMessage(const Event &E);
std::string replyMessage(bool Ok, std::string_view Text);

} // namespace dspjit::session::web

#endif
