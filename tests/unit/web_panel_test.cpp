//===- tests/unit/web_panel_test.cpp - The web panel's protocol and safety ===//
//
// The web panel (session/WebPanel.h) in-process, without an audio device: a
// real compiled kernel on a Host with no stream (Host::openOffline), a real
// ControlBus and a real WebPanel listening on 127.0.0.1, reached by real
// HTTP requests and WebSockets (Boost.Beast's synchronous client). What a
// page changes is read back from the instance's memory. The same panel is
// driven by a real browser in tests/browser, and its message handler is
// fuzzed in tests/fuzz (fuzz_web).
//
// The safety section of issue 14, one test each: static files without the
// token, the WebSocket refused without the token, with a wrong one, from
// another origin and with no origin; nothing but the panel's own files;
// malformed, oversized and binary messages dropped and counted, the
// connection kept; a flood that neither delays another page's control nor
// blocks the ticks; a bounded number of pages.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Host.h"
#include "session/ControlBus.h"
#include "session/WebPanel.h"
#include "session/WebProtocol.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace dspjit;
using namespace dspjit::session;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const char *const Script = R"dsp(io 2 -> 2;
param cutoff = 1000 in [20, 20000] hz;
param gain = 0 in [-60, 12] db;
param bypass = 0 in [0, 1] nosmooth;
meter level;
process {
    out = bypass > 0.5 ? in : onepole(in, cutoff) * db2lin(gain);
    level = abs(out[0]);
}
)dsp";

const char *const Script2 = R"dsp(io 2 -> 2;
param gain = 0 in [-60, 12] db;
param mix = 0.5 in [0, 1];
process { out = in * db2lin(gain) * mix; }
)dsp";

/// One page: a WebSocket to the panel.
class Page {
public:
  Page(unsigned Port, const std::string &Target, const std::string &Origin)
      : Ws(Io) {
    tcp::resolver R(Io);
    net::connect(Ws.next_layer(), R.resolve("127.0.0.1", std::to_string(Port)));
    Ws.set_option(websocket::stream_base::decorator(
        [Origin](websocket::request_type &Req) {
          if (!Origin.empty())
            Req.set(http::field::origin, Origin);
        }));
    Ws.handshake("127.0.0.1:" + std::to_string(Port), Target, Error);
  }
  bool open() const { return !Error; }
  void send(const std::string &Text, bool Binary = false) {
    Ws.binary(Binary);
    Ws.write(net::buffer(Text));
  }
  /// The next message of `Type`, within `Timeout`.
  std::optional<json>
  next(const std::string &Type,
       std::chrono::milliseconds Timeout = std::chrono::milliseconds(2000)) {
    auto Until = Clock::now() + Timeout;
    while (Clock::now() < Until) {
      // An asynchronous read run until the deadline: the stream may hold
      // several messages from one read of the socket, so polling the
      // socket could wait for one that is already here.
      beast::flat_buffer B;
      beast::error_code E;
      bool Done = false;
      Ws.async_read(B, [&](beast::error_code Ec, size_t) {
        E = Ec;
        Done = true;
      });
      Io.restart();
      Io.run_until(Until);
      if (!Done) { // the deadline passed: give the read up
        beast::error_code Ignored;
        Ws.next_layer().cancel(Ignored);
        Io.restart();
        Io.run();
        return std::nullopt;
      }
      if (E)
        return std::nullopt;
      json J = json::parse(beast::buffers_to_string(B.data()));
      if (J["type"] == Type)
        return J;
    }
    return std::nullopt;
  }
  net::io_context Io;
  websocket::stream<tcp::socket> Ws;
  beast::error_code Error;
};

