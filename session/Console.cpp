//===- session/Console.cpp - Commands typed while an effect runs ----------===//
#include "session/Console.h"

#include "runtime/MessageCatalog.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace dspjit::session {

const char *commandHelp() {
  // The format is the text: it has no arguments and names no option.
  static_assert(detail::argumentCount(
                    detail::MsgFormats[size_t(Msg::ConsoleHelp)]) == 0);
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

CommandReply runCommand(ControlBus &Bus, std::string_view Line) {
  std::vector<std::string_view> W = words(Line);
  if (W.empty())
    return {};
  // One version for the whole command, kept alive across a reload.
  std::shared_ptr<Instance> Inst = Bus.instance();
  if (!Inst)
    return {message<Msg::SessionStopped>(), CommandReply::Error};
  const DspjitKernel &K = Inst->kernel();
  const std::string Cmd(W[0]);
  auto Error = [](std::string Text) {
    return CommandReply{std::move(Text), CommandReply::Error};
  };
  auto Arity = [&](size_t Min, size_t Max) {
    return W.size() - 1 >= Min && W.size() - 1 <= Max;
  };

  if (Cmd == "help" || Cmd == "?")
    return {commandHelp()};
  if (Cmd == "quit" || Cmd == "exit") {
    Bus.requestStop();
    return {message<Msg::ConsoleStopping>()};
  }
  if (Cmd == "set") {
    if (!Arity(2, 2))
      return Error(message<Msg::ConsoleUsageSet>());
    std::string Text(W[2]);
    char *End = nullptr;
    errno = 0;
    float V = std::strtof(Text.c_str(), &End);
    if (*End != '\0' || End == Text.c_str())
      return Error(message<Msg::ConsoleNotANumber>(W[1], Text));
    if (errno == ERANGE && std::isinf(V)) // "1e999", not "inf"
      return Error(message<Msg::ConsoleOutOfRange>(W[1], Text));
    ParamUpdate U = Bus.setParam(W[1], V);
    if (!U.stored())
      return Error(U.Message);
    if (U.Status == ParamUpdate::Clamped)
      return {U.Message, CommandReply::Warning};
    return {std::string(W[1]) + " = " + formatNumber(U.Value)};
  }
  if (Cmd == "get") {
    if (!Arity(0, 1))
      return Error(message<Msg::ConsoleUsageGet>());
    if (W.size() == 2) {
      auto V = Inst->param(W[1]);
      if (!V)
        return Error(V.error());
      return {paramLine(*Inst, *findSlot(K, W[1]))};
    }
    std::string Text;
    for (uint32_t S = 0; S < K.num_slots; ++S)
      if (K.slots[S].kind == DSPJIT_SLOT_PARAM)
        Text += (Text.empty() ? "" : "\n") + paramLine(*Inst, K.slots[S]);
    return {Text.empty() ? message<Msg::ConsoleNoParameters>() : Text};
  }
  if (Cmd == "params") {
    std::string Text;
    for (uint32_t S = 0; S < K.num_slots; ++S) {
      const DspjitSlot &P = K.slots[S];
      if (P.kind != DSPJIT_SLOT_PARAM)
        continue;
      Text += (Text.empty() ? "" : "\n") + std::string(P.name) + " = " +
              formatNumber(*Inst->param(P.name)) + " in [" +
              formatNumber(P.min) + ", " + formatNumber(P.max) + "]" +
              (P.unit[0] ? " " : "") + P.unit + ", default " +
              formatNumber(P.def);
    }
    return {Text.empty() ? message<Msg::ConsoleNoParameters>() : Text};
  }
  if (Cmd == "meters") {
    std::string Text;
    for (uint32_t S = 0; S < K.num_slots; ++S) {
      const DspjitSlot &M = K.slots[S];
      if (M.kind != DSPJIT_SLOT_METER)
        continue;
      Text += (Text.empty() ? "" : "\n") + std::string(M.name) + " =";
      auto Lanes = Inst->meter(M.name); // kept: *meter() in the for would dangle
      for (float V : *Lanes)
        Text += " " + formatNumber(V);
    }
    return {Text.empty() ? message<Msg::ConsoleNoMeters>() : Text};
  }
  if (Cmd == "stats") {
    auto Summary = Bus.summary();
    if (!Summary)
      return Error(Summary.error());
    std::string Text = Summary->text();
    if (!Text.empty() && Text.back() == '\n')
      Text.pop_back();
    return {Text};
  }
  if (Cmd == "reset") {
    if (!Arity(0, 1))
      return Error(message<Msg::ConsoleUsageReset>());
    if (W.size() == 2 && W[1] != "state")
      return Error(message<Msg::ConsoleResetWhat>(W[1]));
    if (W.size() == 2) {
      if (auto R = Bus.resetState(); !R)
        return Error(R.error());
      return {message<Msg::ConsoleStateReset>()};
    }
    if (auto R = Bus.resetParams(); !R)
      return Error(R.error());
    return {message<Msg::ConsoleParamsReset>()};
  }
  std::vector<std::string> Known = {"set",  "get",   "params", "meters",
                                    "stats", "reset", "help",   "quit"};
  if (std::string Close = closestName(Cmd, Known); !Close.empty())
    return Error(message<Msg::ConsoleUnknownCommandDidYouMean>(Cmd, Close));
  return Error(message<Msg::ConsoleUnknownCommand>(Cmd));
}

std::unique_ptr<Console> Console::start(ControlBus &Bus, int Fd,
                                        PrintFn Print) {
  std::unique_ptr<Console> C(new Console(Bus, Fd, std::move(Print)));
  Console *Self = C.get();
  C->Events = Bus.subscribe([Self](const Event &E) {
    Self->Print(ConsoleLine{nullptr, &E});
  });
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
      return reply({message<Msg::ConsoleUnreadableLine>(), CommandReply::Error});
  reply(runCommand(Bus, Line));
}

void Console::readLoop() {
  constexpr size_t MaxLine = 1024;
  std::string Pending;
  bool Discarding = false; // inside an over-long line
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
    if (Got <= 0) { // end of input: the session goes on without commands
      if (!Pending.empty() && !Discarding)
        handleLine(Pending);
      return;
    }
    for (ssize_t I = 0; I < Got; ++I) {
      char C = Buffer[I];
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
}

} // namespace dspjit::session
