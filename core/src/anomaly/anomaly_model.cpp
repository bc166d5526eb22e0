// SPDX-License-Identifier: Apache-2.0
/// Training (Eigen's self-adjoint eigensolver on the covariance), the Q statistic, and the text
/// format of a saved model.
#include "sluice/anomaly/anomaly_model.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

namespace sluice {

double normal_quantile(double p) {
  // Peter Acklam's algorithm ("An algorithm for computing the inverse normal cumulative
  // distribution function", 2003), refined with one step of Halley's method on erfc.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  const double low = 0.02425;
  double x;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double q_statistic(std::span<const double> lambda, double alpha) {
  double theta[3] = {0, 0, 0};
  for (double l : lambda) {
    if (l <= 0) continue;
    theta[0] += l;
    theta[1] += l * l;
    theta[2] += l * l * l;
  }
  if (theta[0] <= 0 || theta[1] <= 0) return 0;
  const double h0 = 1 - 2 * theta[0] * theta[2] / (3 * theta[1] * theta[1]);
  const double c_alpha = normal_quantile(1 - alpha);
  // Jackson & Mudholkar (1979), eq. 3.4.
  const double inner = c_alpha * std::sqrt(2 * theta[1] * h0 * h0) / theta[0] + 1 +
                       theta[1] * h0 * (h0 - 1) / (theta[0] * theta[0]);
  if (h0 <= 0 || inner <= 0) return theta[0];
  return theta[0] * std::pow(inner, 1 / h0);
}

Result<AnomalyModel> AnomalyModel::train(std::span<const FeatureRow> rows,
                                         const ModelConfig& config) {
  if (rows.size() < 2) return Error{"anomaly training needs at least two windows"};
  AnomalyModel m;
  m.config_ = config;
  std::map<std::uint32_t, std::uint64_t> windows_with;
  for (const auto& row : rows)
    for (const auto& [id, count] : row.counts)
      if (count > 0) ++windows_with[id];
  if (windows_with.empty()) return Error{"anomaly training saw no templates"};
  for (const auto& [id, n] : windows_with) {
    m.columns_[id] = static_cast<int>(m.template_ids_.size());
    m.template_ids_.push_back(id);
    m.template_windows_.push_back(n);
  }
  m.training_windows_ = rows.size();
  const std::size_t d = m.template_ids_.size();
  const std::size_t n = rows.size();
  std::vector<float> dense(n * d);
  m.densify(rows, dense);
  Eigen::MatrixXd x =
      Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          dense.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d))
          .cast<double>();
  const Eigen::RowVectorXd mean = x.colwise().mean();
  x.rowwise() -= mean;
  const Eigen::MatrixXd cov = (x.transpose() * x) / static_cast<double>(n - 1);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov);
  if (solver.info() != Eigen::Success) return Error{"anomaly training: eigensolver failed"};
  // Eigen returns ascending eigenvalues; take them largest first.
  const Eigen::VectorXd values = solver.eigenvalues().reverse();
  const Eigen::MatrixXd vectors = solver.eigenvectors().rowwise().reverse();
  double total = 0;
  for (Eigen::Index i = 0; i < values.size(); ++i)
    total += std::max(0.0, values[i]);
  std::size_t k = 0;
  double kept = 0;
  while (k < d && (total <= 0 || kept / total < config.variance)) {
    kept += std::max(0.0, values[static_cast<Eigen::Index>(k)]);
    ++k;
  }
  if (k >= d && d > 1) k = d - 1;  // keep a residual space to test
  m.components_ = k;
  const Eigen::MatrixXd p = vectors.leftCols(static_cast<Eigen::Index>(k));
  const Eigen::MatrixXd c =
      Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(d)) -
      p * p.transpose();
  m.mean_.assign(mean.data(), mean.data() + d);
  m.eigenvalues_.assign(values.data(), values.data() + values.size());
  m.residual_.resize(d * d);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      m.residual_[i * d + j] = c(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
  std::vector<double> residual_values(m.eigenvalues_.begin() + static_cast<std::ptrdiff_t>(k),
                                      m.eigenvalues_.end());
  m.spe_threshold_ = q_statistic(residual_values, config.alpha);
  // When the residual eigenvalues vanish (counts that obey exact linear invariants, as HDFS
  // sessions do) the Q statistic is of the order of rounding error, and rounding noise in the
  // SPE of a normal window could cross it. Residual variance below 1e-9 of the total is zero
  // for this purpose: floor the threshold there.
  m.spe_threshold_ = std::max(m.spe_threshold_, 1e-9 * total);
  // Remember the distinct training windows (LogClustering with radius 0, Lin et al. ICSE 2016):
  // a window equal to one seen in the baseline is normal whatever its residual. HDFS's 4,855
  // normal sessions have only 62 distinct count vectors, so the set is small where it matters;
  // it is capped so that a noisy baseline cannot make the model large.
  std::unordered_map<std::uint64_t, std::uint64_t> seen;
  for (std::size_t i = 0; i < n; ++i)
    ++seen[hash_dense_row(std::span<const float>(dense.data() + i * d, d))];
  std::vector<std::pair<std::uint64_t, std::uint64_t>> by_count(seen.begin(), seen.end());
  std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (by_count.size() > config.max_known_windows) by_count.resize(config.max_known_windows);
  for (const auto& [h, count] : by_count)
    m.known_windows_.insert(h);
  return m;
}