/// One HTTP GET (or another method): status and body. With `Upgrade`, a
/// WebSocket handshake's request (from `Origin`, if not empty).
std::pair<unsigned, std::string> request(unsigned Port,
                                         const std::string &Target,
                                         http::verb Verb = http::verb::get,
                                         bool Upgrade = false,
                                         const std::string &Origin = {}) {
  net::io_context Io;
  tcp::socket S(Io);
  tcp::resolver R(Io);
  net::connect(S, R.resolve("127.0.0.1", std::to_string(Port)));
  http::request<http::empty_body> Req(Verb, Target, 11);
  Req.set(http::field::host, "127.0.0.1:" + std::to_string(Port));
  if (Upgrade) {
    Req.set(http::field::connection, "Upgrade");
    Req.set(http::field::upgrade, "websocket");
    Req.set(http::field::sec_websocket_version, "13");
    Req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    if (!Origin.empty())
      Req.set(http::field::origin, Origin);
  }
  http::write(S, Req);
  beast::flat_buffer B;
  http::response<http::string_body> Res;
  http::read(S, B, Res);
  return {Res.result_int(), Res.body()};
}

class WebPanelTest : public ::testing::Test {
protected:
  void SetUp() override {
    CompileOptions O;
    O.optLevel = 0;
    Compiler C(O);
    K = C.compileSource("panel.dsp", Script);
    ASSERT_TRUE(K) << "the test's script does not compile";
    HostOptions HO;
    HO.MonitorSeconds = 0.5;
    auto H = Host::openOffline(K->info(), HO, K);
    ASSERT_TRUE(H) << H.error();
    Offline = std::move(*H);
    Bus = std::make_unique<ControlBus>(*Offline);
    WebPanelOptions W;
    W.Script = "panel.dsp";
    auto P = WebPanel::open(*Bus, W, [](const std::string &, bool) {});
    ASSERT_TRUE(P) << P.error();
    Panel = std::move(*P);
    Origin = "http://127.0.0.1:" + std::to_string(Panel->port());
    Ws = "/ws?token=" + Panel->token();
  }
  void TearDown() override {
    Panel.reset();
    if (Bus)
      Bus->detach();
  }
  float target(const char *Name) { return *Bus->instance()->param(Name); }

  std::shared_ptr<Kernel> K;
  std::unique_ptr<Host> Offline;
  std::unique_ptr<ControlBus> Bus;
  std::unique_ptr<WebPanel> Panel;
  std::string Origin, Ws;
};

} // namespace

//===-- The protocol ------------------------------------------------------===//

TEST(WebProtocol, ParsesTheCommandsAndRefusesEverythingElse) {
  auto Set = web::parseCommand(R"({"type":"set","name":"gain","value":-6})");
  ASSERT_TRUE(Set) << Set.error();
  EXPECT_EQ(Set->What, web::Command::Set);
  EXPECT_EQ(Set->Name, "gain");
  EXPECT_EQ(Set->Value, -6);
  EXPECT_EQ(web::parseCommand(R"({"type":"reset","what":"state"})")->What,
            web::Command::ResetState);
  for (const char *Bad :
       {"", "set gain 3", "[]", "{}", R"({"type":3})",
        R"({"type":"set","name":"gain"})",
        R"({"type":"set","name":"gain","value":"3"})",
        R"({"type":"reset","what":"everything"})", R"({"type":"quit"})",
        "{\"type\":\"set\",\"name\":\"g\xff\",\"value\":1}"})
    EXPECT_FALSE(web::parseCommand(Bad)) << Bad;
  std::string Long =
      R"({"type":"set","name":")" + std::string(5000, 'x') + R"(","value":1})";
  auto TooLong = web::parseCommand(Long);
  ASSERT_FALSE(TooLong);
  EXPECT_NE(TooLong.error().find("at most 4096 bytes"), std::string::npos)
      << TooLong.error();
}

TEST_F(WebPanelTest, AMessageSetsAParameterAndAClampIsReplied) {
  web::Handled H =
      web::handleMessage(*Bus, R"({"type":"set","name":"gain","value":-6})");
  EXPECT_TRUE(H.Ok);
  EXPECT_TRUE(H.Reply.empty());
  EXPECT_EQ(target("gain"), -6);
  H = web::handleMessage(*Bus, R"({"type":"set","name":"gain","value":100})");
  EXPECT_TRUE(H.Ok);
  EXPECT_EQ(target("gain"), 12);
  EXPECT_NE(H.Reply.find("\"ok\":true"), std::string::npos) << H.Reply;
  H = web::handleMessage(*Bus, R"({"type":"set","name":"gian","value":1})");
  EXPECT_FALSE(H.Ok);
  EXPECT_NE(H.Reply.find("gian"), std::string::npos) << H.Reply;
  H = web::handleMessage(*Bus, R"({"type":"set","name":"gain","value":1e300})");
  EXPECT_FALSE(H.Ok);
  EXPECT_EQ(target("gain"), 12);
}

