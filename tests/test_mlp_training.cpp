// The shared training loop of the MNIST network (docs/model.md section 3: stop at a target
// accuracy, after `patience` epochs without improvement, or at the epoch cap), the
// selection of the first point that reaches a target, and the stored form of a run.
// Expectations: evaluation schedules counted by hand, and a second network trained by a
// plain loop of train_sample calls, evaluated at the same sample counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <pcg_random.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers/temp_dir.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/experiments/runner.hpp"
#include "syncache/io/results.hpp"

namespace syncache {
namespace {

constexpr std::size_t kInputs = 6, kHidden = 4, kOutputs = 3;

MlpConfig tiny(double eta = 0.5, Rule rule = Rule::classic) {
  MlpConfig cfg;
  cfg.inputs = kInputs;
  cfg.hidden = kHidden;
  cfg.outputs = kOutputs;
  cfg.eta = eta;
  cfg.cache.rule = rule;
  if (rule != Rule::classic) {
    cfg.cache.theta = 0.02;
    cfg.cache.tau = 50.0;
    cfg.cache.c = 0.01;
  }
  cfg.seed = 7;
  return cfg;
}

// count images of 2 x 3 pixels, uniform in [0, 1), random labels.
mnist::Dataset random_set(std::size_t count, std::uint64_t seed) {
  pcg32 rng(seed);
  mnist::Dataset d;
  d.count = count;
  d.rows = 2;
  d.cols = 3;
  d.images.resize(count * d.pixels());
  for (float& v : d.images) v = static_cast<float>(rng() >> 8) * 0x1p-24f;
  d.labels.resize(count);
  for (auto& l : d.labels) l = static_cast<std::uint8_t>(rng() % kOutputs);
  return d;
}

// The test set relabelled with the untrained network's answers: accuracy 1 before training.
mnist::Dataset labelled_by(const MlpConfig& cfg, mnist::Dataset d) {
  const Mlp net(cfg);
  const auto out = net.outputs(d.images.data(), d.count);
  for (std::size_t i = 0; i < d.count; ++i) {
    Eigen::Index best = 0;
    out.row(static_cast<Eigen::Index>(i)).maxCoeff(&best);
    d.labels[i] = static_cast<std::uint8_t>(best);
  }
  return d;
}

TEST(MlpTraining, StopsAtTheEpochCapWithTheEvaluationScheduleCountedByHand) {
  const auto train = random_set(10, 1), test = random_set(7, 2);
  for (Rule rule : {Rule::classic, Rule::neuron}) {
    TrainingOptions opt;
    opt.max_epochs = 3;
    opt.patience = 0;  // never
    opt.eval_every = 4;
    Mlp net(tiny(0.5, rule));
    std::vector<LearningPoint> seen;
    const auto r =
        train_mlp(net, train, test, opt, [&](const LearningPoint& p) { seen.push_back(p); });
    EXPECT_EQ(r.stop, StopReason::max_epochs);
    // Multiples of 4 and the end of each 10-sample epoch (10, 20, 30; 20 is both).
    const std::vector<std::int64_t> samples = {4, 8, 10, 12, 16, 20, 24, 28, 30};
    const std::vector<std::int64_t> epochs = {1, 1, 1, 2, 2, 2, 3, 3, 3};
    ASSERT_EQ(r.curve.size(), samples.size());
    ASSERT_EQ(seen.size(), samples.size());  // the callback saw every point
    // Reference: the same network trained by a plain loop, evaluated at those counts.
    Mlp ref(tiny(0.5, rule));
    std::size_t k = 0;
    for (std::int64_t s = 1; s <= 30; ++s) {
      const std::size_t i = static_cast<std::size_t>((s - 1) % 10);
      ref.train_sample(train.image(i), train.labels[i]);
      if (k < samples.size() && s == samples[k]) {
        const auto& p = r.curve[k];
        EXPECT_EQ(p.samples, samples[k]);
        EXPECT_EQ(p.epoch, epochs[k]);
        EXPECT_EQ(seen[k].samples, samples[k]);
        EXPECT_EQ(p.accuracy, ref.accuracy(test.images.data(), test.labels.data(), test.count));
        const EnergyTally e = ref.energy();
        EXPECT_EQ(p.energy.total(), e.total());
        EXPECT_EQ(p.energy.consolidation, e.consolidation);
        EXPECT_EQ(p.energy.maintenance, e.maintenance);
        EXPECT_EQ(p.energy.pending, e.pending);
        EXPECT_EQ(p.energy.minimal, e.minimal);
        EXPECT_EQ(p.energy.updates, ref.updates());
        EXPECT_EQ(p.energy.consolidation_events, ref.consolidation_events());
        ++k;
      }
    }
    EXPECT_EQ(k, samples.size());
    EXPECT_EQ(net.samples_seen(), 30);
  }
}

TEST(MlpTraining, StopsRightAfterTheFirstEvaluationThatReachesTheTarget) {
  const MlpConfig cfg = tiny(1e-9);  // the weights barely move: accuracy stays 1
  const auto train = random_set(10, 3);
  const auto test = labelled_by(cfg, random_set(9, 4));
  TrainingOptions opt;
  opt.max_epochs = 5;
  opt.eval_every = 3;
  opt.target = 1.0;
  Mlp net(cfg);
  const auto r = train_mlp(net, train, test, opt);
  EXPECT_EQ(r.stop, StopReason::target);
  ASSERT_EQ(r.curve.size(), 1u);
  EXPECT_EQ(r.curve[0].samples, 3);
  EXPECT_EQ(r.curve[0].accuracy, 1.0);
  EXPECT_EQ(net.samples_seen(), 3);  // no sample trained after the stop
}

TEST(MlpTraining, PatienceStopsAfterThatManyEpochsWithoutImprovement) {
  const MlpConfig cfg = tiny(1e-9);
  const auto train = random_set(10, 5);
  const auto test = labelled_by(cfg, random_set(9, 6));
  for (std::int64_t patience : {1, 2, 4}) {
    TrainingOptions opt;
    opt.max_epochs = 20;
    opt.eval_every = 10;  // once per epoch
    opt.patience = patience;
    Mlp net(cfg);
    const auto r = train_mlp(net, train, test, opt);
    // Epoch 1 sets the best (1.0); epochs 2 .. 1 + patience do not beat it.
    EXPECT_EQ(r.stop, StopReason::patience) << patience;
    ASSERT_EQ(r.curve.size(), static_cast<std::size_t>(1 + patience));
    EXPECT_EQ(r.curve.back().epoch, 1 + patience);
    EXPECT_EQ(r.curve.back().samples, 10 * (1 + patience));
  }
  // patience 0: no such stop; the cap ends the run.
  TrainingOptions opt;
  opt.max_epochs = 6;
  opt.eval_every = 10;
  opt.patience = 0;
  Mlp net(cfg);
  const auto r = train_mlp(net, train, test, opt);
  EXPECT_EQ(r.stop, StopReason::max_epochs);
  EXPECT_EQ(r.curve.size(), 6u);
}

TEST(MlpTraining, AnImprovingEpochResetsThePatienceCount) {
  // Learning on a training set equal to the test set improves the accuracy in some epochs;
  // each run must stop exactly when `patience` epochs in a row did not beat the best
  // end-of-epoch accuracy, as recounted here from its curve. Several data sets, so that
  // some run improves again after a non-improving epoch.
  bool reset = false;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const auto data = random_set(30, seed);
    TrainingOptions opt;
    opt.max_epochs = 40;
    opt.eval_every = 30;
    opt.patience = 3;
    Mlp net(tiny(2.0));
    const auto r = train_mlp(net, data, data, opt);
    double best = -1.0;
    std::int64_t since = 0, stop_epoch = -1;
    for (const auto& p : r.curve) {
      if (p.accuracy > best) {
        reset = reset || since > 0;
        best = p.accuracy, since = 0;
      } else if (++since >= opt.patience) {
        stop_epoch = p.epoch;
        break;
      }
    }
    if (stop_epoch < 0) {
      EXPECT_EQ(r.stop, StopReason::max_epochs) << seed;
      EXPECT_EQ(r.curve.back().epoch, 40) << seed;
    } else {
      EXPECT_EQ(r.stop, StopReason::patience) << seed;
      EXPECT_EQ(r.curve.back().epoch, stop_epoch) << seed;
    }
  }
  EXPECT_TRUE(reset) << "no data set exercises the reset; choose others";
}

TEST(MlpTraining, RejectsBadOptionsNamingThem) {
  auto expect_error = [](TrainingOptions opt, const std::string& option) {
    try {
      opt.validate();
      ADD_FAILURE() << "accepted a bad " << option;
    } catch (const syncache::ParamError& e) {  // keyed by the parameter's name
      EXPECT_EQ(e.key(), option) << e.what();
    }
  };
  EXPECT_NO_THROW(TrainingOptions{}.validate());
  TrainingOptions o;
  o.max_epochs = 0;
  expect_error(o, "epochs");
  o = {}, o.patience = -1;
  expect_error(o, "patience");
  o = {}, o.eval_every = 0;
  expect_error(o, "eval_every");
  for (double t : {0.0, -0.5, 1.0000001, std::numeric_limits<double>::quiet_NaN()}) {
    o = {}, o.target = t;
    expect_error(o, "target_accuracy");
  }
  o = {}, o.target = 1.0;
  EXPECT_NO_THROW(o.validate());
  const auto train = random_set(4, 1);
  mnist::Dataset empty;
  empty.rows = 2, empty.cols = 3;
  Mlp net(tiny());
  EXPECT_THROW(train_mlp(net, train, empty, TrainingOptions{}), std::invalid_argument);
}

std::vector<LearningPoint> curve_of(const std::vector<double>& accuracy) {
  std::vector<LearningPoint> c(accuracy.size());
  for (std::size_t k = 0; k < c.size(); ++k) {
    c[k].samples = 1000 * static_cast<std::int64_t>(k + 1);
    c[k].accuracy = accuracy[k];
  }
  return c;
}

TEST(FirstReaching, TheFirstPointAtOrAboveTheTarget) {
  const auto c = curve_of({0.5, 0.8, 0.7, 0.9, 0.85});
  EXPECT_EQ(first_reaching(c, 0.8), 1u);  // equal counts as reached
  EXPECT_EQ(first_reaching(c, 0.75), 1u);
  EXPECT_EQ(first_reaching(c, 0.85), 3u);  // not the later 0.85 after a higher point
  EXPECT_EQ(first_reaching(c, 0.5), 0u);
  EXPECT_FALSE(first_reaching(c, 0.95).has_value());
  EXPECT_FALSE(first_reaching({}, 0.1).has_value());
}

TEST(TrainingJson, RoundTripsEveryField) {
  TrainingResult r;
  r.stop = StopReason::patience;
  for (int k = 0; k < 3; ++k) {
    LearningPoint p;
    p.samples = 100 * (k + 1);
    p.epoch = k / 2 + 1;
    p.accuracy = 0.1 * k + 0.05;
    p.energy.consolidation = 1.5 * k;
    p.energy.maintenance = 0.25 * k;
    p.energy.pending = 0.125;
    p.energy.minimal = 0.75 + k;
    p.energy.updates = 1000 + k;
    p.energy.consolidation_events = 7 * k;
    p.pending_changes = 3 + k;
    p.plastic_samples = 90 + k;
    r.curve.push_back(p);
  }
  const auto j = nlohmann::json::parse(training_json(r).dump());
  EXPECT_EQ(j["stop"], "patience");
  const auto back = curve_from_json(j);
  ASSERT_EQ(back.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(back[k].samples, r.curve[k].samples);
    EXPECT_EQ(back[k].epoch, r.curve[k].epoch);
    EXPECT_EQ(back[k].accuracy, r.curve[k].accuracy);
    // "total" is stored as total() and recomputed from the terms when read back.
    EXPECT_EQ(j["total"][k].get<double>(), r.curve[k].energy.total());
    EXPECT_EQ(back[k].energy.total(), r.curve[k].energy.total());
    EXPECT_EQ(back[k].energy.consolidation, r.curve[k].energy.consolidation);
    EXPECT_EQ(back[k].energy.maintenance, r.curve[k].energy.maintenance);
    EXPECT_EQ(back[k].energy.pending, r.curve[k].energy.pending);
    EXPECT_EQ(back[k].energy.minimal, r.curve[k].energy.minimal);
    EXPECT_EQ(back[k].energy.updates, r.curve[k].energy.updates);
    EXPECT_EQ(back[k].energy.consolidation_events, r.curve[k].energy.consolidation_events);
    EXPECT_EQ(back[k].pending_changes, r.curve[k].pending_changes);
    EXPECT_EQ(back[k].plastic_samples, r.curve[k].plastic_samples);
  }
  EXPECT_STREQ(stop_reason_name(StopReason::target), "target");
  EXPECT_STREQ(stop_reason_name(StopReason::max_epochs), "max_epochs");
}

TEST(MlpRunParams, KeysTellRunsApart) {
  MlpRun a;
  a.net = tiny();
  MlpDataOptions d;
  const auto pa = mlp_run_params(a, d);
  EXPECT_FALSE(pa.contains("theta"));  // classic runs carry no caching settings
  EXPECT_EQ(pa["target"], "none");
  MlpRun b = a;
  b.training.target = 0.93;
  EXPECT_NE(canonical_json(mlp_run_params(b, d)), canonical_json(pa));
  MlpRun c = a;
  c.net = tiny(0.5, Rule::neuron);
  c.net.cache.tau = std::numeric_limits<double>::infinity();
  const auto pc = mlp_run_params(c, d);
  EXPECT_EQ(pc["tau"], "inf");  // JSON holds no infinity
  EXPECT_EQ(pc["theta"], 0.02);
  MlpDataOptions limited = d;
  limited.train_limit = 500;
  EXPECT_NE(canonical_json(mlp_run_params(a, limited)), canonical_json(pa));
}

TEST(RunMlpCurves, StoredRunsAreReusedWithoutReadingTheData) {
  testing::TempDir dir;
  ResultsStore store(dir.file("r.sqlite"));
  MlpRun run;
  run.net = tiny();
  MlpDataOptions data;
  data.dir = dir.file("no-such-mnist");  // reading it would fail
  TrainingResult fake;
  fake.curve.push_back(LearningPoint{5, 1, 0.25, EnergyTally{}});
  store.put("mlp", mlp_run_params(run, data), run.net.seed, training_json(fake));
  ExperimentEnv env;
  env.store = &store;
  env.runner.threads = 1;
  env.runner.progress = false;
  const auto got = run_mlp_curves({run}, data, env, "test");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["samples"][0], 5);
  EXPECT_EQ(got[0]["accuracy"][0], 0.25);
  // A run that is not stored needs the data: the missing directory is reported.
  MlpRun other = run;
  other.net.seed = 8;
  EXPECT_THROW(run_mlp_curves({run, other}, data, env, "test"), RunError);
}

}  // namespace
}  // namespace syncache