std::uint64_t hash_dense_row(std::span<const float> x) {
  // FNV-1a over (column, value) of the non-zero entries.
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t j = 0; j < x.size(); ++j) {
    if (x[j] == 0.0f) continue;
    std::uint32_t bits;
    std::memcpy(&bits, &x[j], 4);
    const std::uint64_t w = (static_cast<std::uint64_t>(j) << 32) | bits;
    for (int b = 0; b < 8; ++b) {
      h ^= (w >> (8 * b)) & 0xff;
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

bool AnomalyModel::known_window(std::span<const float> x) const {
  return !known_windows_.empty() && known_windows_.count(hash_dense_row(x)) > 0;
}

int AnomalyModel::column(std::uint32_t template_id) const {
  auto it = columns_.find(template_id);
  return it == columns_.end() ? -1 : it->second;
}

double AnomalyModel::window_share(std::size_t j) const {
  return training_windows_
             ? static_cast<double>(template_windows_[j]) / static_cast<double>(training_windows_)
             : 0.0;
}

void AnomalyModel::densify(std::span<const FeatureRow> rows, std::span<float> out) const {
  const std::size_t d = dimension();
  SLUICE_ASSERT(out.size() == rows.size() * d, "densify: output is not rows x dimension");
  std::fill(out.begin(), out.end(), 0.0f);
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (const auto& [id, count] : rows[i].counts) {
      const int j = column(id);
      if (j >= 0) out[i * d + static_cast<std::size_t>(j)] += static_cast<float>(count);
    }
}

void AnomalyModel::new_templates(const FeatureRow& row, std::vector<std::uint32_t>& out) const {
  out.clear();
  for (const auto& [id, count] : row.counts)
    if (count > 0 && column(id) < 0) out.push_back(id);
}

void AnomalyModel::rare_templates(const FeatureRow& row, std::vector<std::uint32_t>& out) const {
  out.clear();
  if (config_.rare_share <= 0) return;
  for (const auto& [id, count] : row.counts) {
    const int j = column(id);
    if (count > 0 && j >= 0 && window_share(static_cast<std::size_t>(j)) <= config_.rare_share)
      out.push_back(id);
  }
}

void AnomalyModel::residual(std::span<const float> x, std::span<double> out) const {
  const std::size_t d = dimension();
  for (std::size_t i = 0; i < d; ++i) {
    double acc = 0;
    for (std::size_t j = 0; j < d; ++j)
      acc += residual_[i * d + j] * (static_cast<double>(x[j]) - mean_[j]);
    out[i] = acc;
  }
}

namespace {

constexpr std::string_view model_header = "# sluice anomaly model v1";

void put_doubles(std::string& out, std::string_view key, std::span<const double> v) {
  out.append(key);
  char buf[64];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, " %a", x);
    out.append(buf);
  }
  out.push_back('\n');
}

template <class T>
void put_ints(std::string& out, std::string_view key, std::span<const T> v) {
  out.append(key);
  for (T x : v) {
    out.push_back(' ');
    out.append(std::to_string(x));
  }
  out.push_back('\n');
}

}  // namespace