TEST_F(WebPanelTest, TheScriptMessageDescribesEachControl) {
  json J = json::parse(web::scriptMessage(*Bus->instance(), "panel.dsp"));
  ASSERT_EQ(J["params"].size(), 3u);
  EXPECT_EQ(J["params"][0]["name"], "cutoff");
  EXPECT_EQ(J["params"][0]["log"], true); // hz over three decades
  EXPECT_EQ(J["params"][0]["unit"], "hz");
  EXPECT_EQ(J["params"][1]["log"], false);
  EXPECT_EQ(J["params"][2]["toggle"], true); // nosmooth in [0, 1]
  EXPECT_EQ(J["meters"][0]["name"], "level");
  EXPECT_EQ(J["inputs"], 2);
}

//===-- Safety ------------------------------------------------------------===//

TEST_F(WebPanelTest, ThePageIsServedWithoutTheTokenAndNothingElseIs) {
  auto [Status, Body] = request(Panel->port(), "/");
  EXPECT_EQ(Status, 200u);
  EXPECT_NE(Body.find("/panel.js"), std::string::npos);
  EXPECT_EQ(request(Panel->port(), "/panel.js").first, 200u);
  EXPECT_EQ(request(Panel->port(), "/panel.css").first, 200u);
  for (const char *Other : {"/etc/passwd", "/../../etc/passwd", "/ws",
                            "/index.html/../../x", "/favicon.ico"})
    EXPECT_EQ(request(Panel->port(), Other).first, 404u) << Other;
  EXPECT_EQ(request(Panel->port(), "/", http::verb::post).first, 405u);
}

TEST_F(WebPanelTest, TheWebSocketNeedsTheTokenAndThePanelsOrigin) {
  Page NoToken(Panel->port(), "/ws", Origin);
  EXPECT_FALSE(NoToken.open());
  Page Wrong(Panel->port(), "/ws?token=" + std::string(32, '0'), Origin);
  EXPECT_FALSE(Wrong.open());
  Page Prefix(Panel->port(), Ws.substr(0, Ws.size() - 1), Origin);
  EXPECT_FALSE(Prefix.open());
  Page CrossOrigin(Panel->port(), Ws, "http://evil.example");
  EXPECT_FALSE(CrossOrigin.open());
  Page OtherPort(Panel->port(), Ws,
                 "http://127.0.0.1:" + std::to_string(Panel->port() + 1));
  EXPECT_FALSE(OtherPort.open());
  Page NoOrigin(Panel->port(), Ws, "");
  EXPECT_FALSE(NoOrigin.open());
  // What a browser's cross-origin attempt and a tokenless one get back.
  EXPECT_EQ(
      request(Panel->port(), Ws, http::verb::get, true, "http://evil.example")
          .first,
      403u);
  EXPECT_EQ(request(Panel->port(), "/ws", http::verb::get, true, Origin).first,
            403u);
  EXPECT_EQ(Panel->stats().Refused, 8u);
  EXPECT_EQ(Panel->stats().Accepted, 0u);
  // None of them changed anything.
  EXPECT_EQ(target("gain"), 0);

  Page Good(Panel->port(), Ws, Origin);
  ASSERT_TRUE(Good.open()) << Good.Error.message();
  auto Hello = Good.next("hello");
  ASSERT_TRUE(Hello);
  EXPECT_EQ((*Hello)["state"], "waiting"); // no session started it
  EXPECT_TRUE(Good.next("script"));
  Page Localhost(Panel->port(), Ws,
                 "http://localhost:" + std::to_string(Panel->port()));
  EXPECT_TRUE(Localhost.open());
}

