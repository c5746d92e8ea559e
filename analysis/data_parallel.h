#pragma once
// Data parallelism in the analysis: the ranks of a communicator (comm/communicator.h; under
// `mpirun -np R`, comm::world()) each hold a share of the tokens, and what they measure together
// is what one process measures on all of them. A global batch is split by nn::rank_share
// (nn/data.h), as nn::Trainer splits it: every rank draws the same global batch and keeps its own
// consecutive share of the sequences. Rank 0 is the one that prints and writes.
//
// A null communicator, or one of a single process, means "this process alone": every function
// here is then the identity, and the analysis runs its one-process code paths unchanged.
namespace gs::comm {
class Communicator;
}

namespace gs::analysis {

// Whether c spans more than this process (null: no).
bool spans_ranks(const comm::Communicator* c);
// Whether this process is rank 0 of c (null: yes): the rank that prints and writes.
bool is_root(const comm::Communicator* c);
// The number of processes of c (null: 1).
int rank_count(const comm::Communicator* c);

}  // namespace gs::analysis
