#include "syncache/experiments/mlp_training.hpp"

#include <cmath>
#include <mutex>
#include <stdexcept>

#include "syncache/experiments/runner.hpp"
#include "syncache/io/interrupt.hpp"
#include "syncache/io/params.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

using nlohmann::json;

void TrainingOptions::validate() const {
  if (max_epochs < 1) {
    throw ParamError("epochs", "must be an integer >= 1 (got " + std::to_string(max_epochs) + ")");
  }
  if (patience < 0) {
    throw ParamError("patience", "must be an integer >= 0 (got " + std::to_string(patience) + ")");
  }
  if (eval_every < 1) {
    throw ParamError("eval_every",
                     "must be an integer >= 1 (got " + std::to_string(eval_every) + ")");
  }
  if (target && !(*target > 0.0 && *target <= 1.0)) {
    throw ParamError("target_accuracy", "must lie in (0, 1] (got " + std::to_string(*target) + ")");
  }
}

std::span<const ParamSpec> training_parameters() {
  static const std::vector<ParamSpec> specs = {
      ParamSpec("epochs", ParamKind::integer, "maximum number of epochs")
          .with_default("30")
          .in(1, 1000000),
      ParamSpec("target_accuracy", ParamKind::real, "stop when the test accuracy reaches this")
          .in(0.0, 1.0, true),
      ParamSpec("patience", ParamKind::integer, "epochs without improvement before stopping")
          .with_default("3")
          .in(1, 1000000),
      ParamSpec("eval_every", ParamKind::integer, "samples between evaluations")
          .with_default("1000")
          .in(1, 1000000000),
  };
  return specs;
}

TrainingOptions training_options_from_json(const nlohmann::json& params) {
  const auto specs = training_parameters();
  TrainingOptions t;
  for (const auto& [key, value] : params.items()) {
    const ParamSpec* spec = find_param(specs, key);
    if (spec == nullptr) {
      throw ParamError(shown(key), "unknown key (allowed: " + param_names(specs) + ")");
    }
    if (key == "epochs") t.max_epochs = spec->read_json_integer(value);
    if (key == "target_accuracy") t.target = spec->read_json_real(value);
    if (key == "patience") t.patience = spec->read_json_integer(value);
    if (key == "eval_every") t.eval_every = spec->read_json_integer(value);
  }
  t.validate();
  return t;
}

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::target:
      return "target";
    case StopReason::patience:
      return "patience";
    case StopReason::max_epochs:
      break;
  }
  return "max_epochs";
}

TrainingResult train_mlp(Mlp& net, const mnist::Dataset& train, const mnist::Dataset& test,
                         const TrainingOptions& opt,
                         const std::function<void(const LearningPoint&)>& on_point) {
  opt.validate();
  if (train.count == 0 || test.count == 0) {
    throw std::invalid_argument("train_mlp: the training and test sets must not be empty");
  }
  TrainingResult result;
  // The test set's non-zero pixels, found once for every evaluation of the run.
  const SparseImages test_images =
      SparseImages::from_dense(test.images.data(), test.count, test.pixels());
  auto evaluate = [&](std::int64_t epoch) {
    LearningPoint p;
    p.samples = net.samples_seen();
    p.epoch = epoch;
    p.accuracy = net.accuracy(test_images, test.labels.data());
    p.energy = net.energy();  // with updates() and consolidation_events()
    p.pending_changes = net.pending_changes();
    p.plastic_samples = net.plastic_samples();
    for (std::size_t l = 0; l < 2; ++l) p.layers[l] = net.layer_energy(l);
    result.curve.push_back(p);
    if (on_point) on_point(p);
    return p.accuracy;
  };
  // docs/model.md section 3: stop at a target accuracy, after `patience` epochs without
  // improvement, or at the epoch cap.
  double best = -1.0;
  std::int64_t since_best = 0;
  for (std::int64_t epoch = 1; epoch <= opt.max_epochs; ++epoch) {
    double acc = -1.0;
    for (std::size_t i = 0; i < train.count; ++i) {
      check_interrupt();
      if (i + 1 < train.count) train.prefetch(i + 1);  // from memory while this one trains
      net.train_sample(train.image(i), train.labels[i]);
      if (net.samples_seen() % opt.eval_every == 0 || i + 1 == train.count) {
        acc = evaluate(epoch);
        if (opt.target && acc >= *opt.target) {
          result.stop = StopReason::target;
          return result;
        }
      }
    }
    if (acc > best) {
      best = acc;
      since_best = 0;
    } else if (opt.patience > 0 && ++since_best >= opt.patience) {
      result.stop = StopReason::patience;
      return result;
    }
  }
  result.stop = StopReason::max_epochs;
  return result;
}

