// SPDX-License-Identifier: Apache-2.0
#include "sluice/config/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>
#include <algorithm>
#include <bit>
#include <fstream>
#include <sstream>

#include "sluice/common/log.hpp"

namespace sluice {
namespace {

/// Collects problems while a configuration is read; each names file, line and key.
class Problems {
 public:
  explicit Problems(std::string name) : name_(std::move(name)) {}
  void add(const toml::node* node, std::string_view key, std::string_view what) {
    const int line = node != nullptr ? static_cast<int>(node->source().begin.line) : 0;
    lines_.push_back(fmt::format("{}:{}: {}: {}", name_, line, key, what));
  }
  bool empty() const { return lines_.empty(); }
  std::string text() const {
    std::string out;
    for (const auto& l : lines_) {
      if (!out.empty()) out += '\n';
      out += l;
    }
    return out;
  }

 private:
  std::string name_;
  std::vector<std::string> lines_;
};

/// Reads the keys of one table, checking types and rejecting keys it does not know.
class Section {
 public:
  Section(const toml::table& table, std::string prefix, Problems& problems)
      : table_(table), prefix_(std::move(prefix)), problems_(problems) {}

  ~Section() {
    for (const auto& [key, node] : table_) {
      if (std::find(known_.begin(), known_.end(), key.str()) == known_.end())
        problems_.add(&node, qualified(key.str()), "unknown key");
    }
  }

