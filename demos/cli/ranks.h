#pragma once
// The commands that split their work over the processes of `mpirun -np R` (train, bottleneck,
// backbones, head-rank; Command::data_parallel): every process parses the same options, draws the
// same data and takes its share of every batch; the collectives keep the processes in step; rank 0
// alone prints and writes files. Started without mpirun the world is this process alone and all
// of this is the identity.
#include <cstdint>
#include <functional>

#include "comm/communicator.h"

namespace gs::cli {

// This process's world: comm::world() (every rank of mpirun, or this process alone).
comm::Communicator& ranks();
// Whether this process is rank 0, the one that prints and writes (always, alone).
bool is_root();
// Throws "option --batch: B sequences do not split over the R processes ..." unless R divides B.
void check_batch_splits(int64_t batch);
// Runs `checks` of the outputs only rank 0 writes (--out, --json) on rank 0, before any work; if
// they throw, every rank throws (rank 0 its own error, the others one that points to it), so that
// no rank goes on into training and waits for rank 0 in a collective.
void checks_on_root(const std::function<void()>& checks);

}  // namespace gs::cli