std::optional<std::size_t> first_reaching(const std::vector<LearningPoint>& curve, double target) {
  for (std::size_t k = 0; k < curve.size(); ++k) {
    if (curve[k].accuracy >= target) return k;
  }
  return std::nullopt;
}

json training_json(const TrainingResult& r) {
  json samples = json::array(), epoch = json::array(), acc = json::array(), total = json::array(),
       cons = json::array(), maint = json::array(), pending = json::array(),
       minimal = json::array(), updates = json::array(), events = json::array(),
       pending_n = json::array(), plastic = json::array();
  for (const auto& p : r.curve) {
    updates.push_back(p.energy.updates);
    events.push_back(p.energy.consolidation_events);
    pending_n.push_back(p.pending_changes);
    plastic.push_back(p.plastic_samples);
    samples.push_back(p.samples);
    epoch.push_back(p.epoch);
    acc.push_back(p.accuracy);
    total.push_back(p.energy.total());
    cons.push_back(p.energy.consolidation);
    maint.push_back(p.energy.maintenance);
    pending.push_back(p.energy.pending);
    minimal.push_back(p.energy.minimal);
  }
  json out{{"samples", samples},
           {"epoch", epoch},
           {"accuracy", acc},
           {"total", total},
           {"consolidation", cons},
           {"maintenance", maint},
           {"pending", pending},
           {"minimal", minimal},
           {"updates", updates},
           {"consolidation_events", events},
           {"pending_changes", pending_n},
           {"plastic_samples", plastic},
           {"stop", stop_reason_name(r.stop)}};
  // Per layer: the same energies and counts, keyed "hidden_..." and "output_...".
  for (std::size_t l = 0; l < 2; ++l) {
    json t = json::array(), c = t, m = t, pe = t, mi = t, u = t, ev = t;
    for (const auto& p : r.curve) {
      const EnergyTally& e = p.layers[l];
      t.push_back(e.total());
      c.push_back(e.consolidation);
      m.push_back(e.maintenance);
      pe.push_back(e.pending);
      mi.push_back(e.minimal);
      u.push_back(e.updates);
      ev.push_back(e.consolidation_events);
    }
    const std::string pre = kMlpLayerNames[l];
    out[pre + "_total"] = t;
    out[pre + "_consolidation"] = c;
    out[pre + "_maintenance"] = m;
    out[pre + "_pending"] = pe;
    out[pre + "_minimal"] = mi;
    out[pre + "_updates"] = u;
    out[pre + "_consolidation_events"] = ev;
  }
  return out;
}

