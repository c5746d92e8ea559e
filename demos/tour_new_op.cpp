// demos/tour_new_op: define a differentiable op with its vjp and let gradcheck judge it.
#include <iostream>

#include "demos/tours/tours.h"

int main() { return gs::tours::tour_new_op(std::cout); }
