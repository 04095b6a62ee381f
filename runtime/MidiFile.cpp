//===- runtime/MidiFile.cpp - Standard MIDI Files read strictly -*- C++ -*-===//
//
// The reader of runtime/MidiFile.h: the header, then the chunks in file
// order, each track's events in one pass (an event at a time: delta time,
// status, its bytes), then the tempo map and the times of every event.
//
// Thread contract: as the header says; file I/O and allocation, not for the
// audio thread.
//
//===----------------------------------------------------------------------===//
#include "runtime/MidiFile.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace dspjit {

const char *midiKindName(MidiKind Kind) {
  switch (Kind) {
  case MidiKind::NoteOff: return "note off";
  case MidiKind::NoteOn: return "note on";
  case MidiKind::PolyPressure: return "poly pressure";
  case MidiKind::ControlChange: return "control change";
  case MidiKind::ProgramChange: return "program change";
  case MidiKind::ChannelPressure: return "channel pressure";
  case MidiKind::PitchBend: return "pitch bend";
  }
  return "channel";
}

uint64_t midiFrame(const MidiEvent &E, double Rate) {
  double Frame = E.Seconds * Rate;
  // llround is undefined past the range of long long: saturate, so that a
  // file of absurd length asks for a frame no render reaches.
  if (Frame >= 0x1p63)
    return UINT64_MAX;
  if (!(Frame > 0))
    return 0;
  return uint64_t(std::llround(Frame));
}

namespace {

using Wide = unsigned __int128;

/// Num / Den in seconds: correctly rounded while Num < 2^53, within an ulp
/// beyond (the whole part exact, then the fraction).
double ratioSeconds(Wide Num, uint64_t Den) {
  if (Num < (Wide(1) << 53))
    return double(uint64_t(Num)) / double(Den);
  Wide Whole = Num / Den, Rest = Num % Den;
  return double(Whole) + double(uint64_t(Rest)) / double(Den);
}

/// "0x9A".
std::string hexByte(uint8_t B) {
  char Text[8];
  std::snprintf(Text, sizeof Text, "0x%02X", unsigned(B));
  return Text;
}

/// What a file starts with, for a message: "4 bytes 52 49 46 46 ('RIFF')".
std::string describeStart(const uint8_t *Bytes, size_t Size) {
  size_t N = std::min<size_t>(Size, 4);
  std::string Hex, Text;
  bool Printable = true;
  for (size_t I = 0; I < N; ++I) {
    char Two[4];
    std::snprintf(Two, sizeof Two, "%02X", unsigned(Bytes[I]));
    Hex += (I ? " " : "") + std::string(Two);
    Printable = Printable && Bytes[I] >= 0x20 && Bytes[I] < 0x7F;
    Text += char(Bytes[I]);
  }
  std::string Out = Size < 4 ? "only " + std::to_string(Size) + " byte" +
                                   (Size == 1 ? "" : "s") + " (" + Hex + ")"
                             : Hex;
  if (Printable)
    Out += " ('" + Text + "')";
  return Out;
}

bool isChunkId(const uint8_t *Id) {
  return std::all_of(Id, Id + 4,
                     [](uint8_t C) { return C >= 0x20 && C < 0x7F; });
}

uint32_t be32(const uint8_t *P) {
  return uint32_t(P[0]) << 24 | uint32_t(P[1]) << 16 | uint32_t(P[2]) << 8 |
         P[3];
}
uint16_t be16(const uint8_t *P) { return uint16_t(P[0] << 8 | P[1]); }

/// The data bytes of a channel message.
unsigned dataBytes(uint8_t Status) {
  unsigned High = Status >> 4;
  return High == 0xC || High == 0xD ? 1 : 2;
}

/// A tempo event as read, before the tracks are merged.
struct RawTempo {
  uint64_t Tick;
  uint32_t Micros;
};

/// One parse of one file.
class Parser {
public:
  Parser(const uint8_t *Bytes, size_t Size, const std::string &Name)
      : Bytes(Bytes), Size(Size), Name(Name) {}