std::vector<LearningPoint> curve_from_json(const json& r) {
  std::vector<LearningPoint> curve(r.at("samples").size());
  for (std::size_t k = 0; k < curve.size(); ++k) {
    LearningPoint& p = curve[k];
    p.samples = r["samples"][k].get<std::int64_t>();
    p.epoch = r["epoch"][k].get<std::int64_t>();
    p.accuracy = r["accuracy"][k].get<double>();
    p.energy.consolidation = r["consolidation"][k].get<double>();
    p.energy.maintenance = r["maintenance"][k].get<double>();
    p.energy.pending = r["pending"][k].get<double>();
    p.energy.minimal = r["minimal"][k].get<double>();
    auto count = [&](const char* name) -> std::int64_t {
      return r.contains(name) ? r[name][k].get<std::int64_t>() : -1;
    };
    p.energy.updates = count("updates");
    p.energy.consolidation_events = count("consolidation_events");
    p.pending_changes = count("pending_changes");
    p.plastic_samples = count("plastic_samples");
    for (std::size_t l = 0; l < 2; ++l) {
      const std::string pre = std::string(kMlpLayerNames[l]) + "_";
      auto real = [&](const char* name) {
        return r.contains(pre + name) ? r[pre + name][k].get<double>() : 0.0;
      };
      EnergyTally& e = p.layers[l];
      e.consolidation = real("consolidation");
      e.maintenance = real("maintenance");
      e.pending = real("pending");
      e.minimal = real("minimal");
      e.updates = count((pre + "updates").c_str());
      e.consolidation_events = count((pre + "consolidation_events").c_str());
    }
  }
  return curve;
}

namespace {
json number_or_inf(double v) {
  return std::isinf(v) ? json("inf") : json(v);
}
}  // namespace

json mlp_run_params(const MlpRun& run, const MlpDataOptions& data) {
  const MlpConfig& c = run.net;
  const TrainingOptions& t = run.training;
  json p = {{"inputs", c.inputs},
            {"hidden", c.hidden},
            {"outputs", c.outputs},
            {"eta", c.eta},
            {"rule", std::string(rule_name(c.cache.rule))},
            {"backprop", c.authors_backprop ? "authors" : "exact"},
            {"max_epochs", t.max_epochs},
            {"patience", t.patience},
            {"target", t.target ? json(*t.target) : json("none")},
            {"eval_every", t.eval_every},
            {"train_limit", data.train_limit},
            {"test_limit", data.test_limit}};
  if (c.lazy) {
    p["lazy"] = true;
    p["lazy_margin"] = c.lazy_margin;
  }
  if (c.restriction != Restriction::none) {
    p["restrict"] = std::string(restriction_name(c.restriction));
    p["keep"] = c.keep;  // the hidden layer's F, and "keep_output" when it differs
    if (c.keep_output) p["keep_output"] = *c.keep_output;
    if (c.keep_rounding != KeepRounding::ceil)
      p["keep_rounding"] = keep_rounding_name(c.keep_rounding);
  }
  if (c.cache.rule != Rule::classic) {
    p["theta"] = number_or_inf(c.cache.theta);
    p["tau"] = number_or_inf(c.cache.tau);
    p["c"] = c.cache.c;
  }
  // Runs computed by older code are not served. 2 (cached runs): the store's gain returns
  // to 1 while no transient weight is left (last-digit changes with decay). 3 (every run):
  // the test accuracy from the float evaluation kernel with its own sigmoid, which may
  // differ from Eigen's in the last bit and so, rarely, decide a near-tie differently.
  // 4 (every run): the energies and counts per layer stored beside the totals.
  p["revision"] = 4;
  return p;
}

std::vector<json> run_mlp_curves(const std::vector<MlpRun>& runs, const MlpDataOptions& data,
                                 const ExperimentEnv& env, const std::string& label) {
  std::vector<RunSpec> specs;
  specs.reserve(runs.size());
  for (const auto& r : runs) {
    r.net.validate();
    r.training.validate();
    specs.push_back(RunSpec{"mlp", mlp_run_params(r, data), r.net.seed});
  }
  // The data are read once, and only if some run is not in the store yet.
  std::once_flag loaded;
  mnist::Mnist mnist_data;
  auto work = [&](const RunSpec& spec) -> json {
    std::call_once(loaded,
                   [&] { mnist_data = mnist::load(data.dir, data.train_limit, data.test_limit); });
    const MlpRun& run = runs[static_cast<std::size_t>(&spec - specs.data())];
    Mlp net(run.net);
    return training_json(train_mlp(net, mnist_data.train, mnist_data.test, run.training));
  };
  RunnerOptions opt = env.runner;
  opt.label = label;
  return run_all(specs, work, env.store, opt);
}

}  // namespace syncache
