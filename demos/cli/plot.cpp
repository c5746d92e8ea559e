#include "demos/cli/plot.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "demos/cli/output.h"

namespace gs::cli {
namespace {

std::string esc(const std::string& s) {  // gnuplot double-quoted string
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool render(const std::string& gp) {
  if (!gnuplot_available()) {
    std::fprintf(stderr, "%s\n", gnuplot_hint(gp).c_str());
    return false;
  }
  const std::string cmd = "gnuplot \"" + gp + "\" 2>/dev/null";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

std::string gnuplot_hint(const std::string& gp) {
  return "gnuplot not found: the data and " + gp + " are written; install it with scripts/setup (Debian's gnuplot-nox) "
         "and run `gnuplot " + gp + "` for the PNG";
}

bool plot(const PlotSpec& spec, const std::string& stem) {
  std::ostringstream dat;
  dat << "# " << spec.title << "\n";
  for (size_t s = 0; s < spec.series.size(); ++s) {
    const Series& se = spec.series[s];
    dat << "# series " << s << ": " << se.title << "\n# " << spec.xlabel << "\t" << spec.ylabel << "\n";
    for (size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) dat << se.x[i] << "\t" << se.y[i] << "\n";
    dat << "\n\n";  // gnuplot data blocks: index s
  }
  write_file_atomic(stem + ".dat", dat.str());
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,560 noenhanced font 'sans,11'\n"
     << "set output \"" << esc(stem + ".png") << "\"\n"
     << "set title \"" << esc(spec.title) << "\"\n"
     << "set xlabel \"" << esc(spec.xlabel) << "\"\nset ylabel \"" << esc(spec.ylabel) << "\"\n"
     << "set grid\nset key below\n";
  if (spec.logx) gp << "set logscale x\nset format x \"%g\"\n";
  if (spec.logy) gp << "set logscale y\nset format y \"%g\"\n";
  if (spec.ymin != 0 || spec.ymax != 0) gp << "set yrange [" << spec.ymin << ":" << spec.ymax << "]\n";
  gp << "plot ";
  for (size_t s = 0; s < spec.series.size(); ++s)
    gp << (s ? ", \\\n     " : "") << "\"" << esc(stem + ".dat") << "\" index " << s << " using 1:2 with "
       << (spec.series[s].reference ? "lines dt 2 lw 2" : "linespoints") << " title \"" << esc(spec.series[s].title) << "\"";
  gp << "\n";
  write_file_atomic(stem + ".gp", gp.str());
  return render(stem + ".gp");
}

bool heatmap(const HeatmapSpec& spec, const std::string& stem) {
  std::ostringstream dat;
  dat << "# " << spec.title << "\n# ix\tiy\t" << spec.zlabel << "\n";
  for (size_t iy = 0; iy < spec.y.size(); ++iy) {
    for (size_t ix = 0; ix < spec.x.size(); ++ix) dat << ix << "\t" << iy << "\t" << spec.z[iy][ix] << "\n";
    dat << "\n";
  }
  write_file_atomic(stem + ".dat", dat.str());
  std::ostringstream gp;
  gp << "set terminal pngcairo size 760,560 noenhanced font 'sans,11'\n"
     << "set output \"" << esc(stem + ".png") << "\"\n"
     << "set title \"" << esc(spec.title) << "\"\n"
     << "set xlabel \"" << esc(spec.xlabel) << "\"\nset ylabel \"" << esc(spec.ylabel) << "\"\n"
     << "set cblabel \"" << esc(spec.zlabel) << "\"\nset cbrange [" << spec.zmin << ":" << spec.zmax << "]\n"
     << "set palette rgbformulae 22,13,-31\nunset key\n";
  gp << "set xtics (";
  for (size_t ix = 0; ix < spec.x.size(); ++ix) gp << (ix ? ", " : "") << "\"" << spec.x[ix] << "\" " << ix;
  gp << ")\nset ytics (";
  for (size_t iy = 0; iy < spec.y.size(); ++iy) gp << (iy ? ", " : "") << "\"" << spec.y[iy] << "\" " << iy;
  gp << ")\n";
  gp << "plot \"" << esc(stem + ".dat") << "\" using 1:2:3 with image, \"" << esc(stem + ".dat")
     << "\" using 1:2:(sprintf('%.2f', $3)) with labels\n";
  write_file_atomic(stem + ".gp", gp.str());
  return render(stem + ".gp");
}

}  // namespace gs::cli