  Result<MidiFileData> run() {
    if (Result<void> R = header(); !R)
      return fail(R.error());
    // A channel event takes at least two bytes (a delta time and a data
    // byte with running status): room for as many as the file can hold,
    // up to the limit, so that the events are never copied as they grow.
    Out.Events.reserve(std::min(Size / 2, MaxMidiEvents));
    if (Result<void> R = chunks(); !R)
      return fail(R.error());
    // Each track's events are in tick order and the tracks were read in
    // order: a stable sort by tick leaves ties by track, then file order.
    // One track (format 0) is sorted already.
    auto ByTick = [](const MidiEvent &A, const MidiEvent &B) {
      return A.Tick < B.Tick;
    };
    if (!std::is_sorted(Out.Events.begin(), Out.Events.end(), ByTick))
      std::stable_sort(Out.Events.begin(), Out.Events.end(), ByTick);
    times();
    return std::move(Out);
  }

private:
  const uint8_t *Bytes;
  size_t Size;
  const std::string &Name;
  MidiFileData Out;
  std::vector<RawTempo> Tempos; ///< in track order, then file order
  size_t HeaderEnd = 0;

  /// MThd: "MThd", length (>= 6), format, tracks, division.
  Result<void> header() {
    if (Size == 0)
      return fail(message<Msg::MidiEmpty>(Name));
    if (Size > MaxMidiFileBytes)
      return fail(message<Msg::MidiTooLarge>(Name, Size, MaxMidiFileBytes));
    if (Size < 4 || std::memcmp(Bytes, "MThd", 4) != 0) {
      if (Size >= 12 && std::memcmp(Bytes, "RIFF", 4) == 0 &&
          std::memcmp(Bytes + 8, "RMID", 4) == 0)
        return fail(message<Msg::MidiRiff>(Name));
      return fail(message<Msg::MidiNotSmf>(Name, describeStart(Bytes, Size)));
    }
    if (Size < 14)
      return fail(message<Msg::MidiHeaderCut>(Name, 14, Size));
    uint32_t Length = be32(Bytes + 4);
    if (Length < 6)
      return fail(message<Msg::MidiHeaderTooShort>(Name, Length));
    if (Length > Size - 8)
      return fail(
          message<Msg::MidiHeaderCut>(Name, uint64_t(Length) + 8, Size));
    HeaderEnd = 8 + size_t(Length);

    MidiFileInfo &Info = Out.Info;
    Info.Format = be16(Bytes + 8);
    Info.Tracks = be16(Bytes + 10);
    if (Info.Format == 2)
      return fail(message<Msg::MidiFormat2>(Name, Info.Tracks));
    if (Info.Format > 2)
      return fail(message<Msg::MidiUnknownFormat>(Name, Info.Format));
    if (Info.Tracks == 0)
      return fail(message<Msg::MidiNoTracks>(Name));
    if (Info.Format == 0 && Info.Tracks != 1)
      return fail(message<Msg::MidiFormat0Tracks>(Name, Info.Tracks));

    uint8_t High = Bytes[12], Low = Bytes[13];
    if (High & 0x80) {
      // SMPTE: the high byte is minus the frames per second.
      int Fps = -int(int8_t(High));
      if ((Fps != 24 && Fps != 25 && Fps != 29 && Fps != 30) || Low == 0)
        return fail(message<Msg::MidiBadSmpte>(Name, Fps, unsigned(Low)));
      Info.Division = -Fps;
      Info.TicksPerFrame = Low;
    } else {
      Info.Division = High << 8 | Low;
      if (Info.Division == 0)
        return fail(message<Msg::MidiZeroDivision>(Name));
    }
    return {};
  }

