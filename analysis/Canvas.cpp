//===- analysis/Canvas.cpp - Where a Figure is drawn: SVG or cairo --------===//
#include "analysis/Canvas.h"

#include "runtime/MessageCatalog.h"
#include "runtime/Xml.h"

#include <cairo.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace dspjit::analysis {

namespace {

const char *const FontFamily = "DejaVu Sans";

double red(uint32_t Rgb) { return double((Rgb >> 16) & 0xff) / 255; }
double green(uint32_t Rgb) { return double((Rgb >> 8) & 0xff) / 255; }
double blue(uint32_t Rgb) { return double(Rgb & 0xff) / 255; }

/// A pixel coordinate for SVG: two decimals, trailing zeros dropped.
std::string num(double V) {
  char Buffer[32];
  std::snprintf(Buffer, sizeof Buffer, "%.2f", std::abs(V) < 5e-3 ? 0.0 : V);
  std::string S = Buffer;
  S.erase(S.find_last_not_of('0') + 1);
  if (S.back() == '.')
    S.pop_back();
  return S;
}

/// "x1,y1 x2,y2 ...".
std::string pointList(const std::vector<Point> &Points) {
  std::string S;
  for (size_t I = 0; I < Points.size(); ++I)
    S += (I ? " " : "") + num(Points[I].first) + "," + num(Points[I].second);
  return S;
}

std::string color(uint32_t Rgb) {
  char Buffer[8];
  std::snprintf(Buffer, sizeof Buffer, "#%06x", Rgb & 0xffffff);
  return Buffer;
}

std::string base64(const std::string &Bytes) {
  static const char Digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string S;
  S.reserve((Bytes.size() + 2) / 3 * 4);
  for (size_t I = 0; I < Bytes.size(); I += 3) {
    uint32_t V = uint32_t(uint8_t(Bytes[I])) << 16;
    if (I + 1 < Bytes.size())
      V |= uint32_t(uint8_t(Bytes[I + 1])) << 8;
    if (I + 2 < Bytes.size())
      V |= uint8_t(Bytes[I + 2]);
    S += Digits[(V >> 18) & 63];
    S += Digits[(V >> 12) & 63];
    S += I + 1 < Bytes.size() ? Digits[(V >> 6) & 63] : '=';
    S += I + 2 < Bytes.size() ? Digits[V & 63] : '=';
  }
  return S;
}

struct SurfaceFree {
  void operator()(cairo_surface_t *S) const { cairo_surface_destroy(S); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceFree>;

/// The heatmap's cells as an image, one pixel a cell.
Surface heatmapSurface(const Heatmap &M) {
  Surface S(cairo_image_surface_create(CAIRO_FORMAT_RGB24, int(M.Columns),
                                       int(M.Rows)));
  cairo_surface_flush(S.get());
  unsigned char *Data = cairo_image_surface_get_data(S.get());
  int Stride = cairo_image_surface_get_stride(S.get());
  double Span = M.High > M.Low ? M.High - M.Low : 1;
  for (size_t R = 0; R < M.Rows; ++R) {
    auto *Row = reinterpret_cast<uint32_t *>(Data + R * size_t(Stride));
    for (size_t C = 0; C < M.Columns; ++C) {
      float V = M.Values[R * M.Columns + C];
      Row[C] = viridis(std::isfinite(V) ? (V - M.Low) / Span : 0);
    }
  }
  cairo_surface_mark_dirty(S.get());
  return S;
}

/// Encodes a surface as PNG into `Bytes`.
cairo_status_t pngOf(cairo_surface_t *S, std::string &Bytes) {
  return cairo_surface_write_to_png_stream(
      S,
      [](void *Closure, const unsigned char *Data, unsigned Length) {
        static_cast<std::string *>(Closure)->append(
            reinterpret_cast<const char *>(Data), Length);
        return CAIRO_STATUS_SUCCESS;
      },
      &Bytes);
}

void selectFont(cairo_t *Cr, const TextStyle &Style) {
  cairo_select_font_face(Cr, FontFamily, CAIRO_FONT_SLANT_NORMAL,
                         Style.Bold ? CAIRO_FONT_WEIGHT_BOLD
                                    : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(Cr, Style.Size);
}

} // namespace

uint32_t viridis(double T) {
  // Viridis (matplotlib) at 0, 0.1, ... 1.
  static constexpr std::array<uint32_t, 11> Stops = {
      0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
      0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725};
  T = std::clamp(std::isfinite(T) ? T : 0.0, 0.0, 1.0) * 10;
  size_t I = std::min<size_t>(size_t(T), 9);
  double F = T - double(I);
  uint32_t Rgb = 0;
  for (int Shift : {16, 8, 0}) {
    double A = (Stops[I] >> Shift) & 0xff, B = (Stops[I + 1] >> Shift) & 0xff;
    Rgb |= uint32_t(std::lround(A + (B - A) * F)) << Shift;
  }
  return Rgb;
}

double textWidth(const std::string &Text, const TextStyle &Style) {
  struct Scratch {
    cairo_surface_t *S = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cairo_t *Cr = cairo_create(S);
    ~Scratch() {
      cairo_destroy(Cr);
      cairo_surface_destroy(S);
    }
  };
  thread_local Scratch M;
  selectFont(M.Cr, Style);
  cairo_text_extents_t E;
  cairo_text_extents(M.Cr, Text.c_str(), &E);
  return E.x_advance;
}

//===----------------------------------------------------------------------===//
// SVG
//===----------------------------------------------------------------------===//

SvgCanvas::SvgCanvas(unsigned W, unsigned H, const std::string &Title) {
  Out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"" +
        std::to_string(W) + "\" height=\"" + std::to_string(H) +
        "\" viewBox=\"0 0 " + std::to_string(W) + " " + std::to_string(H) +
        "\" font-family=\"" + FontFamily +
        ", Verdana, Geneva, sans-serif\">\n<title>" + escapeXml(Title) +
        "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
}

void SvgCanvas::polyline(const std::vector<Point> &Points, const Stroke &S) {
  if (Points.size() < 2)
    return;
  Out += "<polyline fill=\"none\" stroke=\"" + color(S.Rgb) +
         "\" stroke-width=\"" + num(S.Width) +
         "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"";
  if (S.Dashed)
    Out += " stroke-dasharray=\"6 4\"";
  Out += " points=\"" + pointList(Points) + "\"/>\n";
}

void SvgCanvas::rect(double X, double Y, double W, double H, uint32_t Fill,
                     double Opacity, const Stroke *Border) {
  Out += "<rect x=\"" + num(X) + "\" y=\"" + num(Y) + "\" width=\"" + num(W) +
         "\" height=\"" + num(H) + "\" fill=\"" + color(Fill) + "\"";
  if (Opacity < 1)
    Out += " fill-opacity=\"" + num(Opacity) + "\"";
  if (Border)
    Out += " stroke=\"" + color(Border->Rgb) + "\" stroke-width=\"" +
           num(Border->Width) + "\"";
  Out += "/>\n";
}

void SvgCanvas::dot(double X, double Y, double Radius, uint32_t Fill) {
  Out += "<circle cx=\"" + num(X) + "\" cy=\"" + num(Y) + "\" r=\"" +
         num(Radius) + "\" fill=\"" + color(Fill) + "\"/>\n";
}

void SvgCanvas::polygon(const std::vector<Point> &Points, uint32_t Fill,
                        double Opacity) {
  if (Points.size() < 3)
    return;
  Out += "<polygon fill=\"" + color(Fill) + "\" fill-opacity=\"" +
         num(Opacity) + "\" points=\"" + pointList(Points) + "\"/>\n";
}

void SvgCanvas::text(double X, double Y, const std::string &Text,
                     const TextStyle &Style, Anchor A, bool Vertical) {
  static const char *const Anchors[] = {"start", "middle", "end"};
  Out += "<text x=\"" + num(X) + "\" y=\"" + num(Y) + "\" font-size=\"" +
         num(Style.Size) + "\" fill=\"" + color(Style.Rgb) +
         "\" text-anchor=\"" + Anchors[int(A)] + "\"";
  if (Style.Bold)
    Out += " font-weight=\"bold\"";
  if (Vertical)
    Out += " transform=\"rotate(-90 " + num(X) + " " + num(Y) + ")\"";
  Out += ">" + escapeXml(Text) + "</text>\n";
}

void SvgCanvas::image(double X, double Y, double W, double H,
                      const Heatmap &M) {
  if (M.Columns == 0 || M.Rows == 0)
    return;
  Surface S = heatmapSurface(M);
  std::string Png;
  pngOf(S.get(), Png);
  Out += "<image x=\"" + num(X) + "\" y=\"" + num(Y) + "\" width=\"" + num(W) +
         "\" height=\"" + num(H) +
         "\" preserveAspectRatio=\"none\" xlink:href=\"data:image/png;base64," +
         base64(Png) + "\"/>\n";
}

void SvgCanvas::clip(double X, double Y, double W, double H) {
  std::string Id = "clip" + std::to_string(Clips++);
  Out += "<clipPath id=\"" + Id + "\"><rect x=\"" + num(X) + "\" y=\"" +
         num(Y) + "\" width=\"" + num(W) + "\" height=\"" + num(H) +
         "\"/></clipPath>\n<g clip-path=\"url(#" + Id + ")\">\n";
}

void SvgCanvas::unclip() { Out += "</g>\n"; }

std::string SvgCanvas::finish() { return Out + "</svg>\n"; }

//===----------------------------------------------------------------------===//
// cairo
//===----------------------------------------------------------------------===//

struct CairoCanvas::Cairo {
  cairo_surface_t *S;
  cairo_t *Cr;
};

CairoCanvas::CairoCanvas(unsigned W, unsigned H) : C(new Cairo) {
  C->S = cairo_image_surface_create(CAIRO_FORMAT_RGB24, int(W), int(H));
  C->Cr = cairo_create(C->S);
  cairo_set_source_rgb(C->Cr, 1, 1, 1);
  cairo_paint(C->Cr);
}

CairoCanvas::~CairoCanvas() {
  cairo_destroy(C->Cr);
  cairo_surface_destroy(C->S);
}

static void setStroke(cairo_t *Cr, const Stroke &S) {
  cairo_set_source_rgb(Cr, red(S.Rgb), green(S.Rgb), blue(S.Rgb));
  cairo_set_line_width(Cr, S.Width);
  const double Dashes[] = {6, 4};
  cairo_set_dash(Cr, Dashes, S.Dashed ? 2 : 0, 0);
}

void CairoCanvas::polyline(const std::vector<Point> &Points, const Stroke &S) {
  if (Points.size() < 2)
    return;
  cairo_t *Cr = C->Cr;
  setStroke(Cr, S);
  cairo_set_line_join(Cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(Cr, CAIRO_LINE_CAP_ROUND);
  cairo_move_to(Cr, Points[0].first, Points[0].second);
  for (size_t I = 1; I < Points.size(); ++I)
    cairo_line_to(Cr, Points[I].first, Points[I].second);
  cairo_stroke(Cr);
}

void CairoCanvas::rect(double X, double Y, double W, double H, uint32_t Fill,
                       double Opacity, const Stroke *Border) {
  cairo_t *Cr = C->Cr;
  cairo_rectangle(Cr, X, Y, W, H);
  cairo_set_source_rgba(Cr, red(Fill), green(Fill), blue(Fill), Opacity);
  if (!Border) {
    cairo_fill(Cr);
    return;
  }
  cairo_fill_preserve(Cr);
  setStroke(Cr, *Border);
  cairo_stroke(Cr);
}

void CairoCanvas::dot(double X, double Y, double Radius, uint32_t Fill) {
  cairo_t *Cr = C->Cr;
  cairo_new_sub_path(Cr);
  cairo_arc(Cr, X, Y, Radius, 0, 2 * std::numbers::pi);
  cairo_set_source_rgb(Cr, red(Fill), green(Fill), blue(Fill));
  cairo_fill(Cr);
}

void CairoCanvas::polygon(const std::vector<Point> &Points, uint32_t Fill,
                          double Opacity) {
  if (Points.size() < 3)
    return;
  cairo_t *Cr = C->Cr;
  cairo_move_to(Cr, Points[0].first, Points[0].second);
  for (size_t I = 1; I < Points.size(); ++I)
    cairo_line_to(Cr, Points[I].first, Points[I].second);
  cairo_close_path(Cr);
  cairo_set_source_rgba(Cr, red(Fill), green(Fill), blue(Fill), Opacity);
  cairo_fill(Cr);
}

void CairoCanvas::text(double X, double Y, const std::string &Text,
                       const TextStyle &Style, Anchor A, bool Vertical) {
  cairo_t *Cr = C->Cr;
  cairo_save(Cr);
  selectFont(Cr, Style);
  cairo_set_source_rgb(Cr, red(Style.Rgb), green(Style.Rgb), blue(Style.Rgb));
  cairo_translate(Cr, X, Y);
  if (Vertical)
    cairo_rotate(Cr, -std::numbers::pi / 2);
  double W = textWidth(Text, Style);
  cairo_move_to(Cr,
                A == Anchor::Start    ? 0
                : A == Anchor::Middle ? -W / 2
                                      : -W,
                0);
  cairo_show_text(Cr, Text.c_str());
  cairo_restore(Cr);
}

void CairoCanvas::image(double X, double Y, double W, double H,
                        const Heatmap &M) {
  if (M.Columns == 0 || M.Rows == 0)
    return;
  Surface S = heatmapSurface(M);
  cairo_t *Cr = C->Cr;
  cairo_save(Cr);
  cairo_rectangle(Cr, X, Y, W, H);
  cairo_clip(Cr);
  cairo_translate(Cr, X, Y);
  cairo_scale(Cr, W / double(M.Columns), H / double(M.Rows));
  cairo_set_source_surface(Cr, S.get(), 0, 0);
  cairo_pattern_set_filter(cairo_get_source(Cr), CAIRO_FILTER_BILINEAR);
  cairo_pattern_set_extend(cairo_get_source(Cr), CAIRO_EXTEND_PAD);
  cairo_paint(Cr);
  cairo_restore(Cr);
}

void CairoCanvas::clip(double X, double Y, double W, double H) {
  cairo_save(C->Cr);
  cairo_rectangle(C->Cr, X, Y, W, H);
  cairo_clip(C->Cr);
}

void CairoCanvas::unclip() { cairo_restore(C->Cr); }

Result<std::string> CairoCanvas::png() {
  cairo_surface_flush(C->S);
  std::string Bytes;
  if (cairo_status_t Status = pngOf(C->S, Bytes);
      Status != CAIRO_STATUS_SUCCESS)
    return fail(
        message<Msg::FigureCannotEncode>(cairo_status_to_string(Status)));
  return Bytes;
}

} // namespace dspjit::analysis
