#include "analysis/backbones.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "nn/device.h"

namespace gs::analysis {
namespace {

std::string fmt(const char* f, auto... a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a...);
  return buf;
}

}  // namespace

double random_direction_destroyed(int64_t k, int64_t vocab) {
  return std::sqrt(std::max(0.0, 1 - double(k) / double(vocab)));
}

std::vector<BackboneRun> run_backbones(const BackbonesConfig& cfg) {
  if (cfg.models.empty()) fail("backbones", "no model to train");
  if (cfg.seeds < 1) fail("backbones", "seeds must be >= 1, got ", cfg.seeds);
  std::vector<BackboneRun> runs;
  const int64_t total = int64_t(cfg.models.size()) * cfg.seeds;
  nn::TrainConfig tc = cfg.train;
  for (nn::LMConfig m : cfg.models) {
    const uint64_t base = m.seed;
    for (int64_t s = 0; s < cfg.seeds; ++s) {
      m.seed = base + uint64_t(s);
      tc.seed = m.seed;
      if (cfg.log) cfg.log(fmt("[%ld/%ld] %s seed %ld", long(runs.size() + 1), long(total), nn::backbone_name(m.backbone),
                               long(m.seed)));
      auto model = nn::make_language_model(m);
      if (cfg.device != Device::CPU) nn::to_device(*model, cfg.device);
      Generator probe_gen(m.seed + 1);  // as in `gradscope bottleneck`: the same seed measures the same batches
      BackboneRun r;
      r.backbone = m.backbone;
      r.seed = int64_t(m.seed);
      r.rank = model->head()->rank();
      r.samples = train_and_watch(model, cfg.data, tc, cfg.monitor, probe_gen);
      // only the last measurement's inputs are written: free the others (held during this run only)
      for (size_t i = 0; i + 1 < r.samples.size(); ++i) r.samples[i].inputs = {};
      const auto &first = r.samples.front(), &last = r.samples.back();
      r.init_loss = first.loss;
      r.final_loss = last.loss;
      r.destroyed_init = first.head.destroyed_fraction;
      r.destroyed_final = last.head.destroyed_fraction;
      r.update_cosine_final = last.head.update.cosine;
      if (cfg.log)
        cfg.log(fmt("  destroyed %.4f -> %.4f, loss %.4f -> %.4f", r.destroyed_init, r.destroyed_final, r.init_loss,
                    r.final_loss));
      runs.push_back(std::move(r));
    }
  }
  return runs;
}

}  // namespace gs::analysis
