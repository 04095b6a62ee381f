//===- plugin/lv2/Lv2Bundle.cpp - Writing an exported script's LV2 bundle -===//
#include "plugin/lv2/Lv2Bundle.h"

#include "runtime/MessageCatalog.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dspjit::plugin {

namespace fs = std::filesystem;

std::string defaultPluginUri(const std::string &Name) {
  return "urn:dspjit:plugin:" + Name;
}

/// A Turtle decimal or double: always with a point or an exponent, so that
/// it is read as a number with a fraction (never as an xsd:integer).
static std::string number(float V) {
  char Buf[64];
  // The shortest text that reads back as the same float.
  auto End = std::to_chars(Buf, Buf + sizeof Buf, V).ptr;
  std::string S(Buf, End);
  if (S.find_first_of(".eEn") == std::string::npos)
    S += ".0";
  return S;
}

/// A Turtle string literal.
static std::string literal(const std::string &S) {
  std::string Out = "\"";
  for (char C : S) {
    if (C == '"' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

static const char *unitResource(const std::string &Unit) {
  if (Unit == "hz")
    return "units:hz";
  if (Unit == "s")
    return "units:s";
  if (Unit == "ms")
    return "units:ms";
  if (Unit == "db")
    return "units:db";
  if (Unit == "%")
    return "units:pc";
  return nullptr;
}

std::string pluginTurtle(const std::string &Uri, const std::string &Name,
                         const PortLayout &L, bool Generator) {
  std::ostringstream T;
  T << "@prefix atom: <http://lv2plug.in/ns/ext/atom#> .\n"
       "@prefix doap: <http://usefulinc.com/ns/doap#> .\n"
       "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
       "@prefix log: <http://lv2plug.in/ns/ext/log#> .\n"
       "@prefix midi: <http://lv2plug.in/ns/ext/midi#> .\n"
       "@prefix urid: <http://lv2plug.in/ns/ext/urid#> .\n"
       "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
       "@prefix units: <http://lv2plug.in/ns/extensions/units#> .\n\n";
  T << "<" << Uri << ">\n  a lv2:Plugin"
    << (L.HasMidi   ? " , lv2:InstrumentPlugin"
        : Generator ? " , lv2:GeneratorPlugin"
                    : "")
    << " ;\n"
    << "  doap:name " << literal(Name) << " ;\n"
    << "  rdfs:comment "
    << literal("dspjit script " + Name +
               ".dsp, compiled by LLVM for the host's sample rate when the "
               "plugin is instantiated")
    << " ;\n"
    << "  lv2:optionalFeature lv2:hardRTCapable , log:log ;\n";
  if (L.HasMidi)
    T << "  lv2:requiredFeature urid:map ;\n";
  for (size_t I = 0; I < L.Ports.size(); ++I) {
    const PortSpec &P = L.Ports[I];
    T << (I == 0 ? "  lv2:port [\n" : "  ] , [\n");
    switch (P.K) {
    case PortSpec::AudioIn:
      T << "    a lv2:InputPort , lv2:AudioPort ;\n";
      break;
    case PortSpec::AudioOut:
      T << "    a lv2:OutputPort , lv2:AudioPort ;\n";
      break;
    case PortSpec::ControlIn:
      T << "    a lv2:InputPort , lv2:ControlPort ;\n";
      break;
    case PortSpec::ControlOut:
    case PortSpec::Latency:
      T << "    a lv2:OutputPort , lv2:ControlPort ;\n";
      break;
    case PortSpec::MidiIn:
      T << "    a lv2:InputPort , atom:AtomPort ;\n"
           "    atom:bufferType atom:Sequence ;\n"
           "    atom:supports midi:MidiEvent ;\n"
           "    lv2:designation lv2:control ;\n";
      break;
    }
    T << "    lv2:index " << I << " ;\n"
      << "    lv2:symbol " << literal(P.Symbol) << " ;\n"
      << "    lv2:name " << literal(P.Name);
    if (P.K == PortSpec::ControlIn) {
      T << " ;\n    lv2:default " << number(P.Default) << " ;\n"
        << "    lv2:minimum " << number(P.Min) << " ;\n"
        << "    lv2:maximum " << number(P.Max);
      if (const char *U = unitResource(P.Unit))
        T << " ;\n    units:unit " << U;
      if (P.Toggled)
        T << " ;\n    lv2:portProperty lv2:toggled";
      if (P.Integer)
        T << " ;\n    lv2:portProperty lv2:integer";
    }
    if (P.K == PortSpec::Latency)
      T << " ;\n    lv2:designation lv2:latency ;\n"
        << "    lv2:portProperty lv2:reportsLatency , lv2:integer ;\n"
        << "    lv2:minimum 0.0 ;\n    lv2:maximum " << number(P.Max);
    T << "\n";
  }
  if (!L.Ports.empty())
    T << "  ] ";
  T << ".\n";
  return T.str();
}

std::string manifestTurtle(const std::string &Uri, const std::string &Binary,
                           const std::string &Ttl) {
  return "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
         "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
         "<" +
         Uri +
         ">\n  a lv2:Plugin ;\n"
         "  lv2:binary <" +
         Binary + "> ;\n  rdfs:seeAlso <" + Ttl + "> .\n";
}

static bool validUri(const std::string &U) {
  size_t Colon = U.find(':');
  if (Colon == std::string::npos || Colon == 0 ||
      !std::isalpha(static_cast<unsigned char>(U[0])))
    return false;
  for (size_t I = 0; I < Colon; ++I)
    if (!std::isalnum(static_cast<unsigned char>(U[I])) &&
        !std::strchr("+-.", U[I]))
      return false;
  for (char C : U)
    if (static_cast<unsigned char>(C) <= ' ' || std::strchr("<>\"{}|\\^`", C))
      return false;
  return Colon + 1 < U.size();
}

static bool validName(const std::string &N) {
  if (N.empty())
    return false;
  for (char C : N)
    if (!std::isalnum(static_cast<unsigned char>(C)) && C != '-' && C != '_')
      return false;
  return true;
}

static Result<void> writeFile(const fs::path &Path, const std::string &Bytes) {
  std::ofstream Out(Path, std::ios::binary | std::ios::trunc);
  if (Out)
    Out.write(Bytes.data(), std::streamsize(Bytes.size()));
  if (!Out || !Out.flush())
    return fail(
        message<Msg::ExportCannotWrite>(Path.string(), std::strerror(errno)));
  return {};
}

Result<Lv2ExportResult> exportLv2(Compiler &C, const Lv2ExportOptions &O) {
  std::string Name = O.Name;
  if (Name.empty())
    Name = fs::path(O.Script).stem().string();
  if (!validName(Name))
    return fail(message<Msg::ExportBadName>(Name));
  const std::string Uri = O.Uri.empty() ? defaultPluginUri(Name) : O.Uri;
  if (!validUri(Uri))
    return fail(message<Msg::ExportBadUri>(Uri));

  std::string Library;
  {
    std::ifstream In(O.Library, std::ios::binary);
    if (!In)
      return fail(
          message<Msg::ExportNoLibrary>(O.Library, std::strerror(errno)));
    Library.assign(std::istreambuf_iterator<char>(In), {});
  }

  std::unique_ptr<Kernel> K = C.compileFile(O.Script);
  if (!K)
    return fail("");
  const DspjitKernel &Info = K->info();

  Lv2ExportResult R;
  R.Layout = PortLayout::of(Info, Info.latency_frames > 0);
  std::error_code EC;
  const fs::path ScriptDir =
      fs::weakly_canonical(fs::absolute(O.Script, EC), EC).parent_path();
  auto Relative = [&](const std::string &Path) {
    return fs::weakly_canonical(Path, EC).lexically_relative(ScriptDir);
  };
  R.P.Uri = Uri;
  R.P.Name = Name;
  R.P.Main = Relative(O.Script).string();
  R.P.Ports = R.Layout.signature();
  for (const auto &[Path, Text] : C.sourceTexts())
    R.P.Sources[Relative(Path).string()] = Text;
  // Sound files of tables ride along as files, at their place relative to
  // the script.
  std::vector<std::pair<std::string, fs::path>> TableFiles;
  for (const Compiler::TableInfo &T : C.tables()) {
    if (T.File.empty())
      continue;
    fs::path Rel = Relative(T.File);
    if (Rel.empty() || *Rel.begin() == "..")
      return fail(message<Msg::ExportTableOutside>(T.File));
    TableFiles.push_back({T.File, Rel});
  }
  if (auto Ok = writePayload(Library, R.P, O.Library); !Ok)
    return fail(Ok.error());

  const fs::path Bundle = fs::path(O.OutDir) / (Name + ".lv2");
  fs::create_directories(Bundle, EC);
  if (EC)
    return fail(message<Msg::ExportCannotWrite>(Bundle.string(), EC.message()));
  for (const auto &[From, Rel] : TableFiles) {
    fs::create_directories((Bundle / Rel).parent_path(), EC);
    fs::copy_file(From, Bundle / Rel, fs::copy_options::overwrite_existing, EC);
    if (EC)
      return fail(message<Msg::ExportCannotWrite>((Bundle / Rel).string(),
                                                  EC.message()));
  }
  const std::string Binary = Name + ".so", Ttl = Name + ".ttl";
  // Written to a temporary name and renamed: a host that has the old
  // library loaded keeps its mapping intact.
  const fs::path Tmp = Bundle / (Binary + ".tmp");
  if (auto Ok = writeFile(Tmp, Library); !Ok)
    return fail(Ok.error());
  fs::permissions(Tmp,
                  fs::perms::owner_exec | fs::perms::group_exec |
                      fs::perms::others_exec,
                  fs::perm_options::add, EC);
  fs::rename(Tmp, Bundle / Binary, EC);
  if (EC)
    return fail(message<Msg::ExportCannotWrite>((Bundle / Binary).string(),
                                                EC.message()));
  if (auto Ok = writeFile(Bundle / Ttl,
                          pluginTurtle(Uri, Name, R.Layout, Info.inputs == 0));
      !Ok)
    return fail(Ok.error());
  if (auto Ok =
          writeFile(Bundle / "manifest.ttl", manifestTurtle(Uri, Binary, Ttl));
      !Ok)
    return fail(Ok.error());
  R.Bundle = Bundle.string();
  return R;
}

} // namespace dspjit::plugin
