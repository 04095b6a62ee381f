//===- session/WebPanel.cpp - A live session's controls in the browser ----===//
//
// Boost.Beast (Debian libboost1.74-dev, header-only) on one io_context
// thread: every socket, buffer and connection list is touched by that
// thread only; the tick thread, the response thread and the bus's
// publishers hand it messages with net::post.
//
//===----------------------------------------------------------------------===//
#include "session/WebPanel.h"

#include "analysis/Fft.h"
#include "analysis/Response.h"
#include "runtime/MessageCatalog.h"
#include "session/WebProtocol.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

namespace dspjit::session {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Message = std::shared_ptr<const std::string>;

/// The page's files (generated from session/web/ by EmbedWebAssets.cmake).
struct WebAsset {
  const char *Path;
  const char *Type;
  const unsigned char *Data;
  size_t Size;
};
extern const WebAsset kWebAssets[];
extern const size_t kNumWebAssets;

namespace {

/// 128 random bits as 32 hex digits (std::random_device: getrandom(2)).
std::string randomToken() {
  std::random_device Random;
  std::string Token;
  for (int I = 0; I < 4; ++I) {
    char Part[9];
    std::snprintf(Part, sizeof Part, "%08x", unsigned(Random()));
    Token += Part;
  }
  return Token;
}

/// Compares without an early exit, so that timing says nothing of the token.
bool sameSecret(std::string_view A, std::string_view B) {
  unsigned char Diff = A.size() != B.size();
  for (size_t I = 0; I < A.size() && I < B.size(); ++I)
    Diff |= static_cast<unsigned char>(A[I] ^ B[I]);
  return Diff == 0;
}

/// The value of `Key` in a target's query ("/ws?token=abc"), if present.
std::optional<std::string_view> queryValue(std::string_view Target,
                                           std::string_view Key) {
  size_t Q = Target.find('?');
  if (Q == std::string_view::npos)
    return std::nullopt;
  std::string_view Query = Target.substr(Q + 1);
  while (!Query.empty()) {
    size_t Amp = Query.find('&');
    std::string_view Pair = Query.substr(0, Amp);
    if (Pair.size() > Key.size() && Pair.substr(0, Key.size()) == Key &&
        Pair[Key.size()] == '=')
      return Pair.substr(Key.size() + 1);
    if (Amp == std::string_view::npos)
      break;
    Query.remove_prefix(Amp + 1);
  }
  return std::nullopt;
}

double toDb(double Linear) {
  return Linear > 1e-10 ? 20 * std::log10(Linear) : -200.0;
}

} // namespace

struct WebSocketConn;

struct WebPanel::Impl {
  Impl(ControlBus &Bus, WebPanelOptions O, LogFn Log)
      : Bus(Bus), O(std::move(O)), Log(std::move(Log)) {}

  ControlBus &Bus;
  WebPanelOptions O;
  LogFn Log;
  std::string Token;
  unsigned Port = 0;
  net::io_context Io;
  tcp::acceptor Acceptor{Io};
  std::vector<std::shared_ptr<WebSocketConn>> Sockets; ///< io thread only

  std::atomic<int> State{int(web::SessionState::Waiting)};
  /// What a page that connects now is sent after hello: the script, the
  /// last events (reload lines, a failed save's diagnostics).
  std::mutex Latest;
  std::string ScriptJson;
  std::deque<std::string> RecentEvents;

  std::atomic<bool> Quit{false};
  std::atomic<unsigned> Connections{0};
  std::atomic<uint64_t> Accepted{0}, Refused{0}, NotFound{0}, Handled{0},
      Dropped{0}, Flooded{0}, Ticks{0}, SkippedFrames{0};

  /// The response view: the tick thread asks, the response thread answers.
  std::mutex ResponseLock;
  std::condition_variable ResponseWake;
  bool ResponseWanted = false;

  Subscription Events;
  std::thread IoThread, TickThread, ResponseThread;

