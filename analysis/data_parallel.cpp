#include "analysis/data_parallel.h"

#include "comm/communicator.h"

namespace gs::analysis {

bool spans_ranks(const comm::Communicator* c) { return c != nullptr && c->size() > 1; }

bool is_root(const comm::Communicator* c) { return c == nullptr || c->is_root(); }

int rank_count(const comm::Communicator* c) { return c == nullptr ? 1 : c->size(); }

}  // namespace gs::analysis