  /// The chunks after the header: the announced tracks, chunks of other
  /// types skipped; then what follows the last track.
  Result<void> chunks() {
    size_t At = HeaderEnd;
    unsigned Track = 0;
    while (Track < Out.Info.Tracks) {
      if (Size - At < 8)
        return fail(message<Msg::MidiMissingTracks>(
            Name, Out.Info.Tracks, Out.Info.Tracks == 1 ? "" : "s", Track,
            Size));
      const uint8_t *Id = Bytes + At;
      uint32_t Length = be32(Id + 4);
      bool IsTrack = std::memcmp(Id, "MTrk", 4) == 0;
      if (!IsTrack && !isChunkId(Id))
        return fail(
            message<Msg::MidiNotAChunk>(Name, At, describeStart(Id, 8)));
      size_t Left = Size - At - 8;
      if (Length > Left) {
        if (IsTrack)
          return fail(
              message<Msg::MidiTrackCut>(Name, Track + 1, At, Length, Left));
        return fail(message<Msg::MidiChunkCut>(
            Name, std::string(reinterpret_cast<const char *>(Id), 4), At,
            Length, Left));
      }
      if (IsTrack) {
        if (Result<void> R = track(Track, At + 8, At + 8 + Length); !R)
          return R;
        ++Track;
      }
      At += 8 + size_t(Length);
    }
    // After the last track: more chunks of other types may follow, but not
    // a track the header does not announce, whose notes would be lost.
    while (Size - At >= 8 && isChunkId(Bytes + At)) {
      if (std::memcmp(Bytes + At, "MTrk", 4) == 0)
        return fail(message<Msg::MidiTooManyTracks>(Name, Out.Info.Tracks, At));
      uint32_t Length = be32(Bytes + At + 4);
      if (Length > Size - At - 8)
        break;
      At += 8 + size_t(Length);
    }
    if (At < Size)
      Out.Warnings.push_back(message<Msg::MidiTrailingBytes>(
          Name, Size - At, Size - At == 1 ? "" : "s", At));
    return {};
  }

  /// A variable-length quantity at At (advanced past it): 7 bits a byte,
  /// most significant first, the high bit set on all bytes but the last;
  /// at most 4 bytes (0x0FFFFFFF).
  Result<void> vlq(size_t &At, size_t End, unsigned Track, size_t EventAt,
                   uint32_t &Value) {
    size_t Start = At;
    Value = 0;
    for (unsigned I = 0; I < 4; ++I) {
      if (At >= End)
        return fail(message<Msg::MidiEventCut>(Name, Track + 1, EventAt));
      uint8_t B = Bytes[At++];
      Value = Value << 7 | (B & 0x7F);
      if (!(B & 0x80))
        return {};
    }
    return fail(message<Msg::MidiLongVlq>(Name, Track + 1, Start));
  }

