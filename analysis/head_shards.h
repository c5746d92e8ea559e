#pragma once
// Internal to analysis/: the collectives the head metrics use when their rows (tokens) are split
// over the ranks of a communicator (HeadMetricsOptions::comm). Every sum travels in float64 on the
// host (a float32 or device tensor is widened and copied there; the communicator works on host
// buffers), rows that differ in number between ranks are padded to the largest count before a
// gather and cut back after, and every function is a collective: all ranks call the same
// functions in the same order.
#include <cstdint>
#include <functional>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "comm/communicator.h"
#include "tensor/tensor.h"

namespace gs::analysis::detail {

// In place: every rank's values summed (same length on every rank).
void sum_over(comm::Communicator& c, std::vector<double>& v);
void sum_over(comm::Communicator& c, std::vector<int64_t>& v);
int64_t sum_over(comm::Communicator& c, int64_t x);
double sum_over(comm::Communicator& c, double x);
// Every rank's x, in rank order, on every rank.
std::vector<int64_t> every_rank(comm::Communicator& c, int64_t x);

// x summed over the ranks, in place: a float32 or float64 tensor on any device, the same shape on
// every rank (summed in float64; a float64 CPU tensor is reduced in its own buffer, no copy).
void sum_in_place(comm::Communicator& c, Tensor& x);
// root's v on every rank; v must have the same length on every rank.
void from_root(comm::Communicator& c, std::vector<double>& v, int root = 0);
// root's tensor on every rank, in `dtype` on `device`: root passes it, the others may pass an
// undefined tensor (its shape travels first). float32 and float64 travel exactly (widened).
Tensor from_root(comm::Communicator& c, const Tensor& x, DType dtype, Device device, int root = 0);
// The rows of every rank's x [n_r, ...] stacked in rank order, on every rank, in x's dtype
// (float32, float64 or int64) and device. The trailing dims must agree.
Tensor all_rows(comm::Communicator& c, const Tensor& x);
// Every rank's values concatenated in rank order, on root (empty on the other ranks).
std::vector<double> gathered(comm::Communicator& c, const std::vector<double>& mine, int root = 0);

// The per-token summary of every rank's values (each rank its own tokens'): root sorts them all,
// summarises them (per_token_summary, exactly as one process would) and hands the result to
// every rank.
PerTokenDestroyed per_token_across(comm::Communicator& c, const std::vector<double>& mine);

// Runs checks on this rank; if any rank's checks throw, every rank throws: its own error, or
// "<op>: the inputs of another rank failed their checks (that rank's error says why)". No rank is
// left waiting in a collective for one that stopped.
void check_on_every_rank(comm::Communicator& c, const char* op, const std::function<void()>& checks);
// Throws "<op>: <what> differ between the ranks" unless every rank passed the same values.
void check_same_everywhere(comm::Communicator& c, const char* op, const std::vector<int64_t>& values,
                           const char* what);
// The options that decide sizes, block assignments and the spectrum's path must agree (a rank
// with another chunk budget would form other column blocks and wait in other collectives).
void check_same_options(comm::Communicator& c, const char* op, const HeadMetricsOptions& o);

}  // namespace gs::analysis::detail
