#pragma once
// Teaching tours: short programs whose output explains itself. Each writes to `out` and returns
// 0 when every check it prints passed (the tests run them and read their key lines).
#include <ostream>

namespace gs::tours {

int tour_autodiff(std::ostream& out);
int tour_new_op(std::ostream& out);
int tour_autograd(std::ostream& out);

}  // namespace gs::tours
