//===- analysis/Canvas.h - Where a Figure is drawn: SVG or cairo -*- C++ -*-===//
//
// The figure's layout (analysis/Figure.cpp) draws through this interface
// only, so that an SVG and a PNG of the same figure come from the same
// code: the SVG canvas writes elements by hand (text stays <text>), the
// cairo canvas paints an image surface. Coordinates are pixels from the
// top left; text is placed at its baseline.
//
// Text is measured with cairo's toy font API in DejaVu Sans, the font both
// canvases name, so that the layout leaves the room the labels need.
//
// Thread contract: a canvas is used by one thread; several may exist on
// different threads (cairo contexts are independent).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_CANVAS_H
#define DSPJIT_ANALYSIS_CANVAS_H

#include "analysis/Figure.h"
#include "runtime/Result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dspjit::analysis {

struct Stroke {
  uint32_t Rgb = 0x000000;
  double Width = 1;
  bool Dashed = false;
};

struct TextStyle {
  double Size = 11;
  bool Bold = false;
  uint32_t Rgb = 0x222222;
};

enum class Anchor { Start, Middle, End };

using Point = std::pair<double, double>;

class Canvas {
public:
  virtual ~Canvas() = default;
  virtual void polyline(const std::vector<Point> &Points, const Stroke &S) = 0;
  void line(double X1, double Y1, double X2, double Y2, const Stroke &S) {
    polyline({{X1, Y1}, {X2, Y2}}, S);
  }
  /// A rectangle filled with `Fill` at `Opacity`, outlined when `Border`.
  virtual void rect(double X, double Y, double W, double H, uint32_t Fill,
                    double Opacity, const Stroke *Border = nullptr) = 0;
  virtual void dot(double X, double Y, double Radius, uint32_t Fill) = 0;
  /// A closed polygon filled with `Fill` at `Opacity`.
  virtual void polygon(const std::vector<Point> &Points, uint32_t Fill,
                       double Opacity) = 0;
  /// Text with its baseline at Y; `Vertical` turns it to read upwards,
  /// anchored at (X, Y) along its own direction.
  virtual void text(double X, double Y, const std::string &Text,
                    const TextStyle &Style, Anchor A,
                    bool Vertical = false) = 0;
  /// The heatmap's cells stretched over the rectangle.
  virtual void image(double X, double Y, double W, double H,
                     const Heatmap &M) = 0;
  /// Drawing until unclip() is limited to the rectangle.
  virtual void clip(double X, double Y, double W, double H) = 0;
  virtual void unclip() = 0;
};

/// Draws into an SVG document of W x H pixels.
class SvgCanvas final : public Canvas {
public:
  SvgCanvas(unsigned W, unsigned H, const std::string &Title);
  void polyline(const std::vector<Point> &Points, const Stroke &S) override;
  void rect(double X, double Y, double W, double H, uint32_t Fill,
            double Opacity, const Stroke *Border) override;
  void dot(double X, double Y, double Radius, uint32_t Fill) override;
  void polygon(const std::vector<Point> &Points, uint32_t Fill,
               double Opacity) override;
  void text(double X, double Y, const std::string &Text, const TextStyle &Style,
            Anchor A, bool Vertical) override;
  void image(double X, double Y, double W, double H, const Heatmap &M) override;
  void clip(double X, double Y, double W, double H) override;
  void unclip() override;
  /// The document, closed.
  std::string finish();

private:
  std::string Out;
  unsigned Clips = 0;
};

/// Paints a W x H image with cairo.
class CairoCanvas final : public Canvas {
public:
  CairoCanvas(unsigned W, unsigned H);
  ~CairoCanvas() override;
  CairoCanvas(const CairoCanvas &) = delete;
  CairoCanvas &operator=(const CairoCanvas &) = delete;
  void polyline(const std::vector<Point> &Points, const Stroke &S) override;
  void rect(double X, double Y, double W, double H, uint32_t Fill,
            double Opacity, const Stroke *Border) override;
  void dot(double X, double Y, double Radius, uint32_t Fill) override;
  void polygon(const std::vector<Point> &Points, uint32_t Fill,
               double Opacity) override;
  void text(double X, double Y, const std::string &Text, const TextStyle &Style,
            Anchor A, bool Vertical) override;
  void image(double X, double Y, double W, double H, const Heatmap &M) override;
  void clip(double X, double Y, double W, double H) override;
  void unclip() override;
  /// The image as PNG bytes.
  Result<std::string> png();

private:
  struct Cairo;
  std::unique_ptr<Cairo> C;
};

/// The advance width of `Text` in pixels, as both canvases draw it.
double textWidth(const std::string &Text, const TextStyle &Style);

/// The viridis colour of T in [0, 1] (clamped), as 0xRRGGBB.
uint32_t viridis(double T);

} // namespace dspjit::analysis

#endif