  void accept();
  void broadcast(Message M, bool Droppable);
  void added(const std::shared_ptr<WebSocketConn> &S);
  void removed(const WebSocketConn *S);
  void greet(WebSocketConn &S);
  void onEvent(const Event &E);
  void tickLoop();
  void responseLoop();
  bool originAllowed(std::string_view Origin) const;
  void refuse(const std::string &Why) {
    if (Log)
      Log(message<Msg::WebLogLine>(Why), true);
  }
};

//===-- A page's WebSocket ------------------------------------------------===//

struct WebSocketConn : std::enable_shared_from_this<WebSocketConn> {
  WebSocketConn(WebPanel::Impl &P, beast::tcp_stream &&Stream)
      : P(P), Ws(std::move(Stream)) {}

  WebPanel::Impl &P;
  websocket::stream<beast::tcp_stream> Ws;
  beast::flat_buffer In;
  std::deque<Message> Out;
  bool Writing = false, Closed = false;
  /// The rate limit: messages in the current one-second window.
  std::chrono::steady_clock::time_point Window;
  unsigned InWindow = 0;
  uint64_t FloodedInWindow = 0;

  void start(http::request<http::empty_body> Request) {
    Ws.set_option(
        websocket::stream_base::timeout::suggested(beast::role_type::server));
    Ws.set_option(
        websocket::stream_base::decorator([](websocket::response_type &R) {
          R.set(http::field::server, "dspjit");
        }));
    // Far larger than any message of the protocol: beyond it the
    // connection is closed; below it, web::MaxMessage drops one message.
    Ws.read_message_max(64 * 1024);
    auto Self = shared_from_this();
    Ws.async_accept(Request, [Self](beast::error_code Error) {
      if (Error)
        return;
      Self->P.added(Self);
      Self->read();
    });
  }

  void read() {
    auto Self = shared_from_this();
    Ws.async_read(In, [Self](beast::error_code Error, size_t) {
      if (Error) {
        Self->Closed = true;
        return Self->P.removed(Self.get());
      }
      Self->handle();
      Self->In.consume(Self->In.size());
      Self->read();
    });
  }

  void handle() {
    auto Now = std::chrono::steady_clock::now();
    if (Now - Window >= std::chrono::seconds(1)) {
      if (FloodedInWindow && P.Log)
        P.Log(message<Msg::WebLogLine>(message<Msg::WebFlood>(
                  FloodedInWindow, WebPanel::FloodLimit)),
              false);
      Window = Now;
      InWindow = 0;
      FloodedInWindow = 0;
    }
    if (++InWindow > WebPanel::FloodLimit) {
      ++FloodedInWindow;
      ++P.Flooded;
      return;
    }
    if (!Ws.got_text()) {
      ++P.Dropped;
      P.Bus.countError(message<Msg::WebSurface>());
      return send(std::make_shared<const std::string>(
                      web::replyMessage(false, message<Msg::WebNotBinary>())),
                  false);
    }
    std::string_view Text(static_cast<const char *>(In.data().data()),
                          In.size());
    web::Handled H = web::handleMessage(P.Bus, Text);
    if (H.Ok) {
      ++P.Handled;
    } else {
      ++P.Dropped;
      P.Bus.countError(message<Msg::WebSurface>());
    }
    if (!H.Reply.empty())
      send(std::make_shared<const std::string>(std::move(H.Reply)), false);
  }

  /// Queues a message. A page that does not keep up first loses what the
  /// next tick replaces (meters, scopes), and is closed when far behind.
  void send(Message M, bool Droppable) {
    if (Closed)
      return;
    if (Droppable && Out.size() > 8) {
      ++P.SkippedFrames;
      return;
    }
    if (Out.size() > 512) {
      Closed = true;
      beast::error_code Ignored;
      beast::get_lowest_layer(Ws).socket().close(Ignored);
      return;
    }
    Out.push_back(std::move(M));
    if (!Writing)
      write();
  }

  void write() {
    Writing = true;
    Ws.text(true);
    auto Self = shared_from_this();
    Ws.async_write(net::buffer(*Out.front()),
                   [Self](beast::error_code Error, size_t) {
                     Self->Writing = false;
                     if (Error) {
                       Self->Closed = true;
                       return;
                     }
                     Self->Out.pop_front();
                     if (!Self->Out.empty())
                       Self->write();
                   });
  }
};

//===-- HTTP: the page's files and the upgrade ----------------------------===//

struct HttpConn : std::enable_shared_from_this<HttpConn> {
  HttpConn(WebPanel::Impl &P, tcp::socket &&Socket)
      : P(P), Stream(std::move(Socket)) {}

