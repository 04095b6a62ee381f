//===- session/Console.cpp - Commands typed while an effect runs ----------===//
#include "session/Console.h"

#include "runtime/MessageCatalog.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace dspjit::session {

const char *commandHelp() {
  // The format is the text: it has no arguments and names no option.
  static_assert(
      detail::argumentCount(detail::MsgFormats[size_t(Msg::ConsoleHelp)]) == 0);
  return msgFormat(Msg::ConsoleHelp);
}

static std::vector<std::string_view> words(std::string_view Line) {
  std::vector<std::string_view> W;
  size_t I = 0;
  while (I < Line.size()) {
    while (I < Line.size() && (Line[I] == ' ' || Line[I] == '\t'))
      ++I;
    size_t Start = I;
    while (I < Line.size() && Line[I] != ' ' && Line[I] != '\t')
      ++I;
    if (I > Start)
      W.push_back(Line.substr(Start, I - Start));
  }
  return W;
}

static std::string paramLine(const Instance &I, const DspjitSlot &P) {
  std::ostringstream Out;
  Out << P.name << " = " << formatNumber(*I.param(P.name));
  float Smoothed = *I.smoothedParam(P.name);
  if (Smoothed != *I.param(P.name))
    Out << " (now " << formatNumber(Smoothed) << ")";
  return Out.str();
}

namespace {
/// One command line, split, with the version it runs against.
struct Command {
  ControlBus &Bus;
  std::vector<std::string_view> Words;
  std::shared_ptr<Instance> Inst; ///< kept alive across a reload
  const DspjitKernel &kernel() const { return Inst->kernel(); }
  /// The number of arguments is within [Min, Max].
  bool takes(size_t Min, size_t Max) const {
    return Words.size() - 1 >= Min && Words.size() - 1 <= Max;
  }
};

CommandReply error(std::string Text) {
  return CommandReply{std::move(Text), CommandReply::Error};
}

/// Every slot of `Kind`, one line each from `Line`, or `None`.
template <class LineFn>
std::string slotLines(const DspjitKernel &K, uint32_t Kind, LineFn Line,
                      std::string None) {
  std::string Text;
  for (uint32_t S = 0; S < K.num_slots; ++S)
    if (K.slots[S].kind == Kind)
      Text += (Text.empty() ? "" : "\n") + Line(K.slots[S]);
  return Text.empty() ? None : Text;
}

/// set NAME VALUE
CommandReply setCommand(const Command &C) {
  if (!C.takes(2, 2))
    return error(message<Msg::ConsoleUsageSet>());
  std::string Text(C.Words[2]);
  char *End = nullptr;
  errno = 0;
  float V = std::strtof(Text.c_str(), &End);
  if (*End != '\0' || End == Text.c_str())
    return error(message<Msg::ConsoleNotANumber>(C.Words[1], Text));
  if (errno == ERANGE && std::isinf(V)) // "1e999", not "inf"
    return error(message<Msg::ConsoleOutOfRange>(C.Words[1], Text));
  ParamUpdate U = C.Bus.setParam(C.Words[1], V);
  if (!U.stored())
    return error(U.Message);
  if (U.Status == ParamUpdate::Clamped)
    return {U.Message, CommandReply::Warning};
  return {std::string(C.Words[1]) + " = " + formatNumber(U.Value)};
}

/// get [NAME]
CommandReply getCommand(const Command &C) {
  if (!C.takes(0, 1))
    return error(message<Msg::ConsoleUsageGet>());
  if (C.Words.size() == 2) {
    auto V = C.Inst->param(C.Words[1]);
    if (!V)
      return error(V.error());
    return {paramLine(*C.Inst, *findSlot(C.kernel(), C.Words[1]))};
  }
  return {slotLines(
      C.kernel(), DSPJIT_SLOT_PARAM,
      [&](const DspjitSlot &P) { return paramLine(*C.Inst, P); },
      message<Msg::ConsoleNoParameters>())};
}

/// params
CommandReply paramsCommand(const Command &C) {
  auto Line = [&](const DspjitSlot &P) {
    return std::string(P.name) + " = " + formatNumber(*C.Inst->param(P.name)) +
           " in [" + formatNumber(P.min) + ", " + formatNumber(P.max) + "]" +
           (P.unit[0] ? " " : "") + P.unit + ", default " + formatNumber(P.def);
  };
  return {slotLines(C.kernel(), DSPJIT_SLOT_PARAM, Line,
                    message<Msg::ConsoleNoParameters>())};
}

/// meters
CommandReply metersCommand(const Command &C) {
  auto Line = [&](const DspjitSlot &M) {
    std::string Text = std::string(M.name) + " =";
    auto Lanes =
        C.Inst->meter(M.name); // kept: *meter() in the for would dangle
    for (float V : *Lanes)
      Text += " " + formatNumber(V);
    return Text;
  };
  return {slotLines(C.kernel(), DSPJIT_SLOT_METER, Line,
                    message<Msg::ConsoleNoMeters>())};
}

/// stats
CommandReply statsCommand(const Command &C) {
  auto Summary = C.Bus.summary();
  if (!Summary)
    return error(Summary.error());
  std::string Text = Summary->text();
  if (!Text.empty() && Text.back() == '\n')
    Text.pop_back();
  return {Text};
}

/// reset [state]
CommandReply resetCommand(const Command &C) {
  if (!C.takes(0, 1))
    return error(message<Msg::ConsoleUsageReset>());
  if (C.Words.size() == 2 && C.Words[1] != "state")
    return error(message<Msg::ConsoleResetWhat>(C.Words[1]));
  if (C.Words.size() == 2) {
    if (auto R = C.Bus.resetState(); !R)
      return error(R.error());
    return {message<Msg::ConsoleStateReset>()};
  }
  if (auto R = C.Bus.resetParams(); !R)
    return error(R.error());
  return {message<Msg::ConsoleParamsReset>()};
}

/// quit
CommandReply quitCommand(const Command &C) {
  C.Bus.requestStop();
  return {message<Msg::ConsoleStopping>()};
}

/// learn NAME: the MIDI input, if one is open, maps the next control moved.
/// The console does not know the MIDI surface: it asks on the bus.
CommandReply learnCommand(const Command &C) {
  if (!C.takes(1, 1))
    return error(message<Msg::MidiUsageLearn>());
  auto Learning = C.Bus.midiLearn(C.Words[1]);
  if (!Learning)
    return error(Learning.error());
  return {*Learning};
}

CommandReply helpCommand(const Command &) { return {commandHelp()}; }

struct CommandEntry {
  const char *Name;
  CommandReply (*Run)(const Command &);
};

const CommandEntry Commands[] = {
    {"set", setCommand},       {"get", getCommand},
    {"params", paramsCommand}, {"meters", metersCommand},
    {"stats", statsCommand},   {"reset", resetCommand},
    {"learn", learnCommand},   {"help", helpCommand},
    {"?", helpCommand},        {"quit", quitCommand},
    {"exit", quitCommand}};
} // namespace

