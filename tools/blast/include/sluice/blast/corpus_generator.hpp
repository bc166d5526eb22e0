// SPDX-License-Identifier: Apache-2.0
/// `CorpusGenerator` writes the demo syslog corpus: a deterministic, seeded mix of RFC 3164 and
/// RFC 5424 lines (sshd, sudo, CRON, systemd, kernel firewall, web access, postfix, auditd), CEF
/// and JSON lines from many hosts, with attack scenarios (SSH brute force, web scanner, reverse
/// shells, `/etc/shadow` reads, `useradd`, cron persistence, log clearing) mixed in at a low rate.
///
/// Every line is our own invention; addresses come from the documentation ranges (RFC 5737) and
/// RFC 1918. Event time starts at a fixed instant and only moves forward, so the same seed and
/// options always give the same bytes, on every platform: the generator uses its own PRNG, never
/// `<random>` distributions, whose output the standard leaves to the implementation.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice::blast {

/// Options for `CorpusGenerator`. The defaults give the demo corpus.
struct CorpusOptions {
  /// Seed of the PRNG; the same seed gives the same corpus.
  std::uint64_t seed = 1;
  /// Event time of the first line: 2024-03-11T08:00:00Z.
  std::chrono::sys_time<std::chrono::milliseconds> start{std::chrono::milliseconds{1710144000000}};
  /// Mean gap between consecutive lines in event time.
  std::chrono::milliseconds mean_gap{25};
  /// Chance per background line that an attack scenario starts when none is running. At the
  /// default, about 1 line in 100 belongs to an attack.
  double attack_start_probability = 1.0 / 2000.0;
};

/// What kind of line `CorpusGenerator::next()` produced last.
enum class LineKind : std::uint8_t {
  benign,  ///< routine background traffic
  attack,  ///< part of an attack scenario
};

/// Generates the demo corpus one line at a time. Not thread-safe; one generator per thread.
class CorpusGenerator {
 public:
  explicit CorpusGenerator(CorpusOptions options = {});

  /// Produces the next line, without a line terminator and never containing '\n'. The view stays
  /// valid until the next call. Reuses one internal buffer, so it allocates only while that
  /// buffer grows.
  std::string_view next();

  /// The kind of the line the last `next()` returned.
  LineKind last_kind() const { return last_kind_; }
  /// Lines generated so far.
  std::uint64_t lines() const { return lines_; }
  /// Attack lines generated so far.
  std::uint64_t attack_lines() const { return attack_lines_; }

 private:
  enum class Scenario : std::uint8_t {
    none,
    ssh_brute_force,
    web_scan,
    reverse_shell,
    shadow_read,
    add_user,
    cron_persistence,
    log_clearing,
  };

  std::uint64_t random();
  std::uint64_t below(std::uint64_t bound);
  bool chance(double p);
  template <class T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }

  void advance_clock();
  void start_scenario();
  void write_benign();
  void write_attack();

  // Line pieces.
  void rfc3164_header(int facility, int severity, std::string_view host, std::string_view tag,
                      bool with_pid);
  void rfc5424_header(int facility, int severity, std::string_view host, std::string_view app,
                      std::string_view msgid);
  void clf_time();
  void iso_time();
  std::string random_internal_ip();
  std::string random_external_ip();
  void sshd_line(std::string_view host);
  void sudo_line(std::string_view host, std::string_view user, std::string_view command);
  void cron_line(std::string_view host, std::string_view user, std::string_view command);
  void systemd_line(std::string_view host);
  void kernel_firewall_line();
  void web_access_line(std::string_view client, std::string_view method, std::string_view path,
                       int status, std::string_view user_agent, bool rfc5424);
  void postfix_line();
  void auditd_execve_line(std::string_view host, std::initializer_list<std::string_view> args);
  void auditd_syscall_line(std::string_view host);
  void cef_line();
  void json_line();
  void rfc5424_app_line();

  CorpusOptions options_;
  std::uint64_t state_;
  std::chrono::sys_time<std::chrono::milliseconds> now_;
  std::uint64_t audit_serial_ = 100000;
  std::string line_;
  LineKind last_kind_ = LineKind::benign;
  std::uint64_t lines_ = 0;
  std::uint64_t attack_lines_ = 0;

  Scenario scenario_ = Scenario::none;
  std::uint32_t scenario_left_ = 0;
  std::uint32_t scenario_step_ = 0;
  std::string attacker_ip_;
  std::string victim_host_;
  std::string victim_user_;
};

}  // namespace sluice::blast