Result<void> AnomalyModel::save(const std::filesystem::path& path) const {
  std::string out;
  out.append(model_header);
  out.push_back('\n');
  char buf[128];
  std::snprintf(buf, sizeof buf, "variance %a\nalpha %a\nrare_share %a\n", config_.variance,
                config_.alpha, config_.rare_share);
  out.append(buf);
  out.append("windows " + std::to_string(training_windows_) + "\n");
  out.append("components " + std::to_string(components_) + "\n");
  std::snprintf(buf, sizeof buf, "spe_threshold %a\n", spe_threshold_);
  out.append(buf);
  put_ints<std::uint32_t>(out, "templates", template_ids_);
  put_ints<std::uint64_t>(out, "template_windows", template_windows_);
  put_doubles(out, "mean", mean_);
  put_doubles(out, "eigenvalues", eigenvalues_);
  put_doubles(out, "residual", residual_);
  std::vector<std::uint64_t> known(known_windows_.begin(), known_windows_.end());
  std::sort(known.begin(), known.end());
  put_ints<std::uint64_t>(out, "known_windows", known);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error::from_errno("cannot write anomaly model " + tmp.string());
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) return Error::from_errno("cannot write anomaly model " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return Error{"cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message()};
  return {};
}

Result<AnomalyModel> AnomalyModel::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error::from_errno("cannot open anomaly model " + path.string());
  AnomalyModel m;
  std::string line;
  std::size_t line_no = 0;
  auto fail = [&](const std::string& why) {
    return Error{path.string() + ":" + std::to_string(line_no) + ": " + why};
  };
  if (!std::getline(in, line) || line != model_header)
    return Error{path.string() + ":1: not a sluice anomaly model (expected '" +
                 std::string(model_header) + "')"};
  ++line_no;
  bool seen[11] = {};
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream ss(line);
    std::string key;
    ss >> key;
    std::vector<std::string> words;
    for (std::string w; ss >> w;)
      words.push_back(w);
    auto to_double = [&](const std::string& w, double& v) {
      char* end = nullptr;
      v = std::strtod(w.c_str(), &end);
      return end && *end == '\0' && end != w.c_str();
    };
    auto to_u64 = [&](const std::string& w, std::uint64_t& v) {
      char* end = nullptr;
      errno = 0;
      v = std::strtoull(w.c_str(), &end, 10);
      return end && *end == '\0' && end != w.c_str() && errno == 0 && w[0] != '-';
    };
    auto one_double = [&](double& v, int slot) -> bool {
      seen[slot] = true;
      return words.size() == 1 && to_double(words[0], v);
    };
    auto doubles = [&](std::vector<double>& v, int slot) -> bool {
      seen[slot] = true;
      v.clear();
      for (const auto& w : words) {
        double x;
        if (!to_double(w, x)) return false;
        v.push_back(x);
      }
      return true;
    };
    bool ok = true;
    if (key == "variance") {
      ok = one_double(m.config_.variance, 0);
    } else if (key == "alpha") {
      ok = one_double(m.config_.alpha, 1);
    } else if (key == "rare_share") {
      ok = one_double(m.config_.rare_share, 2);
    } else if (key == "windows" || key == "components") {
      std::uint64_t v = 0;
      ok = words.size() == 1 && to_u64(words[0], v);
      if (key == "windows") {
        m.training_windows_ = v;
        seen[3] = true;
      } else {
        m.components_ = v;
        seen[4] = true;
      }
    } else if (key == "spe_threshold") {
      ok = one_double(m.spe_threshold_, 5);
    } else if (key == "templates" || key == "template_windows") {
      seen[key == "templates" ? 6 : 7] = true;
      for (const auto& w : words) {
        std::uint64_t v = 0;
        if (!to_u64(w, v) || (key == "templates" && v > UINT32_MAX)) {
          ok = false;
          break;
        }
        if (key == "templates")
          m.template_ids_.push_back(static_cast<std::uint32_t>(v));
        else
          m.template_windows_.push_back(v);
      }
    } else if (key == "mean") {
      ok = doubles(m.mean_, 8);
    } else if (key == "eigenvalues") {
      ok = doubles(m.eigenvalues_, 9);
    } else if (key == "residual") {
      ok = doubles(m.residual_, 10);
    } else if (key == "known_windows") {
      for (const auto& w : words) {
        std::uint64_t v = 0;
        if (!to_u64(w, v)) {
          ok = false;
          break;
        }
        m.known_windows_.insert(v);
      }
    } else {
      return fail("unknown key '" + key + "'");
    }
    if (!ok) return fail("bad value for '" + key + "'");
  }
  static constexpr const char* names[] = {
      "variance",   "alpha",         "rare_share", "windows",
      "components", "spe_threshold", "templates",  "template_windows",
      "mean",       "eigenvalues",   "residual"};
  for (int i = 0; i < 11; ++i)
    if (!seen[i]) return Error{path.string() + ": missing '" + names[i] + "'"};
  const std::size_t d = m.template_ids_.size();
  if (d == 0 || m.template_windows_.size() != d || m.mean_.size() != d ||
      m.eigenvalues_.size() != d || m.residual_.size() != d * d || m.components_ > d)
    return Error{path.string() + ": sizes do not agree (templates " + std::to_string(d) +
                 ", template_windows " + std::to_string(m.template_windows_.size()) + ", mean " +
                 std::to_string(m.mean_.size()) + ", eigenvalues " +
                 std::to_string(m.eigenvalues_.size()) + ", residual " +
                 std::to_string(m.residual_.size()) + ")"};
  for (std::size_t j = 0; j < d; ++j) {
    if (!m.columns_.emplace(m.template_ids_[j], static_cast<int>(j)).second)
      return Error{path.string() + ": template " + std::to_string(m.template_ids_[j]) +
                   " appears twice"};
  }
  return m;
}

}  // namespace sluice