  WebPanel::Impl &P;
  beast::tcp_stream Stream;
  beast::flat_buffer Buffer;
  std::optional<http::request_parser<http::empty_body>> Parser;

  void start() {
    Parser.emplace();
    Parser->header_limit(8192);
    Stream.expires_after(std::chrono::seconds(10));
    auto Self = shared_from_this();
    http::async_read(Stream, Buffer, *Parser,
                     [Self](beast::error_code Error, size_t) {
                       if (!Error)
                         Self->route(Self->Parser->release());
                     });
  }

  void route(http::request<http::empty_body> Request) {
    std::string_view Target(Request.target().data(), Request.target().size());
    std::string_view Path = Target.substr(0, Target.find('?'));
    if (websocket::is_upgrade(Request))
      return upgrade(std::move(Request), Path, Target);
    if (Request.method() != http::verb::get &&
        Request.method() != http::verb::head)
      return respond(http::status::method_not_allowed, "text/plain",
                     "only GET\n", Request);
    if (Path == "/")
      Path = "/index.html";
    for (size_t I = 0; I < kNumWebAssets; ++I)
      if (Path == kWebAssets[I].Path)
        return respond(
            http::status::ok, kWebAssets[I].Type,
            std::string(reinterpret_cast<const char *>(kWebAssets[I].Data),
                        kWebAssets[I].Size),
            Request);
    ++P.NotFound;
    respond(http::status::not_found, "text/plain", "not found\n", Request);
  }

  void upgrade(http::request<http::empty_body> Request, std::string_view Path,
               std::string_view Target) {
    auto Token = queryValue(Target, "token");
    std::string Origin(Request[http::field::origin]);
    if (Path != "/ws" || !Token || !sameSecret(*Token, P.Token)) {
      ++P.Refused;
      P.refuse("refused a WebSocket without the panel's token");
      return respond(http::status::forbidden, "text/plain",
                     "the panel's token is required\n", Request);
    }
    if (!P.originAllowed(Origin)) {
      ++P.Refused;
      P.refuse("refused a WebSocket from origin '" + abbreviated(Origin) + "'");
      return respond(http::status::forbidden, "text/plain",
                     "cross-origin WebSockets are refused\n", Request);
    }
    if (P.Connections.load() >= WebPanel::MaxConnections) {
      ++P.Refused;
      return respond(http::status::service_unavailable, "text/plain",
                     "too many pages are open\n", Request);
    }
    Stream.expires_never();
    std::make_shared<WebSocketConn>(P, std::move(Stream))
        ->start(std::move(Request));
  }