TEST_F(WebPanelTest, BadMessagesAreDroppedAndCountedAndThePageStays) {
  Page P(Panel->port(), Ws, Origin);
  ASSERT_TRUE(P.open());
  unsigned ErrorsBefore = Bus->errors();
  P.send("not json");
  EXPECT_TRUE(P.next("reply"));
  P.send(R"({"type":"set","name":")" + std::string(6000, 'x') +
         R"(","value":1})");
  auto TooLong = P.next("reply");
  ASSERT_TRUE(TooLong);
  EXPECT_NE((*TooLong)["text"].get<std::string>().find("at most"),
            std::string::npos);
  P.send(std::string("\x00\x01\x02", 3), /*Binary=*/true);
  EXPECT_TRUE(P.next("reply"));
  P.send(R"({"type":"set","name":"gain","value":-12})");
  auto Until = Clock::now() + std::chrono::seconds(2);
  while (target("gain") != -12 && Clock::now() < Until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(target("gain"), -12);
  EXPECT_EQ(Panel->stats().Dropped, 3u);
  EXPECT_EQ(Bus->errors(), ErrorsBefore + 3);
  // Beyond the hard limit (64 KiB) the connection is closed, the server
  // is unharmed.
  P.send(std::string(100000, ' '));
  Page Again(Panel->port(), Ws, Origin);
  EXPECT_TRUE(Again.open());
}

