//===- session/MidiMap.cpp - MIDI bytes to parameter values ---------------===//
//
// See MidiMap.h. The curves and the 14-bit pairs follow the MIDI 1.0
// specification: CC 0-31 are the MSBs of controllers whose LSBs are CC
// 32-63; an LSB refines the MSB sent before it.
//
//===----------------------------------------------------------------------===//
#include "session/MidiMap.h"

#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace dspjit::session {

//===-- MidiDecoder -------------------------------------------------------===//

/// Data bytes of a channel message of this status: 1 or 2.
static unsigned dataBytes(uint8_t Status) {
  uint8_t Kind = Status & 0xf0;
  return Kind == 0xc0 || Kind == 0xd0 ? 1 : 2;
}

ChannelMessage toChannelMessage(const MidiMessage &M) {
  return {{M.Status, M.Data1, M.Data2}, uint8_t(1 + dataBytes(M.Status))};
}

void MidiDecoder::feed(const uint8_t *Bytes, size_t Size,
                       std::vector<MidiMessage> &Out) {
  for (size_t I = 0; I < Size; ++I) {
    uint8_t B = Bytes[I];
    if (B >= 0xf8) // real time: may come anywhere, changes nothing
      continue;
    if (B == 0xf0) {
      InSysex = true;
      Running = 0;
      Have = 0;
      continue;
    }
    if (B >= 0xf1) { // end of SysEx, or system common: no running status
      InSysex = false;
      Running = 0;
      Have = 0;
      continue;
    }
    if (B >= 0x80) {
      InSysex = false;
      Running = B;
      Have = 0;
      continue;
    }
    if (InSysex || !Running) {
      ++Skipped;
      continue;
    }
    Data[Have++] = B;
    if (Have < dataBytes(Running))
      continue;
    Out.push_back({Running, Data[0], Have == 2 ? Data[1] : uint8_t(0)});
    Have = 0;
  }
}

//===-- Specs and files ---------------------------------------------------===//

static bool parseNumber(std::string_view Text, unsigned Max, unsigned &Out) {
  if (Text.empty() || Text.size() > 3)
    return false;
  unsigned V = 0;
  for (char C : Text) {
    if (C < '0' || C > '9')
      return false;
    V = V * 10 + unsigned(C - '0');
  }
  Out = V;
  return V <= Max;
}

Result<MidiMapping> parseMidiMapping(std::string_view Spec) {
  auto Bad = [&] { return fail(message<Msg::MidiBadSpec>(abbreviated(Spec))); };
  size_t Eq = Spec.find('=');
  if (Eq == std::string_view::npos || Eq == 0)
    return Bad();
  MidiMapping M;
  M.Param = std::string(Spec.substr(0, Eq));
  for (char C : M.Param)
    if (std::isspace(static_cast<unsigned char>(C)) || C == '/')
      return Bad();
  std::string Source;
  for (char C : Spec.substr(Eq + 1))
    Source += char(std::tolower(static_cast<unsigned char>(C)));
  if (size_t Slash = Source.find('/'); Slash != std::string::npos) {
    unsigned Channel = 0;
    if (Source.compare(Slash + 1, 2, "ch") != 0 ||
        !parseNumber(std::string_view(Source).substr(Slash + 3), 16, Channel) ||
        Channel < 1)
      return Bad();
    M.Source.Channel = uint8_t(Channel);
    Source.resize(Slash);
  }
  unsigned Number = 0;
  if (Source == "bend") {
    M.Source.Type = MidiSource::Bend;
  } else if (Source == "aftertouch") {
    M.Source.Type = MidiSource::Aftertouch;
  } else if (Source.rfind("cc", 0) == 0 &&
             parseNumber(std::string_view(Source).substr(2), 127, Number)) {
    M.Source.Type = MidiSource::CC;
    M.Source.Number = uint8_t(Number);
  } else {
    return Bad();
  }
  return M;
}

static std::string sourceSpec(const MidiSource &S) {
  switch (S.Type) {
  case MidiSource::CC: return "cc" + std::to_string(S.Number);
  case MidiSource::Bend: return "bend";
  case MidiSource::Aftertouch: return "aftertouch";
  }
  return "";
}