  void respond(http::status Status, const char *Type, std::string Body,
               const http::request<http::empty_body> &Request) {
    auto R = std::make_shared<http::response<http::string_body>>(
        Status, Request.version());
    R->set(http::field::server, "dspjit");
    R->set(http::field::content_type, Type);
    R->set(http::field::cache_control, "no-store");
    R->set("X-Content-Type-Options", "nosniff");
    R->set("X-Frame-Options", "DENY");
    R->set("Content-Security-Policy",
           "default-src 'self'; connect-src 'self' ws: ; img-src 'self' data:; "
           "frame-ancestors 'none'");
    R->keep_alive(false);
    if (Request.method() != http::verb::head)
      R->body() = std::move(Body);
    R->prepare_payload();
    auto Self = shared_from_this();
    http::async_write(Stream, *R, [Self, R](beast::error_code, size_t) {
      beast::error_code Ignored;
      Self->Stream.socket().shutdown(tcp::socket::shutdown_send, Ignored);
    });
  }
};

//===-- The server --------------------------------------------------------===//

bool WebPanel::Impl::originAllowed(std::string_view Origin) const {
  std::string PortText = ":" + std::to_string(Port);
  for (const std::string &Host :
       {std::string("127.0.0.1"), std::string("localhost"), O.Bind})
    if (Origin == "http://" + Host + PortText)
      return true;
  return false;
}

void WebPanel::Impl::accept() {
  Acceptor.async_accept([this](beast::error_code Error, tcp::socket Socket) {
    if (Error) {
      if (Error == net::error::operation_aborted)
        return;
    } else {
      std::make_shared<HttpConn>(*this, std::move(Socket))->start();
    }
    accept();
  });
}

void WebPanel::Impl::broadcast(Message M, bool Droppable) {
  net::post(Io, [this, M = std::move(M), Droppable] {
    for (const auto &S : Sockets)
      S->send(M, Droppable);
  });
}

void WebPanel::Impl::added(const std::shared_ptr<WebSocketConn> &S) {
  Sockets.push_back(S);
  ++Accepted;
  Connections.store(unsigned(Sockets.size()));
  greet(*S);
}

void WebPanel::Impl::removed(const WebSocketConn *S) {
  std::erase_if(Sockets, [S](const auto &Each) { return Each.get() == S; });
  Connections.store(unsigned(Sockets.size()));
}

void WebPanel::Impl::greet(WebSocketConn &S) {
  auto Send = [&](std::string Text) {
    S.send(std::make_shared<const std::string>(std::move(Text)), false);
  };
  Send(web::helloMessage(O.Script, web::SessionState(State.load()),
                         Bus.sampleRate()));
  std::lock_guard<std::mutex> Guard(Latest);
  if (!ScriptJson.empty())
    Send(ScriptJson);
  for (const std::string &E : RecentEvents)
    Send(E);
  std::lock_guard<std::mutex> Wake(ResponseLock);
  ResponseWanted = true;
  ResponseWake.notify_one();
}

void WebPanel::Impl::onEvent(const Event &E) {
  // Xruns and non-finite samples are counted in every tick's health.
  if (std::holds_alternative<event::Xrun>(E) ||
      std::holds_alternative<event::NonFinite>(E))
    return;
  if (std::holds_alternative<event::Started>(E))
    State.store(int(web::SessionState::Running));
  if (std::holds_alternative<event::Stopped>(E))
    State.store(int(web::SessionState::Stopped));
  std::string Text = web::eventMessage(E);
  {
    std::lock_guard<std::mutex> Guard(Latest);
    RecentEvents.push_back(Text);
    if (RecentEvents.size() > 30)
      RecentEvents.pop_front();
  }
  if (std::holds_alternative<event::Started>(E) ||
      std::holds_alternative<event::Stopped>(E))
    broadcast(std::make_shared<const std::string>(web::helloMessage(
                  O.Script, web::SessionState(State.load()), Bus.sampleRate())),
              false);
  broadcast(std::make_shared<const std::string>(std::move(Text)), false);
}

//===-- The tick: meters, scope, spectrum, health -------------------------===//

namespace {

/// The last `Size` samples of each output lane, newest last.
class History {
public:
  static constexpr size_t Size = 8192;
  void resize(unsigned Lanes) {
    if (Data.size() != Lanes)
      Data.assign(Lanes, std::vector<float>(Size, 0.0f));
  }
  void push(const float *Frames, size_t N, unsigned Lanes) {
    for (size_t F = 0; F < N; ++F) {
      for (unsigned L = 0; L < Lanes; ++L)
        Data[L][Pos] = Frames[F * Lanes + L];
      Pos = (Pos + 1) % Size;
    }
  }
  /// Sample `Back` samples before the newest (0: the newest) of lane L.
  float at(unsigned L, size_t Back) const {
    return Data[L][(Pos + Size - 1 - Back) % Size];
  }
  unsigned lanes() const { return unsigned(Data.size()); }

private:
  std::vector<std::vector<float>> Data;
  size_t Pos = 0;
};

/// Frequencies of the spectrum's points: log-spaced from 20 Hz to Nyquist.
std::vector<double> spectrumFrequencies(double Rate, size_t Points) {
  std::vector<double> Hz(Points);
  double Lo = 20, Hi = Rate / 2;
  for (size_t I = 0; I < Points; ++I)
    Hz[I] = Lo * std::pow(Hi / Lo, double(I) / double(Points - 1));
  return Hz;
}

} // namespace

void WebPanel::Impl::tickLoop() {
  using Clock = std::chrono::steady_clock;
  const auto Period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / std::max(1.0, O.TickHz)));
  constexpr size_t FftSize = 4096, ScopeSize = 1024, SpectrumPoints = 256;
  analysis::RealFft Fft(FftSize);
  const std::vector<double> Window = analysis::hann(FftSize);
  History H;
  std::vector<float> Frames;
  std::vector<double> Peak, SumSquares;
  size_t LevelFrames = 0;
  std::shared_ptr<Instance> Shown;
  std::vector<float> ShownParams;
  uint64_t LastCallbacks = 0;
  double LastShareSum = 0;
  uint64_t Tick = 0;
  auto Next = Clock::now();
  while (!Quit.load()) {
    Next += Period;
    std::this_thread::sleep_until(Next);
    if (Clock::now() - Next > 4 * Period) // fell behind: do not catch up
      Next = Clock::now();
    // Drain the monitor ring whether or not a page is open, so that a page
    // that opens sees the output of now.
    unsigned Lanes = 0;
    Bus.readMonitor(nullptr, 0, Lanes); // the channels only
    if (Lanes != H.lanes()) {
      H.resize(Lanes);
      Peak.assign(Lanes, 0);
      SumSquares.assign(Lanes, 0);
    }
    Frames.resize(size_t(4096) * Lanes);
    while (size_t N = Lanes ? Bus.readMonitor(Frames.data(), 4096, Lanes) : 0) {
      H.push(Frames.data(), N, Lanes);
      for (size_t F = 0; F < N; ++F)
        for (unsigned L = 0; L < Lanes; ++L) {
          double V = Frames[F * Lanes + L];
          Peak[L] = std::max(Peak[L], std::fabs(V));
          SumSquares[L] += V * V;
        }
      LevelFrames += N;
    }
    std::shared_ptr<Instance> Inst = Bus.instance();
    if (!Inst)
      continue;
    // A new version: new controls for the pages only when they changed.
    if (Inst != Shown) {
      if (!Shown || !web::sameControls(Shown->kernel(), Inst->kernel())) {
        std::vector<std::string> Open = Bus.surfaces();
        bool Midi = std::find(Open.begin(), Open.end(),
                              message<Msg::MidiSurface>()) != Open.end();
        std::string Json = web::scriptMessage(*Inst, O.Script, Midi);
        {
          std::lock_guard<std::mutex> Guard(Latest);
          ScriptJson = Json;
        }
        broadcast(std::make_shared<const std::string>(std::move(Json)), false);
      }
      Shown = Inst;
      ShownParams.clear(); // the response is measured again
    }
    std::vector<float> Params;
    const DspjitKernel &K = Inst->kernel();
    for (uint32_t S = 0; S < K.num_slots; ++S)
      if (K.slots[S].kind == DSPJIT_SLOT_PARAM)
        if (auto V = Inst->param(K.slots[S].name))
          Params.push_back(*V);
    if (Params != ShownParams) {
      ShownParams = Params;
      std::lock_guard<std::mutex> Guard(ResponseLock);
      ResponseWanted = true;
      ResponseWake.notify_one();
    }
    if (Connections.load() == 0)
      continue;
    web::Levels Levels;
    for (unsigned L = 0; L < H.lanes(); ++L) {
      Levels.PeakDb.push_back(toDb(Peak[L]));
      Levels.RmsDb.push_back(toDb(
          LevelFrames ? std::sqrt(SumSquares[L] / double(LevelFrames)) : 0));
      Peak[L] = SumSquares[L] = 0;
    }
    LevelFrames = 0;
    web::Health Health;
    if (auto S = Bus.summary())
      Health.Summary = *S;
    double ShareSum =
        Health.Summary.MeanShare * double(Health.Summary.Callbacks);
    if (Health.Summary.Callbacks > LastCallbacks)
      Health.RecentShare = (ShareSum - LastShareSum) /
                           double(Health.Summary.Callbacks - LastCallbacks);
    LastCallbacks = Health.Summary.Callbacks;
    LastShareSum = ShareSum;
    Health.CpuLoad = Bus.cpuLoad();
    Health.Buckets = Bus.shareBuckets();
    double Rate = Bus.sampleRate();
    double Seconds = Rate > 0 ? double(Health.Summary.Frames) / Rate : 0;
    broadcast(std::make_shared<const std::string>(
                  web::tickMessage(*Inst, Levels, Health, Seconds)),
              true);
    ++Ticks;
    if (H.lanes() == 0 || Rate <= 0)
      continue;
    // The scope: ScopeSize samples from the last rising zero crossing of
    // lane 0 that leaves room for them (a still picture of a steady tone).
    const unsigned ShownLanes = std::min(2u, H.lanes());
    size_t Start = ScopeSize; // samples back from the newest
    for (size_t Back = ScopeSize; Back < 3 * ScopeSize; ++Back)
      if (H.at(0, Back + 1) < 0 && H.at(0, Back) >= 0) {
        Start = Back;
        break;
      }
    // Every other sample: 512 points a lane draw 21 ms at 48 kHz as well
    // as 1024 do, for half the bytes.
    std::vector<std::vector<float>> Scope(ShownLanes);
    for (unsigned L = 0; L < ShownLanes; ++L)
      for (size_t I = 0; I < ScopeSize; I += 2)
        Scope[L].push_back(H.at(L, Start - I));
    broadcast(
        std::make_shared<const std::string>(web::scopeMessage(Scope, Rate / 2)),
        true);
    if (++Tick % 2)
      continue; // the spectrum at half the rate
    std::vector<double> Hz = spectrumFrequencies(Rate, SpectrumPoints);
    std::vector<std::vector<double>> Db(ShownLanes);
    for (unsigned L = 0; L < ShownLanes; ++L) {
      for (size_t I = 0; I < FftSize; ++I)
        Fft.input()[I] = H.at(L, FftSize - 1 - I) * Window[I];
      Fft.run();
      // dBFS: a full-scale sine on a bin reads 0 dB (Hann's gain is 1/2).
      double Scale = 2.0 / (double(FftSize) * 0.5);
      double BinHz = Rate / double(FftSize);
      for (size_t P = 0; P < Hz.size(); ++P) {
        // The loudest bin between this point and the next, or the nearest.
        double Lo = P ? std::sqrt(Hz[P - 1] * Hz[P]) : Hz[0];
        double Hi = P + 1 < Hz.size() ? std::sqrt(Hz[P] * Hz[P + 1]) : Hz[P];
        size_t First =
            std::min(Fft.bins() - 1, size_t(std::lround(Lo / BinHz)));
        size_t Last = std::min(Fft.bins() - 1, size_t(std::lround(Hi / BinHz)));
        double Max = 0;
        for (size_t B = First; B <= Last; ++B)
          Max = std::max(Max, std::abs(Fft.output()[B]));
        Db[L].push_back(std::max(-140.0, toDb(Max * Scale)));
      }
    }
    broadcast(std::make_shared<const std::string>(web::spectrumMessage(Hz, Db)),
              true);
  }
}