TEST_F(WebPanelTest, AFloodDelaysNeitherAnotherPagesControlNorTheTicks) {
  Page Flood(Panel->port(), Ws, Origin);
  Page Other(Panel->port(), Ws, Origin);
  ASSERT_TRUE(Flood.open() && Other.open());
  std::atomic<bool> Stop{false};
  std::thread Flooder([&] {
    std::string M = R"({"type":"set","name":"gain","value":-30})";
    beast::error_code E;
    while (!Stop.load() && !E) {
      Flood.Ws.write(net::buffer(M), E);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The other page's control lands in the time of a few messages, not
  // behind the flood: the median of five, so that a busy machine's one
  // late wake-up does not decide.
  std::vector<Clock::duration> Took;
  for (float Cutoff : {5000.f, 6000.f, 7000.f, 8000.f, 9000.f}) {
    auto Sent = Clock::now();
    Other.send(R"({"type":"set","name":"cutoff","value":)" +
               std::to_string(Cutoff) + "}");
    while (target("cutoff") != Cutoff &&
           Clock::now() - Sent < std::chrono::seconds(2))
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    EXPECT_EQ(target("cutoff"), Cutoff);
    Took.push_back(Clock::now() - Sent);
  }
  std::sort(Took.begin(), Took.end());
  EXPECT_LT(Took[2], std::chrono::milliseconds(100));
  // Ticks keep coming to the other page during the flood.
  auto First = Other.next("tick");
  ASSERT_TRUE(First);
  EXPECT_TRUE(Other.next("tick", std::chrono::milliseconds(500)));
  Stop.store(true);
  beast::get_lowest_layer(Flood.Ws).shutdown(tcp::socket::shutdown_both);
  Flooder.join();
  EXPECT_GT(Panel->stats().Flooded, 0u);
}

TEST_F(WebPanelTest, ThereIsALimitOnPagesOpenAtOnce) {
  std::vector<std::unique_ptr<Page>> Pages;
  for (unsigned I = 0; I < WebPanel::MaxConnections; ++I) {
    Pages.push_back(std::make_unique<Page>(Panel->port(), Ws, Origin));
    ASSERT_TRUE(Pages.back()->open()) << I;
    ASSERT_TRUE(Pages.back()->next("hello"));
  }
  Page OneMore(Panel->port(), Ws, Origin);
  EXPECT_FALSE(OneMore.open());
  EXPECT_EQ(request(Panel->port(), Ws, http::verb::get, true, Origin).first,
            503u);
}

//===-- What pages see ----------------------------------------------------===//

TEST_F(WebPanelTest, AChangeMadeElsewhereShowsInTheNextTicks) {
  Page P(Panel->port(), Ws, Origin);
  ASSERT_TRUE(P.open());
  ASSERT_TRUE(P.next("tick"));
  auto Set = Clock::now();
  Bus->setParam("gain", -9); // as the console or OSC does
  for (;;) {
    auto T = P.next("tick", std::chrono::milliseconds(500));
    ASSERT_TRUE(T);
    if ((*T)["params"]["gain"] == -9)
      break;
  }
  EXPECT_LT(Clock::now() - Set, std::chrono::milliseconds(100));
  // Ticks come at 20 Hz or faster.
  auto Start = Clock::now();
  for (int I = 0; I < 20; ++I)
    ASSERT_TRUE(P.next("tick"));
  EXPECT_LT(Clock::now() - Start, std::chrono::milliseconds(1000));
}

TEST_F(WebPanelTest, TheScopeSpectrumAndMetersShowTheOutput) {
  Page P(Panel->port(), Ws, Origin);
  ASSERT_TRUE(P.open());
  ASSERT_TRUE(P.next("tick"));
  // A 1 kHz sine at -6 dBFS through the callback, as the audio thread.
  std::vector<float> In(2 * 256), Out(2 * 256);
  PaStreamCallbackTimeInfo Time = {};
  Bus->setParam("bypass", 1);
  double Phase = 0;
  for (int Block = 0; Block < 200; ++Block) {
    for (int F = 0; F < 256; ++F, Phase += 2 * M_PI * 1000 / 48000)
      In[2 * F] = In[2 * F + 1] = float(0.5 * std::sin(Phase));
    Host::callback(In.data(), Out.data(), 256, &Time, 0, Offline.get());
  }
  auto Tick = P.next("tick");
  ASSERT_TRUE(Tick);
  auto Spectrum = P.next("spectrum");
  ASSERT_TRUE(Spectrum);
  // The loudest point of the spectrum is at 1 kHz, near -6 dBFS.
  const json &Hz = (*Spectrum)["hz"], &Db = (*Spectrum)["db"][0];
  size_t Loudest = 0;
  for (size_t I = 0; I < Db.size(); ++I)
    if (Db[I].get<double>() > Db[Loudest].get<double>())
      Loudest = I;
  EXPECT_NEAR(Hz[Loudest].get<double>(), 1000, 60);
  EXPECT_NEAR(Db[Loudest].get<double>(), -6, 1.5);
  auto Scope = P.next("scope");
  ASSERT_TRUE(Scope);
  ASSERT_EQ((*Scope)["lanes"].size(), 2u);
  // 512 points at every other sample, from a rising zero crossing, in
  // units of "scale": the sine's peak of 0.5 reads 5000.
  const json &Lane = (*Scope)["lanes"][0];
  ASSERT_EQ(Lane.size(), 512u);
  double Scale = (*Scope)["scale"].get<double>(), Peak = 0;
  for (const json &V : Lane)
    Peak = std::max(Peak, std::fabs(V.get<double>() * Scale));
  EXPECT_NEAR(Peak, 0.5, 0.01);
  EXPECT_GE(Lane[1].get<double>(), 0); // just after the crossing
  EXPECT_EQ((*Scope)["rate"], 24000);
}

TEST_F(WebPanelTest, AReloadThatChangesTheControlsSendsThemAgain) {
  Page P(Panel->port(), Ws, Origin);
  ASSERT_TRUE(P.open());
  ASSERT_TRUE(P.next("script"));
  Bus->setParam("gain", -3);
  CompileOptions O;
  O.optLevel = 0;
  Compiler C(O);
  std::shared_ptr<Kernel> K2 = C.compileSource("panel.dsp", Script2);
  ASSERT_TRUE(K2);
  ASSERT_TRUE(Offline->reload(K2, K2->info(), {}));
  std::vector<float> In(512), Out(512);
  PaStreamCallbackTimeInfo Time = {};
  Host::callback(In.data(), Out.data(), 256, &Time, 0, Offline.get());
  auto Script = P.next("script");
  ASSERT_TRUE(Script);
  ASSERT_EQ((*Script)["params"].size(), 2u);
  EXPECT_EQ((*Script)["params"][0]["name"], "gain");
  EXPECT_EQ((*Script)["params"][0]["value"], -3); // carried over
  EXPECT_EQ((*Script)["params"][1]["name"], "mix");
}
