#pragma once
// PNG plots through gnuplot (Debian's gnuplot-nox). The data is always written (a .dat file
// with a header line, and the .gp script that draws it); the PNG only when gnuplot exists —
// otherwise plot() says how to get it and returns false.
#include <string>
#include <vector>

namespace gs::cli {

struct Series {
  std::string title;
  std::vector<double> x, y;
  bool reference = false;  // drawn as a dashed line without points (a theory curve, a bound)
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  std::vector<Series> series;
  double ymin = 0, ymax = 0;  // both 0: automatic
};

// Writes <stem>.dat and <stem>.gp and renders <stem>.png. Returns true when the PNG was made.
bool plot(const PlotSpec& spec, const std::string& stem);

// A heatmap of z over a grid (rows: y values, cols: x values), e.g. accuracy over (V, D).
struct HeatmapSpec {
  std::string title, xlabel, ylabel, zlabel;
  std::vector<double> x, y;             // axis values (shown as category labels)
  std::vector<std::vector<double>> z;   // z[iy][ix]
  double zmin = 0, zmax = 1;
};
bool heatmap(const HeatmapSpec& spec, const std::string& stem);

bool gnuplot_available();
// The one-line hint printed when gnuplot is missing.
std::string gnuplot_hint(const std::string& gp_script);

}  // namespace gs::cli
