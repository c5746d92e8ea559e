// The equal-norm command's report (demos/cli/reports.h): run.json, equal_norm.csv, the two plots
// and the summary.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "demos/cli/experiment_options.h"
#include "demos/cli/device_option.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

using nlohmann::json;
using analysis::EqualNormResult;

json equal_norm_json(const EqualNormSubject& s, const EqualNormResult& r) {
  json points = json::array();
  for (const auto& p : r.points)
    points.push_back({{"eps", p.eps},
                      {"decrease_direct", p.decrease_direct},
                      {"decrease_network", p.decrease_network},
                      {"decrease_backbone", p.decrease_backbone},
                      {"ratio", p.ratio},
                      {"ratio_backbone", p.ratio_backbone}});
  const nn::LMConfig& mc = s.model;
  return {{"command", "equal-norm"},
          {"config",
           {{"model", s.source},
            {"trained_steps", s.trained_steps},
            {"backbone", nn::backbone_name(mc.backbone)},
            {"head", mc.head_label()},
            {"rank", mc.rank},
            {"vocab", mc.vocab},
            {"d_model", mc.d_model},
            {"data", s.data},
            {"batch", s.batch},
            {"seq_len", s.seq_len},
            {"data_seed", s.data_seed},
            {"sgd_lr", r.sgd_lr},
            {"dtype", "float64"},
            {"construction",
             "direct: Z - eps G/||G||_F; network: dZ = Z(theta - sgd_lr dL/dtheta) - Z over all parameters "
             "(backbone: backbone parameters only), step Z + eps dZ/||dZ||_F; decrease = L(Z) - L(Z + step)"}}},
          {"compute", cpu_compute_json(kFloat64)},
          {"tokens", r.tokens},
          {"loss", r.loss},
          {"grad_norm", r.grad_norm},
          {"dz_norm", r.dz_norm},
          {"dz_backbone_norm", r.dz_backbone_norm},
          {"cosine", r.cosine},
          {"cosine_backbone", r.cosine_backbone},
          {"first_order_ratio", r.cosine > 0 ? 1.0 / r.cosine : NAN},
          {"first_order_ratio_backbone", r.cosine_backbone > 0 ? 1.0 / r.cosine_backbone : NAN},
          {"points", points}};
}

// equal_norm.csv; returns the table printed at the end.
std::string write_csv(const EqualNormResult& r, const std::string& dir) {
  std::ostringstream csv, table;
  csv << "eps,decrease_direct,decrease_network,decrease_backbone,ratio,ratio_backbone\n";
  table << strf("%10s %15s %15s %15s %10s %10s\n", "eps", "dL direct", "dL network", "dL backbone", "ratio",
                "ratio bb");
  for (const auto& p : r.points) {
    csv << num(p.eps) << "," << num(p.decrease_direct) << "," << num(p.decrease_network) << ","
        << num(p.decrease_backbone) << "," << num(p.ratio) << "," << num(p.ratio_backbone) << "\n";
    table << strf("%10.3g %15.6g %15.6g %15.6g %10.3g %10.3g\n", p.eps, p.decrease_direct, p.decrease_network,
                  p.decrease_backbone, p.ratio, p.ratio_backbone);
  }
  write_file_atomic(dir + "/equal_norm.csv", csv.str());
  return table.str();
}

// The points (x, y) with y positive and finite: what a log axis can show.
Series positive(const std::vector<double>& x, const std::vector<double>& y) {
  Series s;
  for (size_t i = 0; i < x.size(); ++i)
    if (y[i] > 0 && std::isfinite(y[i])) {
      s.x.push_back(x[i]);
      s.y.push_back(y[i]);
    }
  return s;
}

// Decreases (log-log where positive) and ratios over eps. True when both PNGs were made.
bool write_plots(const nn::LMConfig& mc, const EqualNormResult& r, const std::string& dir) {
  std::vector<double> eps, dd, dn, db, ra, rb;
  for (const auto& p : r.points) {
    eps.push_back(p.eps);
    dd.push_back(p.decrease_direct);
    dn.push_back(p.decrease_network);
    db.push_back(p.decrease_backbone);
    ra.push_back(p.ratio);
    rb.push_back(p.ratio_backbone);
  }
  PlotSpec dp;
  dp.title = strf("Loss decrease of a logit step of Frobenius norm eps (%s, V=%ld, D=%ld)",
                  nn::backbone_name(mc.backbone), long(mc.vocab), long(mc.d_model));
  dp.xlabel = "eps (Frobenius norm of the logit change)";
  dp.ylabel = "loss decrease (nats)";
  dp.logx = dp.logy = true;
  Series s1 = positive(eps, dd), s2 = positive(eps, dn), s3 = positive(eps, db);
  s1.title = "direct: -eps G/||G||";
  s2.title = "SGD step, all parameters";
  s3.title = "SGD step, backbone only (through dL/dH)";
  dp.series = {s1, s2, s3};
  bool png = plot(dp, dir + "/decrease");
  PlotSpec rp;
  rp.title = "Equal-norm ratio: direct decrease / network-routed decrease";
  rp.xlabel = "eps (Frobenius norm of the logit change)";
  rp.ylabel = "ratio";
  rp.logx = rp.logy = true;  // ratios from 1 (equal) up, often over a decade or more
  Series r1 = positive(eps, ra), r2 = positive(eps, rb);
  r1.title = "all parameters";
  r2.title = "backbone only";
  rp.series = {r1, r2};
  double lo = INFINITY, hi = 0;
  for (const auto* s : {&r1, &r2})
    for (double v : s->y) lo = std::min(lo, v), hi = std::max(hi, v);
  if (hi > 0) {  // from 1 (the two steps equally good) to above the largest ratio
    rp.ymin = std::min(1.0, lo);
    rp.ymax = std::max(hi * 2, 10.0);
  }
  png = plot(rp, dir + "/ratio") && png;
  return png;
}

}  // namespace

void report_equal_norm(const EqualNormSubject& subject, const EqualNormResult& r, const std::string& dir,
                       const std::string& json_path) {
  const std::string js = equal_norm_json(subject, r).dump(2) + "\n";
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", js);
  if (!json_path.empty()) write_file_atomic(json_path, js);
  const std::string table = write_csv(r, dir);
  const bool png = write_plots(subject.model, r, dir);

  const nn::LMConfig& mc = subject.model;
  std::printf("equal-norm: %s model (%s, V=%ld, D=%ld), %ld tokens, loss %.4f, ||G||_F %.4g\n", subject.source.c_str(),
              nn::backbone_name(mc.backbone), long(mc.vocab), long(mc.d_model), long(r.tokens), r.loss, r.grad_norm);
  std::printf("cos(dZ, -G): all parameters %.4f (first-order ratio %.3g), backbone only %.4f (%.3g)\n\n%s", r.cosine,
              1.0 / r.cosine, r.cosine_backbone, 1.0 / r.cosine_backbone, table.c_str());
  std::printf("wrote %s/run.json, equal_norm.csv%s\n", dir.c_str(), png ? ", decrease.png, ratio.png" : "");
  folder.keep();
}

}  // namespace gs::cli
