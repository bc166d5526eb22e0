// SPDX-License-Identifier: Apache-2.0
/// The anomaly model and the CPU scorer against hand-worked cases; save/load round trip; the
/// detector's alerts; the backend choice.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/anomaly/detector.hpp"
#include "sluice/anomaly/scorer.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

FeatureRow row(std::string entity, std::vector<std::pair<std::uint32_t, std::uint32_t>> counts) {
  FeatureRow r;
  r.entity = std::move(entity);
  r.counts = std::move(counts);
  for (const auto& [id, n] : r.counts)
    r.events += n;
  return r;
}

TEST(NormalQuantile, KnownValues) {
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(normal_quantile(0.999), 3.090232306167813, 1e-9);
  EXPECT_NEAR(normal_quantile(0.001), -3.090232306167813, 1e-9);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-7);
}

TEST(QStatistic, HandWorked) {
  // One residual eigenvalue λ: θ1 = λ, θ2 = λ², θ3 = λ³, h0 = 1 - 2/3 = 1/3, and
  // Q = λ (c √(2 h0²) + 1 + h0 (h0 - 1))^(1/h0) = λ (c √2 / 3 + 7/9)³.
  const double lambda = 2.0;
  const double c = normal_quantile(0.999);
  const double expected = lambda * std::pow(c * std::sqrt(2.0) / 3 + 7.0 / 9.0, 3);
  const double l[] = {lambda};
  EXPECT_NEAR(q_statistic(l, 0.001), expected, 1e-12 * expected);
  const double none[] = {0.0, 0.0};
  EXPECT_EQ(q_statistic(none, 0.001), 0.0);
}

/// Windows on the line x1 = x2 (template 7 and template 9 always together): one component
/// explains all variance, the residual projector is [[.5, -.5], [-.5, .5]].
std::vector<FeatureRow> diagonal_rows() {
  std::vector<FeatureRow> rows;
  for (std::uint32_t k = 1; k <= 5; ++k)
    rows.push_back(row(std::to_string(k), {{7, k}, {9, k}}));
  return rows;
}

TEST(AnomalyModel, TrainsHandWorkedCase) {
  auto m = AnomalyModel::train(diagonal_rows(), ModelConfig{});
  ASSERT_TRUE(m.has_value()) << m.error().message;
  ASSERT_EQ(m->dimension(), 2u);
  EXPECT_EQ(m->template_ids(), (std::vector<std::uint32_t>{7, 9}));
  EXPECT_EQ(m->components(), 1u);
  EXPECT_NEAR(m->mean()[0], 3.0, 1e-12);
  EXPECT_NEAR(m->mean()[1], 3.0, 1e-12);
  // Covariance [[2.5, 2.5], [2.5, 2.5]]: eigenvalues 5 and 0.
  EXPECT_NEAR(m->eigenvalues()[0], 5.0, 1e-12);
  EXPECT_NEAR(m->eigenvalues()[1], 0.0, 1e-12);
  const auto& c = m->residual_projector();
  EXPECT_NEAR(c[0], 0.5, 1e-12);
  EXPECT_NEAR(c[1], -0.5, 1e-12);
  EXPECT_NEAR(c[2], -0.5, 1e-12);
  EXPECT_NEAR(c[3], 0.5, 1e-12);
  // Residual variance 0: the threshold is the numerical floor, 1e-9 of the total variance.
  EXPECT_NEAR(m->spe_threshold(), 5e-9, 1e-15);
  EXPECT_EQ(m->known_windows(), 5u);
}

