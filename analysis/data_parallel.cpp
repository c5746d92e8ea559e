#include "analysis/data_parallel.h"

#include "comm/communicator.h"
#include "tensor/ops.h"

namespace gs::analysis {

bool spans_ranks(const comm::Communicator* c) { return c != nullptr && c->size() > 1; }

bool is_root(const comm::Communicator* c) { return c == nullptr || c->is_root(); }

int rank_count(const comm::Communicator* c) { return c == nullptr ? 1 : c->size(); }

nn::Batch rank_share(const nn::Batch& global, const comm::Communicator* c, const char* op) {
  if (!spans_ranks(c)) return global;
  const int64_t B = global.inputs.size(0), R = c->size();
  if (B % R != 0)
    fail(op, "batch ", B, " is not a multiple of the ", R, " processes: each takes batch / ", R, " sequences");
  const int64_t per = B / R, first = c->rank() * per;
  // copies, as the trainer makes: a share outlives the global batch it was cut from
  return {op::contiguous(op::narrow(global.inputs, 0, first, per)),
          op::contiguous(op::narrow(global.targets, 0, first, per))};
}

}  // namespace gs::analysis