CommandReply runCommand(ControlBus &Bus, std::string_view Line) {
  std::vector<std::string_view> W = words(Line);
  if (W.empty())
    return {};
  // One version for the whole command, kept alive across a reload.
  std::shared_ptr<Instance> Inst = Bus.instance();
  if (!Inst)
    return error(message<Msg::SessionStopped>());
  const Command C{Bus, W, std::move(Inst)};
  for (const CommandEntry &E : Commands)
    if (W[0] == E.Name)
      return E.Run(C);
  const std::string Cmd(W[0]);
  std::vector<std::string> Known = {"set",    "get",   "params",
                                    "meters", "stats", "reset",
                                    "learn",  "help",  "quit"};
  if (std::string Close = closestName(Cmd, Known); !Close.empty())
    return error(message<Msg::ConsoleUnknownCommandDidYouMean>(Cmd, Close));
  return error(message<Msg::ConsoleUnknownCommand>(Cmd));
}

std::unique_ptr<Console> Console::start(ControlBus &Bus, int Fd,
                                        PrintFn Print) {
  std::unique_ptr<Console> C(new Console(Bus, Fd, std::move(Print)));
  Console *Self = C.get();
  C->Events = Bus.subscribe(
      [Self](const Event &E) { Self->Print(ConsoleLine{nullptr, &E}); });
  if (Fd >= 0) {
    Bus.attachSurface(message<Msg::ConsoleSurface>());
    C->Reader = std::thread([Self] { Self->readLoop(); });
  }
  return C;
}

void Console::reply(const CommandReply &R) {
  if (R.Status == CommandReply::Error) {
    ++Errors;
    Bus.countError(message<Msg::ConsoleSurface>());
  }
  if (!R.Text.empty())
    Print(ConsoleLine{&R, nullptr});
}

Console::~Console() {
  Quit.store(true);
  if (Reader.joinable())
    Reader.join();
  Events.reset();
}

void Console::handleLine(std::string_view Line) {
  if (!Line.empty() && Line.back() == '\r')
    Line.remove_suffix(1);
  for (unsigned char C : Line)
    if ((C < 0x20 && C != '\t') || C == 0x7f)
      return reply(
          {message<Msg::ConsoleUnreadableLine>(), CommandReply::Error});
  reply(runCommand(Bus, Line));
}

void Console::feed(const char *Bytes, size_t Size) {
  for (size_t I = 0; I < Size; ++I) {
    char C = Bytes[I];
    if (C == '\n') {
      if (!Discarding)
        handleLine(Pending);
      Pending.clear();
      Discarding = false;
      continue;
    }
    if (Discarding)
      continue;
    Pending += C;
    if (Pending.size() > MaxLine) {
      reply({message<Msg::ConsoleLineTooLong>(MaxLine), CommandReply::Error});
      Pending.clear();
      Discarding = true;
    }
  }
}

void Console::endInput() {
  if (!Pending.empty() && !Discarding)
    handleLine(Pending);
  Pending.clear();
  Discarding = false;
}

void Console::readLoop() {
  char Buffer[4096];
  while (!Quit.load()) {
    pollfd P = {Fd, POLLIN, 0};
    int Ready = ::poll(&P, 1, 100);
    if (Ready < 0 && errno != EINTR)
      return;
    if (Ready <= 0)
      continue;
    ssize_t Got = ::read(Fd, Buffer, sizeof Buffer);
    if (Got < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (Got <= 0) // end of input: the session goes on without commands
      return endInput();
    feed(Buffer, size_t(Got));
  }
}

} // namespace dspjit::session
