#include "analysis/watch.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "analysis/data_parallel.h"
#include "analysis/experiments.h"
#include "comm/communicator.h"

namespace gs::analysis {

nn::Batch WatchData::sample(int64_t batch, int64_t seq_len, Generator& gen) const {
  if (spam) {
    if (seq_len != spam->seq_len())
      throw Error("SpamLang was made for " + std::to_string(spam->seq_len()) + " tokens, asked for " +
                  std::to_string(seq_len));
    return spam->sample(batch, gen);
  }
  return text->sample(batch, seq_len, gen);
}

namespace {

using TrainStep = std::function<void(int64_t step, const nn::Batch& batch)>;

// ranks: the processes that train together (null: this process alone), for both the trainer and
// train_loop, so that training and measuring split the batches the same way.
void train_watched(const std::shared_ptr<nn::LanguageModel>& model, const WatchData& data, const nn::TrainConfig& tc,
                   comm::Communicator* ranks, const TrainStep& on_step) {
  if (data.text) {
    nn::Trainer trainer(model, *data.text, tc);
    // the trainer would take comm::world() by default: the monitor's communicator instead
    std::unique_ptr<comm::Communicator> alone;
    if (!ranks) alone = comm::make_single();
    trainer.set_communicator(ranks ? *ranks : *alone);
    trainer.run([&](const nn::StepInfo& info) { on_step(info.step, info.batch); });
    return;
  }
  // SpamLang: the same recipe on a batch source; the loss keeps the batch it trained on (this
  // rank's share) so the callback (which runs after the update) can hand it on
  nn::Batch last;
  const BatchSource source = [&](Generator& g) { return data.sample(tc.batch, tc.seq_len, g); };
  const int64_t every = std::max<int64_t>(1, tc.log_every);
  train_loop(
      model->named_parameters(),
      [&](const nn::Batch& b) {
        last = b;
        return model->loss(b.inputs, b.targets);
      },
      source, tc,
      [&](int64_t step, double loss) {
        if (tc.progress && is_root(ranks) && (step % every == 0 || step == tc.steps))
          std::fprintf(stderr, "step %ld/%ld loss %.4f\n", long(step), long(tc.steps), loss);
        on_step(step, last);
      },
      ranks);
}

}  // namespace

std::vector<BottleneckSample> train_and_watch(const std::shared_ptr<nn::LanguageModel>& model, const WatchData& data,
                                              const nn::TrainConfig& tc, const MonitorOptions& mo,
                                              Generator& probe_gen) {
  BottleneckMonitor mon(model, mo, tc.steps);
  comm::Communicator* ranks = spans_ranks(mo.comm) ? mo.comm : nullptr;
  mon.measure(nn::rank_share(data.sample(tc.batch, tc.seq_len, probe_gen), ranks), 0);
  train_watched(model, data, tc, ranks, [&](int64_t step, const nn::Batch& b) { mon.after_step(step, b); });
  return mon.samples();
}

}  // namespace gs::analysis