std::string midiMappingSpec(const MidiMapping &M) {
  return M.Param + "=" + sourceSpec(M.Source) +
         (M.Source.Channel ? "/ch" + std::to_string(M.Source.Channel) : "");
}

std::string describeMidiSource(const MidiSource &S) {
  std::string What = S.Type == MidiSource::Bend ? "pitch bend" : sourceSpec(S);
  return S.Channel ? message<Msg::MidiOnChannel>(What, unsigned(S.Channel))
                   : message<Msg::MidiAnyChannel>(What);
}

Result<std::vector<MidiMapping>> parseMidiMapFile(std::string_view Text,
                                                  const std::string &Path) {
  std::vector<MidiMapping> Mappings;
  unsigned LineNo = 0;
  while (!Text.empty()) {
    size_t End = Text.find('\n');
    std::string_view Line = Text.substr(0, End);
    Text = End == std::string_view::npos ? std::string_view()
                                         : Text.substr(End + 1);
    ++LineNo;
    if (size_t Hash = Line.find('#'); Hash != std::string_view::npos)
      Line = Line.substr(0, Hash);
    while (!Line.empty() && std::isspace(static_cast<unsigned char>(Line[0])))
      Line.remove_prefix(1);
    while (!Line.empty() &&
           std::isspace(static_cast<unsigned char>(Line.back())))
      Line.remove_suffix(1);
    if (Line.empty())
      continue;
    auto M = parseMidiMapping(Line);
    if (!M)
      return fail(message<Msg::MidiFileLine>(Path, LineNo, M.error()));
    if (std::find(Mappings.begin(), Mappings.end(), *M) == Mappings.end())
      Mappings.push_back(*M);
  }
  return Mappings;
}

Result<std::vector<MidiMapping>> loadMidiMapFile(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  if (!In) {
    if (errno == ENOENT)
      return std::vector<MidiMapping>{};
    return fail(message<Msg::MidiCannotReadFile>(Path, std::strerror(errno)));
  }
  std::string Text((std::istreambuf_iterator<char>(In)),
                   std::istreambuf_iterator<char>());
  if (In.bad())
    return fail(message<Msg::MidiCannotReadFile>(Path, std::strerror(errno)));
  return parseMidiMapFile(Text, Path);
}

Result<void> saveMidiMapFile(const std::string &Path,
                             const std::vector<MidiMapping> &Mappings) {
  std::string Temp = Path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream Out(Temp, std::ios::binary | std::ios::trunc);
    Out << "# MIDI mappings of dspjit run: PARAMETER=ccN[/chC], =bend or "
           "=aftertouch\n";
    for (const MidiMapping &M : Mappings)
      Out << midiMappingSpec(M) << "\n";
    Out.flush();
    if (!Out) {
      int E = errno;
      std::remove(Temp.c_str());
      return fail(message<Msg::MidiCannotSaveFile>(Path, std::strerror(E)));
    }
  }
  if (std::rename(Temp.c_str(), Path.c_str()) != 0) {
    int E = errno;
    std::remove(Temp.c_str());
    return fail(message<Msg::MidiCannotSaveFile>(Path, std::strerror(E)));
  }
  return {};
}

//===-- Curves and the mapper ---------------------------------------------===//

float midiCurve(const DspjitSlot &P, double Position) {
  double X = std::clamp(Position, 0.0, 1.0);
  double Min = P.min, Max = P.max;
  if (P.min == 0 && P.max == 1 && P.smooth_seconds == 0)
    return X >= 0.5 ? 1.0f : 0.0f; // a switch: on from 64
  double V = Min + X * (Max - Min);
  if (P.unit && std::strcmp(P.unit, "hz") == 0 && Min > 0 && Max > 10 * Min)
    V = Min * std::pow(Max / Min, X);
  return std::clamp(float(V), P.min, P.max);
}

void MidiMapper::add(const MidiMapping &M) {
  if (std::find(Mappings.begin(), Mappings.end(), M) == Mappings.end())
    Mappings.push_back(M);
}

