// demos/tour_head_bottleneck [--out DIR]: the head bottleneck at a size you can hold in your head.
// The tour's text goes to stdout; the plot of part 2 (destroyed fraction against V, measured and
// sqrt(1 - D/V), log x axis) to DIR/head_bottleneck_tour.{dat,gp,png} (default: the current
// folder). The .dat and .gp files are always written, the PNG when gnuplot is installed; file
// messages go to stderr so stdout is the same on every run (docs/TUTORIAL.md quotes it).
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

#include "demos/cli/plot.h"
#include "demos/tours/tour_head_bottleneck.h"

int main(int argc, char** argv) {
  std::string dir = ".";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) {
      dir = argv[++i];
    } else {
      const bool help = !std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h");
      std::fprintf(help ? stdout : stderr, "usage: tour_head_bottleneck [--out DIR]   (plot files go to DIR)\n");
      return help ? 0 : 2;
    }
  }
  try {
    std::filesystem::create_directories(dir);
    const auto r = gs::tours::tour_head_bottleneck(std::cout);
    std::cout.flush();
    gs::cli::Series measured{"softmax - onehot rows of random heads (rms f)", {}, {}};
    gs::cli::Series iso{"isotropic Gaussian rows (rms f)", {}, {}};
    gs::cli::Series formula{"sqrt(1 - D/V)", {}, {}, /*reference=*/true};
    for (const auto& g : r.grow) {
      for (auto* s : {&measured, &iso, &formula}) s->x.push_back(double(g.V));
      measured.y.push_back(g.softmax_rms);
      iso.y.push_back(g.isotropic_rms);
      formula.y.push_back(g.formula);
    }
    const std::string stem = dir + "/head_bottleneck_tour";
    const bool png = gs::cli::plot({"Destroyed fraction of the logit gradient, random V x " +
                                        std::to_string(gs::tours::HeadTourOptions{}.D) + " heads",
                                    "vocabulary size V", "||destroyed|| / ||g||", true, false,
                                    {measured, iso, formula}, 0, 1.05},
                                   stem);
    const std::string made = png ? ", PNG: " + stem + ".png" : "";
    std::fprintf(stderr, "plot data: %s.dat%s\n", stem.c_str(), made.c_str());
    return r.failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tour_head_bottleneck: %s\n", e.what());
    return 2;
  }
}
