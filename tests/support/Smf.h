//===- tests/support/Smf.h - Standard MIDI Files written byte by byte -*- C++ -*-===//
//
// Tests of the MIDI file reader and of instruments write their files here,
// byte by byte, so that every tick, time and frame they expect is known by
// hand. The pieces compose: a file is header() followed by track()s, a
// track is a run of ev() (delta time, then the bytes as written, running
// status included), tempo() and endOfTrack().
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_SMF_H
#define DSPJIT_TESTS_SUPPORT_SMF_H

#include <cstdint>
#include <initializer_list>
#include <string>

namespace dspjit::test::smf {

inline std::string be32(uint32_t V) {
  return {char(V >> 24), char(V >> 16), char(V >> 8), char(V)};
}
inline std::string be16(uint16_t V) { return {char(V >> 8), char(V)}; }

/// A variable-length quantity, as delta times are written.
inline std::string vlq(uint32_t V) {
  std::string Out(1, char(V & 0x7F));
  while (V >>= 7)
    Out.insert(Out.begin(), char(0x80 | (V & 0x7F)));
  return Out;
}

inline std::string bytes(std::initializer_list<int> Bytes) {
  std::string Out;
  for (int B : Bytes)
    Out += char(B);
  return Out;
}

/// An event `Delta` ticks after the previous one.
inline std::string ev(uint32_t Delta, std::initializer_list<int> Bytes) {
  return vlq(Delta) + bytes(Bytes);
}
inline std::string tempo(uint32_t Delta, uint32_t Micros) {
  return vlq(Delta) + bytes({0xFF, 0x51, 0x03}) + be32(Micros).substr(1);
}
inline std::string endOfTrack(uint32_t Delta = 0) {
  return ev(Delta, {0xFF, 0x2F, 0x00});
}

inline std::string chunk(const std::string &Id, const std::string &Body) {
  return Id + be32(uint32_t(Body.size())) + Body;
}
inline std::string track(const std::string &Events) {
  return chunk("MTrk", Events);
}
inline std::string header(unsigned Format, unsigned Tracks, uint16_t Division) {
  return chunk("MThd", be16(uint16_t(Format)) + be16(uint16_t(Tracks)) +
                           be16(Division));
}
/// A SMPTE division: frames per second (24, 25, 29, 30) and ticks a frame.
inline uint16_t smpte(int Fps, unsigned TicksPerFrame) {
  return uint16_t(uint8_t(-Fps) << 8 | TicksPerFrame);
}

} // namespace dspjit::test::smf

#endif