void WebPanel::Impl::responseLoop() {
  // The script's response at the parameters of the version playing,
  // measured on an instance of its own (analysis/Response.h) whenever a
  // parameter or the version changed, at most ten times a second, from
  // the first 1.4 s of the impulse response: a tenth of a second of work
  // even for a reverb whose tail lasts seconds (or never ends, frozen).
  constexpr size_t MaxImpulse = 65536, Points = 256;
  while (!Quit.load()) {
    {
      std::unique_lock<std::mutex> Guard(ResponseLock);
      ResponseWake.wait(Guard, [&] { return ResponseWanted || Quit.load(); });
      ResponseWanted = false;
    }
    if (Quit.load())
      return;
    std::shared_ptr<Instance> Inst = Bus.instance();
    if (!Inst || Connections.load() == 0)
      continue;
    const DspjitKernel &K = Inst->kernel();
    if (K.inputs == 0 || K.outputs == 0)
      continue; // nothing to respond to; the page says so
    analysis::ResponseOptions O;
    O.SampleRate = Inst->sampleRate();
    O.Length = MaxImpulse;
    for (uint32_t S = 0; S < K.num_slots; ++S)
      if (K.slots[S].kind == DSPJIT_SLOT_PARAM)
        if (auto V = Inst->param(K.slots[S].name))
          O.Params.emplace_back(K.slots[S].name, *V);
    auto Impulse = analysis::impulseResponse(K, O);
    if (!Impulse)
      continue;
    analysis::FrequencyResponse R =
        analysis::responseOf(*Impulse, O.SampleRate, Points);
    broadcast(std::make_shared<const std::string>(web::responseMessage(
                  R.Hz, R.MagnitudeDb, R.PhaseDegrees, R.MinDb, R.MaxDb)),
              false);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

//===-- WebPanel ----------------------------------------------------------===//

WebPanel::WebPanel(std::unique_ptr<Impl> P) : P(std::move(P)) {}

Result<void> WebPanel::check(const WebPanelOptions &Options) {
  if (Options.Port > 65535)
    return fail(message<Msg::WebBadPort>(Options.Port));
  beast::error_code Error;
  net::ip::make_address(Options.Bind, Error);
  if (Error)
    return fail(message<Msg::WebBadBind>(abbreviated(Options.Bind)));
  return {};
}

Result<std::unique_ptr<WebPanel>>
WebPanel::open(ControlBus &Bus, WebPanelOptions Options, LogFn Log) {
  if (auto Ok = check(Options); !Ok)
    return fail(Ok.error());
  beast::error_code Error;
  net::ip::address Address = net::ip::make_address(Options.Bind, Error);
  auto P = std::make_unique<Impl>(Bus, Options, std::move(Log));
  P->Token = Options.Token.empty() ? randomToken() : Options.Token;
  tcp::endpoint Endpoint(Address, uint16_t(Options.Port));
  auto Failed = [&](const beast::error_code &E) {
    return fail(
        message<Msg::WebCannotListen>(Options.Bind, Options.Port, E.message()));
  };
  P->Acceptor.open(Endpoint.protocol(), Error);
  if (Error)
    return Failed(Error);
  P->Acceptor.set_option(net::socket_base::reuse_address(true), Error);
  P->Acceptor.bind(Endpoint, Error);
  if (Error)
    return Failed(Error);
  P->Acceptor.listen(net::socket_base::max_listen_connections, Error);
  if (Error)
    return Failed(Error);
  P->Port = P->Acceptor.local_endpoint().port();
  if (!Address.is_loopback() && P->Log)
    P->Log(message<Msg::WebBindWarning>(Options.Bind), false);
  Bus.attachSurface(message<Msg::WebSurface>());
  Impl *Self = P.get();
  P->Events = Bus.subscribe([Self](const Event &E) { Self->onEvent(E); });
  P->accept();
  P->IoThread = std::thread([Self] { Self->Io.run(); });
  P->TickThread = std::thread([Self] { Self->tickLoop(); });
  P->ResponseThread = std::thread([Self] { Self->responseLoop(); });
  return std::unique_ptr<WebPanel>(new WebPanel(std::move(P)));
}

WebPanel::~WebPanel() {
  P->Events.reset();
  {
    std::lock_guard<std::mutex> Guard(P->ResponseLock);
    P->Quit.store(true);
  }
  P->ResponseWake.notify_all();
  if (P->TickThread.joinable())
    P->TickThread.join();
  if (P->ResponseThread.joinable())
    P->ResponseThread.join();
  P->Io.stop();
  if (P->IoThread.joinable())
    P->IoThread.join();
  P->Sockets.clear();
}

unsigned WebPanel::port() const { return P->Port; }
const std::string &WebPanel::token() const { return P->Token; }

std::string WebPanel::url() const {
  std::string Host = P->O.Bind == "0.0.0.0" ? "127.0.0.1" : P->O.Bind;
  if (Host.find(':') != std::string::npos)
    Host = "[" + Host + "]";
  return "http://" + Host + ":" + std::to_string(P->Port) +
         "/#token=" + P->Token;
}

WebPanelStats WebPanel::stats() const {
  return {P->Connections.load(), P->Accepted.load(), P->Refused.load(),
          P->NotFound.load(),    P->Handled.load(),  P->Dropped.load(),
          P->Flooded.load(),     P->Ticks.load(),    P->SkippedFrames.load()};
}

} // namespace dspjit::session
