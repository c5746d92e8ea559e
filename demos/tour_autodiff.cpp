// demos/tour_autodiff: see reverse-mode autodiff happen node by node.
#include <iostream>

#include "demos/tours/tours.h"

int main() { return gs::tours::tour_autodiff(std::cout); }