  void get(std::string_view key, std::string& out) {
    known_.push_back(std::string(key));
    const auto* node = table_.get(key);
    if (node == nullptr) return;
    if (const auto* v = node->as_string()) {
      out = v->get();
    } else {
      problems_.add(node, qualified(key), "expected a string");
    }
  }
  void get(std::string_view key, bool& out) {
    known_.push_back(std::string(key));
    const auto* node = table_.get(key);
    if (node == nullptr) return;
    if (const auto* v = node->as_boolean()) {
      out = v->get();
    } else {
      problems_.add(node, qualified(key), "expected true or false");
    }
  }
  template <class Int>
  void get_int(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
    known_.push_back(std::string(key));
    const auto* node = table_.get(key);
    if (node == nullptr) return;
    const auto* v = node->as_integer();
    if (v == nullptr) {
      problems_.add(node, qualified(key), "expected an integer");
      return;
    }
    const auto value = v->get();
    if (value < min || value > max) {
      problems_.add(node, qualified(key), fmt::format("must be between {} and {}", min, max));
      return;
    }
    out = static_cast<Int>(value);
  }
  void get(std::string_view key, double& out, double min, double max) {
    known_.push_back(std::string(key));
    const auto* node = table_.get(key);
    if (node == nullptr) return;
    double value;
    if (const auto* f = node->as_floating_point()) {
      value = f->get();
    } else if (const auto* i = node->as_integer()) {
      value = static_cast<double>(i->get());
    } else {
      problems_.add(node, qualified(key), "expected a number");
      return;
    }
    if (value < min || value > max) {
      problems_.add(node, qualified(key), fmt::format("must be between {} and {}", min, max));
      return;
    }
    out = value;
  }
  void get(std::string_view key, std::vector<std::string>& out) {
    known_.push_back(std::string(key));
    const auto* node = table_.get(key);
    if (node == nullptr) return;
    if (const auto* s = node->as_string()) {
      out = {s->get()};
      return;
    }
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      problems_.add(node, qualified(key), "expected a string or an array of strings");
      return;
    }
    out.clear();
    for (const auto& item : *arr) {
      if (const auto* s = item.as_string()) {
        out.push_back(s->get());
      } else {
        problems_.add(&item, qualified(key), "expected an array of strings");
      }
    }
  }
  void get(std::string_view key, std::vector<std::uint16_t>& out) {
    known_.push_back(std::string(key));
    const auto* node = table_.get(key);
    if (node == nullptr) return;
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      problems_.add(node, qualified(key), "expected an array of port numbers");
      return;
    }
    out.clear();
    for (const auto& item : *arr) {
      const auto* i = item.as_integer();
      if (i == nullptr || i->get() < 1 || i->get() > 65535) {
        problems_.add(&item, qualified(key), "expected port numbers 1..65535");
      } else {
        out.push_back(static_cast<std::uint16_t>(i->get()));
      }
    }
  }
  /// Marks a key as known without reading it (a sub-table handled elsewhere).
  void known(std::string_view key) { known_.push_back(std::string(key)); }
  const toml::node* node(std::string_view key) const { return table_.get(key); }
  std::string qualified(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  Problems& problems_;
  std::vector<std::string> known_;
};

const toml::table* sub_table(Section& parent, const toml::table& root, std::string_view key,
                             Problems& problems) {
  parent.known(key);
  const auto* node = root.get(key);
  if (node == nullptr) return nullptr;
  if (const auto* t = node->as_table()) return t;
  problems.add(node, parent.qualified(key), "expected a table");
  return nullptr;
}

void read_input(const toml::table& t, std::size_t index, Config& config, Problems& problems) {
  InputConfig in;
  in.line = static_cast<int>(t.source().begin.line);
  SourceSpec& spec = in.spec;
  spec.address = "127.0.0.1";
  spec.port = 5514;
  const auto prefix = fmt::format("input[{}]", index);
  Section s(t, prefix, problems);
  s.get("type", spec.kind);
  s.get("address", spec.address);
  s.get_int("port", spec.port, 0, 65535);
  s.get_int("sockets", spec.socket_count, 1, 256);
  s.get_int("receive_buffer_bytes", spec.receive_buffer_bytes, 4096, std::int64_t{1} << 32);
  s.get_int("max_message_bytes", spec.max_message_bytes, 64, 16 << 20);
  s.get_int("max_connections", spec.max_connections, 1, 1 << 20);
  s.get("path", spec.path);
  s.get("follow", spec.follow);
  s.get("start_at_end", spec.start_at_end);
  s.get("ports", spec.ports);
  s.get("all_udp", spec.all_udp);
  s.get("flows", spec.flows);
  s.get("split_messages", spec.split_messages);
  const auto& kinds = source_kinds();
  const std::string one_of = fmt::format("one of {}", fmt::join(kinds, ", "));
  if (spec.kind.empty()) {
    problems.add(&t, prefix + ".type", "missing; " + one_of);
  } else if (std::find(kinds.begin(), kinds.end(), spec.kind) == kinds.end()) {
    problems.add(t.get("type"), prefix + ".type",
                 fmt::format("unknown input type '{}'; {}", spec.kind, one_of));
  }
  if ((spec.kind == "file" || spec.kind == "pcap") && spec.path.empty())
    problems.add(&t, prefix + ".path", "required for a " + spec.kind + " input");
  config.inputs.push_back(std::move(in));
}

/// Reads `[[alerts.<key>]]` tables, calling `read` for each.
template <typename F>
void read_array_of_tables(Section& parent, const toml::table& t, std::string_view key,
                          Problems& problems, F&& read) {
  parent.known(key);
  const auto* node = t.get(key);
  if (node == nullptr) return;
  const auto* arr = node->as_array();
  if (arr == nullptr) {
    problems.add(node, parent.qualified(key),
                 "expected [[" + parent.qualified(key) + "]] sections");
    return;
  }
  std::size_t i = 0;
  for (const auto& item : *arr) {
    const auto name = fmt::format("{}[{}]", parent.qualified(key), i++);
    if (const auto* table = item.as_table()) {
      read(*table, name);
    } else {
      problems.add(&item, name, "expected a table");
    }
  }
}

void read_correlation(const toml::table& t, Config& config, Problems& problems) {
  Section s(t, "correlation", problems);
  auto& c = config.correlation;
  s.get("enabled", c.enabled);
  s.get_int("threads", c.engine.threads, 0, 1024);
  s.get_int("shards", c.engine.shards, 1, 1 << 16);
  s.get_int("max_groups", c.engine.max_groups, 1, std::int64_t{1} << 40);
  double tolerance = static_cast<double>(c.engine.tolerance_ns) / 1e9;
  s.get("tolerance_seconds", tolerance, 0, 86400);
  c.engine.tolerance_ns = static_cast<std::int64_t>(tolerance * 1e9);
  s.get_int("max_refs", c.engine.max_refs, 1, 100000);
  s.get("data_dir", c.data_dir);
  s.get("snapshot_interval_seconds", c.snapshot_interval_seconds, 0, 86400);
  if (!std::has_single_bit(c.engine.shards))
    problems.add(t.get("shards"), "correlation.shards", "must be a power of two");
}

void read_alerts(const toml::table& t, Config& config, Problems& problems) {
  Section s(t, "alerts", problems);
  auto& a = config.alerts;
  s.get("dedup_seconds", a.dedup_seconds, 0, 86400 * 365);
  s.get("throttle_seconds", a.throttle_seconds, 0, 86400 * 365);
  s.get_int("throttle_max", a.throttle_max, 0, std::int64_t{1} << 40);
  read_array_of_tables(s, t, "sink", problems, [&](const toml::table& st, const std::string& name) {
    AlertSinkConfig sink;
    sink.line = static_cast<int>(st.source().begin.line);
    Section ss(st, name, problems);
    ss.get("type", sink.type);
    ss.get("path", sink.path);
    ss.get("address", sink.address);
    ss.get("protocol", sink.protocol);
    ss.get("url", sink.url);
    ss.get_int("queue", sink.queue, 1, 1 << 24);
    ss.get_int("retries", sink.retries, 0, 100);
    ss.get_int("retry_backoff_ms", sink.retry_backoff_ms, 0, 600'000);
    ss.get_int("timeout_ms", sink.timeout_ms, 1, 600'000);
    static const char* types[] = {"jsonl", "stdout", "syslog", "webhook"};
    if (std::find(std::begin(types), std::end(types), sink.type) == std::end(types))
      problems.add(st.get("type") ? st.get("type") : &st, name + ".type",
                   "one of jsonl, stdout, syslog, webhook");
    if (sink.type == "jsonl" && sink.path.empty())
      problems.add(&st, name + ".path", "required for a jsonl sink");
    if (sink.type == "syslog" && sink.address.empty())
      problems.add(&st, name + ".address", "required for a syslog sink (host:port)");
    if (sink.type == "syslog" && sink.protocol != "udp" && sink.protocol != "tcp")
      problems.add(st.get("protocol"), name + ".protocol", "udp or tcp");
    if (sink.type == "webhook" && sink.url.rfind("http://", 0) != 0)
      problems.add(st.get("url") ? st.get("url") : &st, name + ".url",
                   "required for a webhook sink: http://host:port/path");
    a.sinks.push_back(std::move(sink));
  });
  read_array_of_tables(
      s, t, "suppress", problems, [&](const toml::table& st, const std::string& name) {
        SuppressionConfig sup;
        sup.line = static_cast<int>(st.source().begin.line);
        Section ss(st, name, problems);
        ss.get("name", sup.name);
        ss.get("rule", sup.rule);
        ss.get("field", sup.field);
        ss.get("value", sup.value);
        ss.get("cidr", sup.cidr);
        ss.get("filter", sup.filter);
        const int kinds = !sup.value.empty() + !sup.cidr.empty() + !sup.filter.empty();
        if (kinds != 1) problems.add(&st, name, "needs exactly one of value, cidr, filter");
        if ((!sup.value.empty() || !sup.cidr.empty()) && sup.field.empty())
          problems.add(&st, name + ".field", "required with value or cidr");
        a.suppress.push_back(std::move(sup));
      });
}

/// The `CaptureOptions` keys, shared by every `[capture.*]` section.
void read_capture_options(Section& s, CaptureOptions& o) {
  s.get("udp_ports", o.udp_ports);
  s.get("tcp_ports", o.tcp_ports);
  s.get("tls_ports", o.tls_ports);
  s.get("all_udp", o.all_udp);
  s.get("split_messages", o.split_messages);
  s.get_int("max_message_bytes", o.max_message_bytes, 64, 16 << 20);
  s.get("flows", o.flows);
  s.get_int("max_flows", o.flow_table.max_flows, 1, std::int64_t{1} << 30);
  double idle = static_cast<double>(o.flow_table.idle_timeout_ns) / 1e9;
  double active = static_cast<double>(o.flow_table.active_timeout_ns) / 1e9;
  double tcp_idle = static_cast<double>(o.tcp.idle_timeout_ns) / 1e9;
  s.get("flow_idle_timeout_seconds", idle, 0.001, 86400);
  s.get("flow_active_timeout_seconds", active, 0.001, 86400 * 7);
  s.get("tcp_idle_timeout_seconds", tcp_idle, 0.001, 86400);
  o.flow_table.idle_timeout_ns = static_cast<std::int64_t>(idle * 1e9);
  o.flow_table.active_timeout_ns = static_cast<std::int64_t>(active * 1e9);
  o.tcp.idle_timeout_ns = static_cast<std::int64_t>(tcp_idle * 1e9);
  s.get_int("max_tcp_streams", o.tcp.max_streams, 1, 1 << 24);
  s.get_int("max_stream_buffer_bytes", o.tcp.max_stream_buffer_bytes, 0, std::int64_t{1} << 32);
  s.get_int("max_fragment_datagrams", o.max_fragment_datagrams, 1, 1 << 20);
}

void read_capture(const toml::table& t, Section& top, Config& config, Problems& problems) {
  Section cs(t, "capture", problems);
  if (const auto* a = sub_table(cs, t, "afpacket", problems)) {
    AfPacketConfig& c = config.capture.afpacket;
    c.enabled = true;
    c.line = static_cast<int>(a->source().begin.line);
    Section s(*a, "capture.afpacket", problems);
    s.get("interface", c.interface);
    s.get_int("fanout", c.fanout, 1, 64);
    s.get_int("block_bytes", c.block_bytes, 4096, 1 << 30);
    s.get_int("block_count", c.block_count, 1, 1 << 16);
    s.get_int("frame_bytes", c.frame_bytes, 64, 1 << 20);
    s.get_int("block_timeout_ms", c.block_timeout_ms, 1, 10000);
    s.get("promiscuous", c.promiscuous);
    read_capture_options(s, c.options);
    if (c.interface.empty()) problems.add(a, "capture.afpacket.interface", "required");
  }
  if (const auto* d = sub_table(cs, t, "dpdk", problems)) {
    DpdkConfig& c = config.capture.dpdk;
    c.enabled = true;
    c.line = static_cast<int>(d->source().begin.line);
    Section s(*d, "capture.dpdk", problems);
    s.get("eal_args", c.eal_args);
    s.get_int("queues", c.queues, 1, 128);
    s.get_int("burst", c.burst, 1, 1024);
    s.get_int("rx_descriptors", c.rx_descriptors, 64, 65536);
    s.get_int("mbufs", c.mbufs, 1023, 1 << 24);
    s.get_int("mbuf_cache", c.mbuf_cache, 0, 512);
    s.get("promiscuous", c.promiscuous);
    s.get_int("stop_after_idle_polls", c.stop_after_idle_polls, 0, std::int64_t{1} << 40);
    s.get_int("idle_sleep_us", c.idle_sleep_us, 0, 1'000'000);
    for (auto [key, out] : {std::pair{"ports", &c.ports}}) {
      s.known(key);
      const auto* node = d->get(key);
      if (node == nullptr) continue;
      const auto* arr = node->as_array();
      if (arr == nullptr) {
        problems.add(node, s.qualified(key), "expected an array of DPDK port ids");
        continue;
      }
      out->clear();
      for (const auto& item : *arr) {
        const auto* i = item.as_integer();
        if (i == nullptr || i->get() < 0 || i->get() > 1023) {
          problems.add(&item, s.qualified(key), "expected port ids 0..1023");
        } else {
          out->push_back(static_cast<std::uint16_t>(i->get()));
        }
      }
    }
    s.known("lcores");
    if (const auto* node = d->get("lcores")) {
      if (const auto* arr = node->as_array()) {
        for (const auto& item : *arr) {
          const auto* i = item.as_integer();
          if (i == nullptr || i->get() < 0 || i->get() > 4095) {
            problems.add(&item, "capture.dpdk.lcores", "expected CPU numbers 0..4095");
          } else {
            c.lcores.push_back(static_cast<std::uint32_t>(i->get()));
          }
        }
      } else {
        problems.add(node, "capture.dpdk.lcores", "expected an array of CPU numbers");
      }
    }
    read_capture_options(s, c.options);
    if (c.ports.empty()) problems.add(d, "capture.dpdk.ports", "at least one port");
    if (!c.lcores.empty() && c.lcores.size() != c.ports.size() * c.queues)
      problems.add(d->get("lcores"), "capture.dpdk.lcores",
                   fmt::format("one CPU per (port, queue): expected {}, got {}",
                               c.ports.size() * c.queues, c.lcores.size()));
  }
  (void)top;
}

}  // namespace

Result<Config> parse_config(const std::string& text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return Error{fmt::format("{}:{}:{}: {}", name, e.source().begin.line, e.source().begin.column,
                             e.description())};
  }
  Config config;
  Problems problems(name);
  {
    Section top(root, "", problems);
    if (const auto* t = sub_table(top, root, "general", problems)) {
      Section s(*t, "general", problems);
      s.get_int("workers", config.general.workers, 0, 1024);
      s.get("pin_cpus", config.general.pin_cpus);
      s.get("log_level", config.general.log_level);
      s.get("summary_interval_seconds", config.general.summary_interval_seconds, 0, 86400);
      s.get_int("batch_size", config.general.batch_size, 1, 1 << 20);
      s.get_int("ring_capacity", config.general.ring_capacity, 2, 1 << 20);
      LogLevel level;
      if (!parse_log_level(config.general.log_level, level))
        problems.add(t->get("log_level"), "general.log_level",
                     "one of trace, debug, info, warn, error");
      if (!std::has_single_bit(config.general.ring_capacity))
        problems.add(t->get("ring_capacity"), "general.ring_capacity", "must be a power of two");
    }
    if (const auto* t = sub_table(top, root, "parser", problems)) {
      Section s(*t, "parser", problems);
      std::string format = "auto";
      s.get("format", format);
      if (!parse_format_name(format, config.parser.format))
        problems.add(t->get("format"), "parser.format",
                     "one of auto, rfc3164, rfc5424, json, cef, raw");
      s.get("extract_key_values", config.parser.extract_key_values);
      s.get_int("default_tz_offset_minutes", config.parser.default_tz_offset_minutes, -1440, 1440);
    }
    top.known("input");
    if (const auto* node = root.get("input")) {
      if (const auto* arr = node->as_array()) {
        std::size_t i = 0;
        for (const auto& item : *arr) {
          if (const auto* t = item.as_table()) {
            read_input(*t, i, config, problems);
          } else {
            problems.add(&item, fmt::format("input[{}]", i), "expected a table ([[input]])");
          }
          ++i;
        }
      } else {
        problems.add(node, "input", "expected [[input]] sections");
      }
    }
    if (const auto* t = sub_table(top, root, "capture", problems))
      read_capture(*t, top, config, problems);
    if (const auto* t = sub_table(top, root, "rules", problems)) {
      Section s(*t, "rules", problems);
      s.get("paths", config.rules.paths);
      s.get("mapping", config.rules.mapping);
      s.get("min_level", config.rules.min_level);
    }
    if (const auto* t = sub_table(top, root, "output", problems)) {
      Section s(*t, "output", problems);
      if (const auto* e = sub_table(s, *t, "events", problems)) {
        Section es(*e, "output.events", problems);
        es.get("path", config.output.events_path);
      }
      if (const auto* a = sub_table(s, *t, "alerts", problems)) {
        Section as(*a, "output.alerts", problems);
        as.get("path", config.output.alerts_path);
      }
    }
    if (const auto* t = sub_table(top, root, "store", problems)) {
      config.store_enabled = true;
      Section st(*t, "store", problems);
      auto& sc = config.store;
      st.get("path", sc.path);
      st.get_int("segment_bytes", sc.segment_bytes, 64 << 10, std::int64_t{1} << 40);
      st.get_int("max_segment_age_seconds", sc.max_segment_age_seconds, 0, std::int64_t{1} << 40);
      st.get("fsync", sc.fsync);
      st.get_int("fsync_interval_ms", sc.fsync_interval_ms, 1, 3'600'000);
      st.get_int("max_total_bytes", sc.max_total_bytes, 0, std::int64_t{1} << 60);
      st.get_int("max_age_seconds", sc.max_age_seconds, 0, std::int64_t{1} << 40);
      st.get_int("compression_level", sc.compression_level, 1, 19);
      st.get("codec", sc.codec);
      if (BlockCodec codec; !parse_block_codec(sc.codec, codec))
        problems.add(t->get("codec"), "store.codec", "one of zstd, lz4");
      FsyncPolicy policy;
      if (!parse_fsync_policy(sc.fsync, policy))
        problems.add(t->get("fsync"), "store.fsync", "one of batch, interval, none");
      if (sc.path.empty()) problems.add(t, "store.path", "must name a folder");
    }
    if (const auto* t = sub_table(top, root, "correlation", problems))
      read_correlation(*t, config, problems);
    if (const auto* t = sub_table(top, root, "alerts", problems)) read_alerts(*t, config, problems);
    if (const auto* t = sub_table(top, root, "templates", problems)) {
      Section s(*t, "templates", problems);
      s.get("enabled", config.templates.enabled);
      s.get("table", config.templates.table);
      s.get("similarity", config.templates.similarity, 0.0, 1.0);
      s.get_int("depth", config.templates.depth, 3, 64);
    }
    if (const auto* t = sub_table(top, root, "anomaly", problems)) {
      Section s(*t, "anomaly", problems);
      s.get("model", config.anomaly.model);
      s.get("backend", config.anomaly.backend);
      s.get("entity", config.anomaly.entity);
      s.get_int("window_seconds", config.anomaly.window_seconds, 1, 86400 * 366);
      s.get("alerts", config.anomaly.alerts_path);
      if (config.anomaly.entity.empty())
        problems.add(t->get("entity"), "anomaly.entity", "must name at least one field");
    }
    if (const auto* t = sub_table(top, root, "metrics", problems)) {
      Section s(*t, "metrics", problems);
      s.get("listen", config.metrics.listen);
    }
  }
  if (config.inputs.empty() && !config.capture.afpacket.enabled && !config.capture.dpdk.enabled &&
      problems.empty())
    problems.add(&root, "input",
                 "no [[input]] section and no [capture.*] section: nothing to read");
  if (!problems.empty()) return Error{problems.text()};
  return config;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::from_errno("cannot read configuration " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace sluice