  /// One MTrk chunk's events, Begin..End: <delta time> <event>, where an
  /// event is a channel message (its status may be the running one), a
  /// system exclusive event (F0 or F7, a length, bytes) or a meta event
  /// (FF, a type, a length, bytes).
  Result<void> track(unsigned Track, size_t Begin, size_t End) {
    size_t At = Begin;
    uint64_t Tick = 0;
    uint8_t Running = 0;     // 0: none
    uint8_t LastChannel = 0; // the last channel status, for files that
                             // resume it after a meta or sysex event
    bool Resumed = false;
    bool Ended = false;
    while (At < End && !Ended) {
      size_t EventAt = At;
      uint32_t Delta;
      if (Result<void> R = vlq(At, End, Track, EventAt, Delta); !R)
        return R;
      Tick += Delta;
      if (At >= End)
        return fail(message<Msg::MidiEventCut>(Name, Track + 1, EventAt));

      uint8_t Status = Bytes[At];
      if (Status < 0x80) {
        // The standard says meta and system exclusive events cancel
        // running status, but sequencers have written files that resume it
        // after them; those are read as they were meant, with a warning.
        if (!Running && LastChannel) {
          Running = LastChannel;
          if (!Resumed)
            Out.Warnings.push_back(message<Msg::MidiRunningStatusResumed>(
                Name, Track + 1, At, hexByte(LastChannel)));
          Resumed = true;
        }
        if (!Running)
          return fail(message<Msg::MidiNoRunningStatus>(Name, Track + 1, At,
                                                        hexByte(Status)));
        Status = Running; // the data starts here
      } else {
        ++At;
      }

      if (Status < 0xF0) {
        Running = LastChannel = Status;
        if (Result<void> R =
                channelMessage(Track, Tick, Status, At, End, EventAt);
            !R)
          return R;
        continue;
      }

      // Meta and system exclusive events cancel running status.
      Running = 0;
      uint8_t Type = 0;
      if (Status == 0xFF) {
        if (At >= End)
          return fail(message<Msg::MidiEventCut>(Name, Track + 1, EventAt));
        Type = Bytes[At++];
      } else if (Status != 0xF0 && Status != 0xF7) {
        return fail(message<Msg::MidiBadStatus>(Name, Track + 1, At - 1,
                                                hexByte(Status)));
      }
      uint32_t Length;
      if (Result<void> R = vlq(At, End, Track, EventAt, Length); !R)
        return R;
      if (Length > End - At)
        return fail(message<Msg::MidiEventPastTrack>(
            Name, Track + 1, EventAt,
            Status == 0xFF ? "meta" : "system exclusive", Length, End - At));
      if (Status == 0xFF && Type == 0x51) {
        if (Length != 3)
          return fail(
              message<Msg::MidiBadTempo>(Name, Track + 1, EventAt, Length));
        uint32_t Micros = uint32_t(Bytes[At]) << 16 |
                          uint32_t(Bytes[At + 1]) << 8 | Bytes[At + 2];
        if (Micros == 0)
          return fail(message<Msg::MidiZeroTempo>(Name, Track + 1, EventAt));
        Tempos.push_back({Tick, Micros});
        ++Out.Info.TempoChanges;
      }
      Ended = Status == 0xFF && Type == 0x2F;
      At += Length;
    }
    if (!Ended)
      Out.Warnings.push_back(
          message<Msg::MidiNoEndOfTrack>(Name, Track + 1, End));
    else if (At < End)
      Out.Warnings.push_back(message<Msg::MidiBytesAfterEnd>(
          Name, Track + 1, End - At, End - At == 1 ? "" : "s", At));
    Out.Info.DurationTicks = std::max(Out.Info.DurationTicks, Tick);
    return {};
  }

  /// The data bytes of a channel message whose status is known, at At.
  Result<void> channelMessage(unsigned Track, uint64_t Tick, uint8_t Status,
                              size_t &At, size_t End, size_t EventAt) {
    MidiEvent E;
    E.Tick = Tick;
    E.Status = Status;
    E.Track = uint16_t(Track);
    uint8_t Data[2] = {0, 0};
    for (unsigned I = 0, N = dataBytes(Status); I < N; ++I) {
      if (At >= End)
        return fail(message<Msg::MidiEventCut>(Name, Track + 1, EventAt));
      if (Bytes[At] >= 0x80)
        return fail(message<Msg::MidiBadDataByte>(
            Name, Track + 1, At, hexByte(Bytes[At]),
            midiKindName(MidiKind((Status >> 4) - 0x8))));
      Data[I] = Bytes[At++];
    }
    E.Data1 = Data[0];
    E.Data2 = Data[1];
    if (Out.Events.size() == MaxMidiEvents)
      return fail(message<Msg::MidiTooManyEvents>(Name, Track + 1, EventAt,
                                                  MaxMidiEvents));
    Out.Events.push_back(E);
    if (E.isNoteOn())
      ++Out.Info.Notes;
    return {};
  }

