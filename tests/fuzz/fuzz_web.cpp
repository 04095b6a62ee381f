//===- tests/fuzz/fuzz_web.cpp - Arbitrary messages from a web panel page ===//
//
// A libFuzzer target: the input is one WebSocket text message that a page of
// `dspjit run --web` sends, byte for byte. It is handled by
// web::handleMessage (session/WebProtocol.h), exactly what the server runs
// for each message of an authenticated page (nlohmann/json parses it),
// against a real ControlBus on an offline Host of a real compiled kernel
// (SurfaceHarness.h). After every input the messages the panel sends for
// that version -- script, tick with health, event -- are made too and must
// parse back as JSON objects, so that a parameter value, a meter or a name
// a message put there can never produce a message the page cannot read.
//
// Invariants (SurfaceHarness.h): no crash, no hang; after the message and a
// block, every parameter's target and smoothed value is finite and within
// its range; every reply is at most MaxReplyBytes long and is JSON.
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"
#include "SurfaceHarness.h"

#include "session/WebProtocol.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

using namespace dspjit;
using namespace dspjit::fuzz;

namespace {

void checkJson(const char *What, const std::string &Text) {
  auto J = nlohmann::json::parse(Text, nullptr, /*allow_exceptions=*/false);
  if (J.is_discarded() || !J.is_object() || !J.contains("type"))
    fuzz::fail(std::string("a web panel ") + What +
               " that is not a JSON object with a type: " + shortened(Text));
}

} // namespace

extern "C" int dspjitFuzzWeb(const uint8_t *Data, size_t Size) {
  static SurfaceTarget *T = new SurfaceTarget; // lives for the process
  (void)T->bus().resetParams();
  T->runBlock();
  std::string Message(reinterpret_cast<const char *>(Data), Size);
  session::web::Handled H = session::web::handleMessage(T->bus(), Message);
  if (!H.Reply.empty()) {
    checkReply("web panel reply", H.Reply);
    checkJson("reply", H.Reply);
  }
  T->runBlock();
  T->collect();
  T->checkParams("a web panel message of " + std::to_string(Size) + " bytes");
  auto Inst = T->bus().instance();
  checkJson("script message", session::web::scriptMessage(*Inst, "fuzz.dsp"));
  session::web::Health Health;
  if (auto S = T->bus().summary())
    Health.Summary = *S;
  checkJson("tick", session::web::tickMessage(
                        *Inst, {{-200.0, 0.0}, {-3.0, 1e300}}, Health, 1.0));
  checkJson("event", session::web::eventMessage(session::event::Notice{
                         session::event::Notice::Warning, Message}));
  return 0;
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzWeb(Data, Size);
}
#endif
