// demos/tour_autograd: gradient accumulation, retain_graph, NoGradGuard and detach, an explicit
// upstream gradient, and a small training loop, each shown by running it.
#include <iostream>

#include "demos/tours/tours.h"

int main() { return gs::tours::tour_autograd(std::cout); }