std::optional<MidiMapping>
MidiMapper::handle(const MidiMessage &M, const DspjitKernel &K,
                   std::vector<MidiParamChange> &Out) {
  unsigned Channel = M.channel();
  // What the message moves: up to two sources (a 14-bit pair's LSB moves
  // its MSB's controller, and its own number for a 7-bit mapping of it).
  struct Moved {
    MidiSource Source;
    double Position;
  };
  Moved Moves[2];
  unsigned NumMoves = 0;
  std::optional<MidiSource> Learnable;
  switch (M.kind()) {
  case 0xb0: {
    unsigned N = M.Data1;
    MidiSource Own{MidiSource::CC, uint8_t(N), uint8_t(Channel)};
    size_t At = (Channel - 1) * 32 + (N & 31);
    if (N < 32) {
      Msb[At] = M.Data2;
      Moves[NumMoves++] = {Own, HasLsb[At] ? (M.Data2 << 7) / 16383.0
                                           : M.Data2 / 127.0};
      Learnable = Own;
    } else if (N < 64) {
      HasLsb[At] = true;
      Moves[NumMoves++] = {
          MidiSource{MidiSource::CC, uint8_t(N - 32), uint8_t(Channel)},
          ((Msb[At] << 7) | M.Data2) / 16383.0};
      Moves[NumMoves++] = {Own, M.Data2 / 127.0};
    } else {
      Moves[NumMoves++] = {Own, M.Data2 / 127.0};
      Learnable = Own;
    }
    break;
  }
  case 0xe0:
    Moves[NumMoves++] = {MidiSource{MidiSource::Bend, 0, uint8_t(Channel)},
                         ((M.Data2 << 7) | M.Data1) / 16383.0};
    Learnable = Moves[0].Source;
    break;
  case 0xd0:
    Moves[NumMoves++] = {
        MidiSource{MidiSource::Aftertouch, 0, uint8_t(Channel)},
        M.Data1 / 127.0};
    Learnable = Moves[0].Source;
    break;
  default: return std::nullopt;
  }
  if (Learning && Learnable) {
    MidiMapping New{*Learning, *Learnable};
    std::erase_if(Mappings, [&](const MidiMapping &Old) {
      return Old.Param == New.Param;
    });
    Mappings.push_back(New);
    Learning.reset();
    return New;
  }
  for (unsigned I = 0; I < NumMoves; ++I) {
    const MidiSource &S = Moves[I].Source;
    for (const MidiMapping &Map : Mappings) {
      if (Map.Source.Type != S.Type || Map.Source.Number != S.Number ||
          (Map.Source.Channel && Map.Source.Channel != S.Channel))
        continue;
      const DspjitSlot *Slot = findSlot(K, Map.Param);
      if (!Slot || Slot->kind != DSPJIT_SLOT_PARAM)
        continue; // kept for a version that has it
      Out.push_back({Map.Param, midiCurve(*Slot, Moves[I].Position)});
    }
    // The script's own mappings (`midi cc 74`), unless the user mapped the
    // parameter otherwise (--midi-map, a map file, learn).
    for (uint32_t SI = 0; SI < K.num_slots; ++SI) {
      const DspjitSlot &Slot = K.slots[SI];
      if (Slot.kind != DSPJIT_SLOT_PARAM || !Slot.midi)
        continue;
      auto Declared = declaredSource(Slot.midi);
      if (!Declared || Declared->Type != S.Type ||
          Declared->Number != S.Number ||
          (Declared->Channel && Declared->Channel != S.Channel))
        continue;
      bool Overridden = std::any_of(
          Mappings.begin(), Mappings.end(),
          [&](const MidiMapping &M) { return M.Param == Slot.name; });
      if (!Overridden)
        Out.push_back({Slot.name, midiCurve(Slot, Moves[I].Position)});
    }
  }
  return std::nullopt;
}

std::optional<MidiSource> declaredSource(uint32_t Midi) {
  MidiSource S;
  switch (DSPJIT_MIDI_KIND(Midi)) {
  case DSPJIT_MIDI_CC: S.Type = MidiSource::CC; break;
  case DSPJIT_MIDI_BEND: S.Type = MidiSource::Bend; break;
  case DSPJIT_MIDI_AFTERTOUCH: S.Type = MidiSource::Aftertouch; break;
  default: return std::nullopt;
  }
  S.Number = uint8_t(DSPJIT_MIDI_NUMBER(Midi));
  S.Channel = uint8_t(DSPJIT_MIDI_CHANNEL(Midi));
  return S;
}

} // namespace dspjit::session