  /// The tempo map and the time of every event (sorted by tick) and of the
  /// end: for each tick, the exact numerator of its time over Den.
  void times() {
    MidiFileInfo &Info = Out.Info;
    if (Info.Division < 0) {
      // SMPTE: Tick / (fps x ticks per frame); 29 is 30 drop-frame, i.e.
      // 30000/1001 frames a second.
      bool Drop = Info.Division == -29;
      uint64_t Den =
          uint64_t(Drop ? 30000 : -Info.Division * 1000) * Info.TicksPerFrame;
      uint64_t Scale = Drop ? 1001 : 1000;
      for (MidiEvent &E : Out.Events)
        E.Seconds = ratioSeconds(Wide(E.Tick) * Scale, Den);
      Info.DurationSeconds =
          ratioSeconds(Wide(Info.DurationTicks) * Scale, Den);
      return;
    }

    // Tempo events of every track, by tick; at equal ticks the last in
    // track order, then file order, wins.
    std::stable_sort(
        Tempos.begin(), Tempos.end(),
        [](const RawTempo &A, const RawTempo &B) { return A.Tick < B.Tick; });
    uint64_t Den = uint64_t(1000000) * uint64_t(Info.Division);
    std::vector<Wide> Nums = {0}; // the numerator at each entry's tick
    Out.TempoMap.push_back({0, 0.0, 500000});
    for (const RawTempo &T : Tempos) {
      MidiTempo &Last = Out.TempoMap.back();
      if (T.Tick == Last.Tick) {
        Last.MicrosPerQuarter = T.Micros;
        continue;
      }
      Wide Num = Nums.back() + Wide(T.Tick - Last.Tick) * Last.MicrosPerQuarter;
      Out.TempoMap.push_back({T.Tick, ratioSeconds(Num, Den), T.Micros});
      Nums.push_back(Num);
    }

    size_t Segment = 0;
    auto SecondsAt = [&](uint64_t Tick) {
      while (Segment + 1 < Out.TempoMap.size() &&
             Out.TempoMap[Segment + 1].Tick <= Tick)
        ++Segment;
      const MidiTempo &T = Out.TempoMap[Segment];
      return ratioSeconds(
          Nums[Segment] + Wide(Tick - T.Tick) * T.MicrosPerQuarter, Den);
    };
    for (MidiEvent &E : Out.Events)
      E.Seconds = SecondsAt(E.Tick);
    Info.DurationSeconds = SecondsAt(Info.DurationTicks);
  }
};

} // namespace

Result<MidiFileData> parseMidiFile(const uint8_t *Bytes, size_t Size,
                                   const std::string &Name) {
  return Parser(Bytes, Size, Name).run();
}

Result<MidiFileData> readMidiFile(const std::string &Path) {
  std::error_code EC;
  if (std::filesystem::is_directory(Path, EC))
    return fail(
        message<Msg::MidiCannotRead>(Path, "it is a directory, not a file"));
  if (std::filesystem::is_regular_file(Path, EC))
    if (auto FileSize = std::filesystem::file_size(Path, EC);
        !EC && FileSize > MaxMidiFileBytes)
      return fail(message<Msg::MidiTooLarge>(Path, FileSize, MaxMidiFileBytes));
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    return fail(message<Msg::MidiCannotRead>(
        Path, std::filesystem::exists(Path, EC) ? std::strerror(errno)
                                                : "no such file"));
  // One byte past the limit and no more: a device or a pipe that never
  // ends must not fill the memory.
  std::vector<uint8_t> Bytes;
  char Chunk[65536];
  while (Bytes.size() <= MaxMidiFileBytes && In) {
    In.read(Chunk, std::streamsize(std::min(sizeof Chunk, MaxMidiFileBytes + 1 -
                                                              Bytes.size())));
    Bytes.insert(Bytes.end(), Chunk, Chunk + In.gcount());
  }
  if (In.bad())
    return fail(message<Msg::MidiCannotRead>(Path, std::strerror(errno)));
  // A regular file that grew while it was read says so as a device does.
  if (Bytes.size() > MaxMidiFileBytes)
    return fail(message<Msg::MidiEndless>(Path, MaxMidiFileBytes));
  return parseMidiFile(Bytes.data(), Bytes.size(), Path);
}

} // namespace dspjit