TEST(CpuScorer, HandWorkedSpe) {
  auto m = AnomalyModel::train(diagonal_rows(), ModelConfig{});
  ASSERT_TRUE(m.has_value());
  auto scorer = make_cpu_scorer(*m, 1);
  // (3,1): y = (0,-2), C y = (1,-1), SPE 2. (4,4): on the line, SPE 0. (0,6): y = (-3,3),
  // C y = (-3,3), SPE 18.
  const std::vector<float> x = {3, 1, 4, 4, 0, 6};
  std::vector<double> spe(3);
  ASSERT_TRUE(scorer->score(x, 3, spe).has_value());
  EXPECT_NEAR(spe[0], 2.0, 1e-12);
  EXPECT_NEAR(spe[1], 0.0, 1e-12);
  EXPECT_NEAR(spe[2], 18.0, 1e-12);
  std::vector<double> small(1);
  EXPECT_FALSE(scorer->score(x, 3, small).has_value());
}

TEST(CpuScorer, ThreadsGiveTheSameAnswer) {
  std::mt19937 rng(7);
  std::vector<FeatureRow> rows;
  for (int i = 0; i < 500; ++i) {
    const std::uint32_t a = rng() % 5 + 1;
    rows.push_back(row("e", {{1, a}, {2, 2 * a}, {3, rng() % 3}, {4, a + rng() % 2}}));
  }
  auto m = AnomalyModel::train(rows, ModelConfig{});
  ASSERT_TRUE(m.has_value());
  const std::size_t n = 40000;
  std::vector<float> x(n * m->dimension());
  for (auto& v : x)
    v = static_cast<float>(rng() % 7);
  std::vector<double> one(n), many(n);
  ASSERT_TRUE(make_cpu_scorer(*m, 1)->score(x, n, one).has_value());
  ASSERT_TRUE(make_cpu_scorer(*m, 3)->score(x, n, many).has_value());
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_EQ(one[i], many[i]) << i;
  // And each equals the model's own residual, computed without Eigen.
  std::vector<double> r(m->dimension());
  for (std::size_t i = 0; i < 100; ++i) {
    m->residual(std::span<const float>(x.data() + i * m->dimension(), m->dimension()), r);
    double spe = 0;
    for (double v : r)
      spe += v * v;
    EXPECT_NEAR(one[i], spe, 1e-9 * std::max(1.0, spe));
  }
}

TEST(AnomalyModel, SaveLoadRoundTrip) {
  std::vector<FeatureRow> rows;
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i)
    rows.push_back(row("e", {{10, rng() % 4}, {11, rng() % 4 + 1}, {12, 3}, {40, rng() % 2}}));
  ModelConfig config;
  config.rare_share = 0.01;
  auto m = AnomalyModel::train(rows, config);
  ASSERT_TRUE(m.has_value());
  test::TempDir dir;
  const auto path = dir.path() / "model.txt";
  ASSERT_TRUE(m->save(path).has_value());
  auto back = AnomalyModel::load(path);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->template_ids(), m->template_ids());
  EXPECT_EQ(back->mean(), m->mean());
  EXPECT_EQ(back->eigenvalues(), m->eigenvalues());
  EXPECT_EQ(back->residual_projector(), m->residual_projector());
  EXPECT_EQ(back->spe_threshold(), m->spe_threshold());
  EXPECT_EQ(back->components(), m->components());
  EXPECT_EQ(back->training_windows(), m->training_windows());
  EXPECT_EQ(back->known_windows(), m->known_windows());
  EXPECT_EQ(back->config().rare_share, 0.01);
  for (std::size_t j = 0; j < m->dimension(); ++j)
    EXPECT_EQ(back->window_share(j), m->window_share(j));
  std::vector<float> x = {1, 2, 3, 1, 9, 0, 3, 0};
  std::vector<double> a(2), b(2);
  ASSERT_TRUE(make_cpu_scorer(*m, 1)->score(x, 2, a).has_value());
  ASSERT_TRUE(make_cpu_scorer(*back, 1)->score(x, 2, b).has_value());
  EXPECT_EQ(a, b);
}

