// Figure 5B: energy of the MNIST network vs test accuracy, with and without synaptic
// caching, and the minimal energy of each (MODEL.md section 3).
#include <mutex>

#include "syncache/figures.hpp"
#include "syncache/mlp.hpp"
#include "syncache/mnist.hpp"

namespace syncache {

namespace {

using nlohmann::json;

// One training run: the learning curve, one entry every eval_every samples.
json mlp_curve(const MlpConfig& cfg, const mnist::Mnist& data, std::int64_t epochs,
               std::int64_t eval_every) {
  Mlp net(cfg);
  json samples = json::array(), acc = json::array(), total = json::array(), cons = json::array(),
       maint = json::array(), pending = json::array(), minimal = json::array();
  const auto& train = data.train;
  const auto& test = data.test;
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (std::size_t i = 0; i < train.count; ++i) {
      net.train_sample(train.image(i), train.labels[i]);
      if (net.samples_seen() % eval_every == 0) {
        const MlpEnergy e = net.energy();
        samples.push_back(net.samples_seen());
        acc.push_back(net.accuracy(test.images.data(), test.labels.data(), test.count));
        total.push_back(e.total);
        cons.push_back(e.consolidation);
        maint.push_back(e.maintenance);
        pending.push_back(e.pending);
        minimal.push_back(e.minimal);
      }
    }
  }
  return json{{"samples", samples},    {"accuracy", acc},      {"total", total},
              {"consolidation", cons}, {"maintenance", maint}, {"pending", pending},
              {"minimal", minimal}};
}

}  // namespace

FigureData figure_fig5b(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "hidden", "eta", "theta", "tau", "c", "rule",
                  "epochs", "eval_every", "train_limit", "test_limit", "repeats", "data"});
  MlpConfig base;
  base.hidden = static_cast<std::size_t>(positive_integer(cfg, "hidden"));
  base.eta = cfg.number("eta");
  const std::int64_t epochs = positive_integer(cfg, "epochs");
  const std::int64_t every = positive_integer(cfg, "eval_every");
  const std::int64_t train_limit = cfg.has("train_limit") ? cfg.integer("train_limit") : 0;
  const std::int64_t test_limit = cfg.has("test_limit") ? cfg.integer("test_limit") : 0;
  if (train_limit < 0 || test_limit < 0) {
    throw std::invalid_argument(cfg.where("train_limit") + ": limits must be >= 0 (0 = all)");
  }
  MlpConfig cached = base;
  cached.rule = caching_rule(cfg);
  cached.theta = cfg.number("theta");
  cached.tau = cfg.number("tau");
  cached.c = cfg.number("c");
  try {
    base.validate();
    cached.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(cfg.source() + ": " + e.what());
  }
  const std::string data_dir = cfg.has("data") ? cfg.text("data") : "";
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));

  std::vector<RunSpec> specs;
  std::vector<MlpConfig> configs;
  for (const MlpConfig* m : {&base, &cached}) {
    for (auto s : seeds) {
      MlpConfig c = *m;
      c.seed = s;
      configs.push_back(c);
      json p = {{"hidden", c.hidden},
                {"eta", c.eta},
                {"rule", std::string(rule_name(c.rule))},
                {"epochs", epochs},
                {"eval_every", every},
                {"train_limit", train_limit},
                {"test_limit", test_limit},
                {"backprop", "exact"}};
      if (c.rule != Rule::classic) {
        p["theta"] = c.theta;
        p["tau"] = std::isinf(c.tau) ? json("inf") : json(c.tau);
        p["c"] = c.c;
      }
      specs.push_back(RunSpec{"mlp", p, s});
    }
  }
  // The data are read once, and only if some run is not in the store yet.
  std::once_flag loaded;
  mnist::Mnist data;
  auto work = [&](const RunSpec& spec) -> json {
    std::call_once(loaded, [&] {
      data = mnist::load(data_dir, static_cast<std::size_t>(train_limit),
                         static_cast<std::size_t>(test_limit));
    });
    const std::size_t i = static_cast<std::size_t>(&spec - specs.data());
    return mlp_curve(configs[i], data, epochs, every);
  };
  RunnerOptions opt = ctx.env.runner;
  opt.label = "fig5b";
  const auto results = run_all(specs, work, ctx.env.store, opt);

  FigureData fig;
  const std::size_t n = seeds.size();
  for (std::size_t which = 0; which < 2; ++which) {
    const std::string name = which == 0 ? "classic" : "caching";
    const auto& first = results[which * n];
    for (std::size_t k = 0; k < first["samples"].size(); ++k) {
      std::vector<double> acc, total, minimal;
      for (std::size_t s = 0; s < n; ++s) {
        const auto& r = results[which * n + s];
        acc.push_back(r["accuracy"][k].get<double>());
        total.push_back(r["total"][k].get<double>());
        minimal.push_back(r["minimal"][k].get<double>());
      }
      const double x = first["samples"][k].get<double>();
      fig.add("accuracy", name, x, acc);
      fig.add("energy", name, x, total);
      fig.add("minimal", name, x, minimal);
    }
  }
  fig.notes.push_back(
      "784-" + std::to_string(base.hidden) + "-10, eta = " + short_number(base.eta) +
      ", exact gradient; caching: rule " + std::string(rule_name(cached.rule)) +
      ", theta = " + short_number(cached.theta) + ", tau = " + short_number(cached.tau) + ", c = " +
      short_number(cached.c) + "; " + std::to_string(epochs) + " epoch(s), evaluation every " +
      std::to_string(every) + " samples; " + std::to_string(n) + " seed(s); train_limit " +
      std::to_string(train_limit) + ", test_limit " + std::to_string(test_limit));
  return fig;
}

}  // namespace syncache
