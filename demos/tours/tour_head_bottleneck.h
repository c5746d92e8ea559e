#pragma once
// Tour 2: the head bottleneck at a size you can hold in your head. An LM head W [V, D] turns a
// hidden state h [D] into V logits z = W h; the loss sends back the logit gradient
// g = softmax(z) - onehot(target) [V], and the hidden state receives only W^T g [D]. Every g
// splits into a visible part (its projection onto col(W), D dimensions) and a destroyed part
// (the V - D dimensions W^T sends to zero). The tour prints that split for one token, then how
// big the destroyed part is as V grows at fixed D, then what training does to it.
// The numbers come back in a result struct (the tests read them; the program plots them).
#include <cstdint>
#include <ostream>
#include <vector>

#include "tensor/tensor.h"

namespace gs::tours {

// Part 1, one token. Vectors are float64, matrices row-major ([V, D] for W, [V, rank] for Q).
struct TokenSplit {
  int64_t V = 0, D = 0, rank = 0;
  std::vector<double> W, h, logits, probs, g, Q;
  std::vector<double> visible, destroyed;       // Q Q^T g and g - Q Q^T g    [V]
  double g_norm = 0, visible_norm = 0, destroyed_norm = 0;
  std::vector<double> hidden_grad;              // W^T g: what reaches h       [D]
  std::vector<double> hidden_from_visible;      // W^T visible                  [D]
  std::vector<double> hidden_from_destroyed;    // W^T destroyed (zero)         [D]
};
// Prints and returns the split for hidden state h [D] and head W [V, D] (float64) at `target`.
TokenSplit explain_token(std::ostream& out, const Tensor& W, const Tensor& h, int64_t target);

// ||d_i||^2 / ||g_i||^2 for every nonzero row g_i of G [N, V], where d_i is the part of g_i outside
// col(W) for W [V, D] (float64): the squared per-token destroyed fraction.
std::vector<double> destroyed_fractions_sq(const Tensor& G, const Tensor& W);

// Part 2, one vocabulary size: per-row destroyed fractions f_i = ||destroyed_i|| / ||g_i||.
struct GrowRow {
  int64_t V = 0;
  double formula = 0;           // sqrt(1 - D / V) (0 when V <= D)
  double softmax_rms = 0;       // sqrt(mean f_i^2) for softmax - onehot rows of a random head
  double softmax_mean = 0;      // mean f_i for the same rows
  double isotropic_rms = 0;     // sqrt(mean f_i^2) for isotropic Gaussian rows g ~ N(0, I_V)
};

// Part 3, one evaluation during training: destroyed fraction of the whole batch gradient G.
struct TrainRow {
  int64_t step = 0;
  double loss = 0;
  double destroyed_fraction = 0;  // ||G - G Q Q^T||_F / ||G||_F
  double per_token_mean = 0;      // mean over rows of ||destroyed_i|| / ||g_i||
};

struct HeadTourOptions {
  int64_t D = 2;                                               // part 2's fixed hidden width
  std::vector<int64_t> grow_V = {2, 4, 8, 16, 32, 64, 128, 256, 512};
  int64_t tokens = 512;                                        // rows per vocabulary size
  int64_t train_V = 64, train_D = 4, train_tokens = 128, train_steps = 300, train_every = 50;
  double train_lr = 0.1;          // SGD on the summed cross-entropy
  double train_init_std = 0.5;    // W and H start as N(0, 0.5^2) entries: logits of order 1
  uint64_t seed = 1;
};

struct HeadTourResult {
  TokenSplit token;
  std::vector<GrowRow> grow;
  std::vector<TrainRow> train;
  int failures = 0;  // checks printed as FAILED
};

HeadTourResult tour_head_bottleneck(std::ostream& out, const HeadTourOptions& options = {});

}  // namespace gs::tours