TEST(AnomalyModel, LoadRejectsBrokenFiles) {
  test::TempDir dir;
  const auto path = dir.path() / "m.txt";
  auto write = [&](const std::string& text) {
    std::ofstream f(path);
    f << text;
  };
  write("not a model\n");
  auto r = AnomalyModel::load(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not a sluice anomaly model"), std::string::npos);
  write("# sluice anomaly model v1\nvariance zero\n");
  r = AnomalyModel::load(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("m.txt:2: bad value for 'variance'"), std::string::npos)
      << r.error().message;
  write("# sluice anomaly model v1\nvariance 0x1p-1\n");
  r = AnomalyModel::load(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("missing"), std::string::npos) << r.error().message;
  EXPECT_FALSE(AnomalyModel::load(dir.path() / "absent").has_value());
  EXPECT_FALSE(AnomalyModel::train(std::vector<FeatureRow>{row("a", {{1, 1}})}, {}).has_value());
}

TEST(AnomalyDetector, AlertsNameTheTemplates) {
  auto m = AnomalyModel::train(diagonal_rows(), ModelConfig{});
  ASSERT_TRUE(m.has_value());
  AnomalyDetector detector(*m, make_cpu_scorer(*m, 1), 2);
  FeatureBatch batch(8);
  batch.push(row("normal-seen", {{7, 2}, {9, 2}}));    // a training window
  batch.push(row("normal-unseen", {{7, 9}, {9, 9}}));  // on the line: SPE 0
  batch.push(row("broken", {{7, 6}, {9, 0}}));         // off the line
  batch.push(row("new", {{7, 1}, {9, 1}, {42, 1}}));   // template 42 never seen
  std::vector<AnomalyAlert> alerts;
  std::vector<double> spe;
  ASSERT_TRUE(detector.score(batch, alerts, &spe).has_value());
  ASSERT_EQ(spe.size(), 4u);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].entity, "broken");
  EXPECT_TRUE(alerts[0].residual_alarm);
  // y = (3, -3), C y = (3, -3): SPE 18, split evenly between the two templates.
  EXPECT_NEAR(alerts[0].spe, 18.0, 1e-9);
  ASSERT_EQ(alerts[0].top_templates.size(), 2u);
  EXPECT_NEAR(alerts[0].top_templates[0].second, 0.5, 1e-9);
  EXPECT_EQ(alerts[1].entity, "new");
  EXPECT_FALSE(alerts[1].residual_alarm);
  EXPECT_EQ(alerts[1].new_templates, (std::vector<std::uint32_t>{42}));
  std::string json;
  append_anomaly_alert_json(json, alerts[0], nullptr);
  EXPECT_NE(json.find("\"sluice.anomaly.entity\":\"broken\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"pca_residual\""), std::string::npos) << json;
}

/// A backend that fails at run time, as a GPU does when its device is lost. No real device can
/// be made to fail here, so this stands in for one.
class FailingScorer final : public AnomalyScorer {
 public:
  std::string_view name() const override { return "failing"; }
  Result<void> score(std::span<const float>, std::size_t, std::span<double>) override {
    return Error{"device lost"};
  }
};

TEST(AnomalyDetector, FallsBackToCpuWhenABackendFails) {
  auto m = AnomalyModel::train(diagonal_rows(), ModelConfig{});
  ASSERT_TRUE(m.has_value());
  AnomalyDetector detector(*m, std::make_unique<FailingScorer>());
  FeatureBatch batch(4);
  batch.push(row("broken", {{7, 6}, {9, 0}}));
  std::vector<AnomalyAlert> alerts;
  std::vector<double> spe;
  ASSERT_TRUE(detector.score(batch, alerts, &spe).has_value());
  EXPECT_EQ(detector.scorer().name(), "cpu");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NEAR(spe[0], 18.0, 1e-9);
}

TEST(MakeScorer, ChoosesAndExplains) {
  auto m = AnomalyModel::train(diagonal_rows(), ModelConfig{});
  ASSERT_TRUE(m.has_value());
  auto cpu = make_scorer("cpu", *m);
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->scorer->name(), "cpu");
  auto any = make_scorer("auto", *m);
  ASSERT_TRUE(any.has_value());
  EXPECT_FALSE(any->reason.empty());
  auto bad = make_scorer("quantum", *m);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("unknown anomaly backend 'quantum'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
