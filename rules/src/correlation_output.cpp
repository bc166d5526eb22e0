// SPDX-License-Identifier: Apache-2.0
/// The pipeline side of correlation: `CorrelationOutput` (workers extract group keys, the sink
/// thread runs the engine and the alert handler), `GeneratingOutput` (base alerts obey
/// `generate`) and `compile_alert_filter` (Sigma filters for suppression lists).
///
/// Records rendered by workers are a private binary format that lives only between `render`
/// and `write` of the same process (host byte order), after one header: 'B' u32 batch size
/// u64 generation of the correlation set (reloads) that the batch was detected with (with an
/// anomaly stage in ordered mode, one 'E' record per event follows, for the window counts:
/// 'E' u32 event | i64 time | u32 template | u32 len entity):
///   'C' u32 event | i64 time | u32 correlation | u16 step | u64 ref | u32 len key | u32 len value
///   'D' u32 event | i64 time | u32 rule | u64 ref | u32 len id | u32 len title | u32 len level
///       | u32 tags | tags × u32 len tag | u32 n | n × (u32 len name | u32 len value)
/// A detection carries its rule's id, title, level and tags: the rule set may be replaced
/// (SIGHUP) between `render` and `write`, and the indices then name other rules.
#include <arpa/inet.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>

#include "sigma_document.hpp"
#include "sluice/common/assert.hpp"
#include "sluice/common/log.hpp"
#include "sluice/rules/correlation.hpp"

namespace sluice::rules {
namespace {

constexpr Logger logger("correlation");

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_str(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

class Cursor {
 public:
  explicit Cursor(std::string_view b) : b_(b) {}
  bool done() const { return pos_ >= b_.size(); }
  template <typename T>
  T get() {
    T v{};
    SLUICE_ASSERT(b_.size() - pos_ >= sizeof v, "correlation record truncated");
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string_view str() {
    const auto n = get<std::uint32_t>();
    SLUICE_ASSERT(b_.size() - pos_ >= n, "correlation record truncated");
    const auto s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

EventRef ref_of(const EventBatch& batch, const Event& e) {
  if (e.line != 0) return EventRef::line(batch.source_id(), e.line);
  return EventRef::received(e.receive_time_ns);
}

}  // namespace

CorrelationOutput::CorrelationOutput(std::shared_ptr<const CorrelationSet> set,
                                     std::shared_ptr<CorrelationEngine> engine,
                                     std::shared_ptr<AlertHandler> handler, bool handle_detections)
    : set_(std::move(set)),
      engine_(std::move(engine)),
      handler_(std::move(handler)),
      handle_detections_(handle_detections) {
  current_ = set_;
}

void CorrelationOutput::adopt(std::shared_ptr<const CorrelationSet> next) {
  CorrelationSet::link(set_, next);
  std::lock_guard lock(held_mutex_);
  held_.push_back(std::move(next));
  if (held_.size() > max_held_sets) held_.erase(held_.begin());
}

const std::vector<std::int64_t>& CorrelationOutput::remap_for(const CorrelationSet& older) {
  for (const auto& [generation, map] : remap_)
    if (generation == older.generation()) return map;
  std::vector<std::int64_t> map(older.specs().size(), -1);
  const auto& now = current_->specs();
  for (std::size_t i = 0; i < map.size(); ++i) {
    // Rules are matched as the engine matches them: by id, or by title where there is none.
    auto id_of = [](const CorrelationRule& r) -> const std::string& {
      return r.id.empty() ? r.title : r.id;
    };
    const auto& old_rule = older.specs()[i].rule;
    for (std::size_t j = 0; j < now.size(); ++j) {
      if (id_of(now[j].rule) == id_of(old_rule) && same_definition(older.specs()[i], now[j])) {
        map[i] = static_cast<std::int64_t>(j);
        break;
      }
    }
  }
  remap_.emplace_back(older.generation(), std::move(map));
  return remap_.back().second;
}

const CorrelationSet* CorrelationOutput::set_for_batch(std::uint64_t generation) {
  if (generation == current_->generation()) return current_.get();
  auto set = generation == set_->generation() ? set_ : set_->for_generation(generation);
  if (!set) return nullptr;
  if (generation > current_->generation()) {
    // Inputs held so far name the current set's rules: apply them before switching.
    submit_held();
    const auto r = engine_->reload(set->specs());
    logger.info(
        "correlation rules reloaded: {} kept, {} changed, {} removed, {} added; groups: {} "
        "kept, {} dropped; {} pending inputs dropped",
        r.kept, r.changed, r.removed, r.added, r.kept_groups, r.dropped_groups, r.dropped_pending);
    current_ = set;
    remap_.clear();
    return current_.get();
  }
  return set.get();
}

std::string CorrelationOutput::describe() const {
  return "correlation";
}

std::size_t CorrelationOutput::render(const EventBatch& batch,
                                      std::span<const Detection> detections, const RuleSet* rules,
                                      std::string& out) const {
  // The correlation set resolved against the rule set that detected this batch: after a
  // reload, workers switch rule sets at batch boundaries, each on its own.
  std::shared_ptr<const CorrelationSet> found;
  const CorrelationSet* set = set_.get();
  if (rules != nullptr && rules != set_->base_rules()) {
    found = set_->for_rules(rules);
    if (!found) {
      if (!detections.empty()) stale_.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    set = found.get();
  }
  std::vector<CorrelationSet::Input> inputs;
  std::size_t missing = 0, records = 0;
  const std::size_t start = out.size();
  out += 'B';
  put<std::uint32_t>(out, static_cast<std::uint32_t>(batch.size()));
  put<std::uint64_t>(out, set->generation());
  if (anomaly_ != nullptr) {
    thread_local std::string entity;
    const auto& events = batch.events();
    for (std::uint32_t i = 0; i < events.size(); ++i) {
      entity_key(events[i], anomaly_->entity_fields(), entity);
      out += 'E';
      put(out, i);
      put(out, events[i].event_time_ns);
      put<std::uint32_t>(out, events[i].template_id);
      put_str(out, entity);
    }
    records += events.size();
  }
  for (const auto& d : detections) {
    const Event& e = batch.events()[d.event_index];
    const EventRef ref = ref_of(batch, e);
    if (handle_detections_ && rules != nullptr && set->base_generates(d.rule_index)) {
      out += 'D';
      put(out, d.event_index);
      put(out, e.event_time_ns);
      put(out, d.rule_index);
      put(out, ref.bits);
      const bool known = d.rule_index < rules->rule_count();
      static const RuleInfo unknown;
      const RuleInfo& info = known ? rules->rule(d.rule_index) : unknown;
      put_str(out, info.id);
      put_str(out, info.title);
      put_str(out, info.level);
      put<std::uint32_t>(out, static_cast<std::uint32_t>(info.tags.size()));
      for (const auto& t : info.tags)
        put_str(out, t);
      put<std::uint32_t>(out, static_cast<std::uint32_t>(d.matched.size()));
      for (const auto& m : d.matched) {
        put_str(out, m.name);
        put_str(out, m.value);
      }
      ++records;
    }
    if (!set->consumes(d.rule_index)) continue;
    inputs.clear();
    set->inputs_for(e, d, inputs, missing);
    for (const auto& in : inputs) {
      out += 'C';
      put(out, d.event_index);
      put(out, e.event_time_ns);
      put(out, in.correlation);
      put(out, in.step);
      put(out, ref.bits);
      put_str(out, in.key);
      put_str(out, in.value);
      ++records;
    }
  }
  if (missing != 0) missing_.fetch_add(missing, std::memory_order_relaxed);
  if (records == 0) out.resize(start);  // nothing for this batch: write is not called
  // The count is what `sluice_output_records_total{output="correlation"}` shows: records handed
  // to correlation and alert handling (with an anomaly model, every event, for window counting).
  return records;
}

void CorrelationOutput::deliver(std::vector<CorrelationAlert>& alerts,
                                std::int64_t detected_mono_ns) {
  for (const auto& a : alerts) {
    alerts_.fetch_add(1, std::memory_order_relaxed);
    if (!current_->correlation_generates(a.correlation)) continue;  // consumed by a chain only
    Alert alert = current_->make_alert(a);
    alert.detected_mono_ns = detected_mono_ns;
    handler_->handle(alert);
  }
  alerts.clear();
}

void CorrelationOutput::set_anomaly_stage(std::shared_ptr<AnomalyStage> stage) {
  if (!stage || !stage->scoring()) return;  // no model: templates only, no anomaly alerts
  anomaly_ = std::move(stage);
  anomaly_->queue_alerts(true);
  anomaly_->set_ordered(true);
}

void CorrelationOutput::deliver_anomaly_alerts() {
  collect_anomaly(monotonic_now_ns());
  submit_held();
}

void CorrelationOutput::collect_anomaly(std::int64_t now) {
  if (!anomaly_) return;
  anomaly_alerts_.clear();
  anomaly_->take_alerts(anomaly_alerts_);
  if (anomaly_alerts_.empty()) return;
  anomaly_keys_.clear();
  std::vector<std::size_t> owner;  // anomaly_keys_[i] came from anomaly_alerts_[owner[i]]
  std::size_t missing = 0;
  for (std::size_t i = 0; i < anomaly_alerts_.size(); ++i) {
    Alert& a = anomaly_alerts_[i];
    a.detected_mono_ns = now;
    if (current_->consumes(a)) {
      const std::size_t added = current_->inputs_for(a, anomaly_keys_, missing);
      owner.insert(owner.end(), added, i);
    }
    if (current_->alert_generates(a)) handler_->handle(a);
  }
  if (missing != 0) missing_.fetch_add(missing, std::memory_order_relaxed);
  // The coalescer copies the key and value bytes out of anomaly_keys_.
  for (std::size_t i = 0; i < anomaly_keys_.size(); ++i) {
    CorrelationInput in;
    in.time_ns = anomaly_alerts_[owner[i]].last_ns;  // the window's end: when it is known
    in.correlation = anomaly_keys_[i].correlation;
    in.step = anomaly_keys_[i].step;
    in.key = anomaly_keys_[i].key;
    in.value = anomaly_keys_[i].value;
    held_inputs_.add(in, now);  // no single event: the reference stays "none"
  }
}

void CorrelationOutput::submit_held() {
  if (held_inputs_.empty()) return;
  const std::int64_t detected = held_inputs_.oldest_ns();
  held_inputs_.submit(*engine_, scratch_);
  deliver(scratch_, detected);
  last_input_ns_ = monotonic_now_ns();
}

void CorrelationOutput::idle() {
  submit_held();
}

Result<void> CorrelationOutput::write(std::string_view bytes) {
  const std::int64_t now = monotonic_now_ns();
  bool observed = false;
  Cursor c(bytes);
  const CorrelationSet* batch_set = current_.get();
  const std::vector<std::int64_t>* remap = nullptr;
  std::uint64_t first_seq = 0;
  auto ref_of_event = [&](std::uint32_t event, std::uint64_t bits) {
    return store_ != nullptr ? EventRef::store(first_seq + event) : EventRef{bits};
  };
  while (!c.done()) {
    const char kind = c.get<char>();
    if (kind == 'B') {
      // The store appended this batch just before (it is added to the pipeline first). An
      // event over the store's 1 GiB record limit is not stored and would shift the numbers;
      // the store counts those (sluice_store_events_too_large_total).
      const auto size = c.get<std::uint32_t>();
      const auto generation = c.get<std::uint64_t>();
      if (store_ != nullptr) first_seq = store_->writer().next_sequence() - size;
      batch_set = set_for_batch(generation);
      if (batch_set == nullptr) stale_.fetch_add(1, std::memory_order_relaxed);
      remap =
          batch_set != nullptr && batch_set != current_.get() ? &remap_for(*batch_set) : nullptr;
      continue;
    }
    const auto event = c.get<std::uint32_t>();
    if (kind == 'E') {
      const auto time = c.get<std::int64_t>();
      const auto template_id = c.get<std::uint32_t>();
      anomaly_->observe(c.str(), time, template_id);
      observed = true;
    } else if (kind == 'C') {
      CorrelationInput in;
      in.time_ns = c.get<std::int64_t>();
      in.correlation = c.get<std::uint32_t>();
      in.step = c.get<std::uint16_t>();
      in.ref = ref_of_event(event, c.get<std::uint64_t>());
      in.key = c.str();
      in.value = c.str();
      if (batch_set == nullptr) continue;  // counted with its batch
      if (remap != nullptr) {
        // Detected with an older rule set: the same rule in the current one, if unchanged.
        const std::int64_t now_index = (*remap)[in.correlation];
        if (now_index < 0) {
          reload_dropped_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        in.correlation = static_cast<std::uint32_t>(now_index);
      }
      held_inputs_.add(in, now);
    } else {
      SLUICE_ASSERT(kind == 'D', "unknown correlation record");
      Alert a;
      a.kind = "detection";
      a.first_ns = a.last_ns = c.get<std::int64_t>();
      c.get<std::uint32_t>();  // the rule index: only valid for the rule set of `render`
      a.refs.push_back(ref_of_event(event, c.get<std::uint64_t>()));
      a.rule_id = c.str();
      a.rule_title = c.str();
      a.severity = c.str();
      const auto tags = c.get<std::uint32_t>();
      for (std::uint32_t i = 0; i < tags; ++i)
        a.tags.emplace_back(c.str());
      const auto n = c.get<std::uint32_t>();
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto name = c.str();
        a.group.emplace_back(std::string(name), std::string(c.str()));
      }
      a.count = 1;
      a.assign_id();
      a.detected_mono_ns = now;
      handler_->handle(a);
    }
  }
  if (observed) {
    // Windows this batch closed: their anomalies are held with this batch's inputs, so the same
    // submit checks them against the watermark before this batch's detections move it
    // (correlation.hpp).
    anomaly_->score_ready();
    collect_anomaly(now);
  }
  if (held_inputs_.due(now)) submit_held();
  maybe_snapshot(now);
  return {};
}

Result<void> CorrelationOutput::flush() {
  submit_held();
  const std::int64_t now = monotonic_now_ns();
  // Live input that went quiet: what waits for the watermark would wait forever. After as long
  // in wall time as the tolerance is in event time (at least 200 ms, the pipeline's flush
  // period), apply it. Off for scans and replays, whose results must not depend on pauses.
  const std::int64_t quiet = std::max<std::int64_t>(engine_->config().tolerance_ns, 200'000'000);
  if (drain_when_quiet_ && last_input_ns_ != 0 && now - last_input_ns_ >= quiet) {
    engine_->drain(scratch_);
    deliver(scratch_, now);
    last_input_ns_ = 0;
  }
  handler_->flush();
  maybe_snapshot(now);
  return {};
}

void CorrelationOutput::finish() {
  deliver_anomaly_alerts();
  engine_->finish(scratch_);
  deliver(scratch_, 0);
  handler_->flush();
}

void CorrelationOutput::set_snapshot(std::string path, double interval_seconds) {
  snapshot_path_ = std::move(path);
  snapshot_interval_ns_ = static_cast<std::int64_t>(interval_seconds * 1e9);
  last_snapshot_ns_ = monotonic_now_ns();
}

Result<void> CorrelationOutput::snapshot() {
  if (snapshot_path_.empty()) return {};
  submit_held();
  return engine_->save(snapshot_path_);
}

void CorrelationOutput::maybe_snapshot(std::int64_t now) {
  if (snapshot_path_.empty() || snapshot_interval_ns_ <= 0 ||
      now - last_snapshot_ns_ < snapshot_interval_ns_)
    return;
  last_snapshot_ns_ = now;
  submit_held();  // a snapshot holds everything received so far
  if (!engine_->save(snapshot_path_)) snapshot_errors_.fetch_add(1, std::memory_order_relaxed);
}

GeneratingOutput::GeneratingOutput(std::unique_ptr<Output> inner,
                                   std::shared_ptr<const CorrelationSet> set)
    : inner_(std::move(inner)), set_(std::move(set)) {}

std::string GeneratingOutput::describe() const {
  return inner_->describe();
}

std::size_t GeneratingOutput::render(const EventBatch& batch, std::span<const Detection> detections,
                                     const RuleSet* rules, std::string& out) const {
  // After a reload the batch may come from another base rule set: ask the set resolved
  // against it. A rule set no correlation set knows any more keeps every alert (none lost).
  std::shared_ptr<const CorrelationSet> found;
  const CorrelationSet* set = set_.get();
  if (rules != nullptr && rules != set_->base_rules()) {
    found = set_->for_rules(rules);
    if (!found) return inner_->render(batch, detections, rules, out);
    set = found.get();
  }
  bool all = true;
  for (const auto& d : detections)
    all &= set->base_generates(d.rule_index);
  if (all) return inner_->render(batch, detections, rules, out);
  std::vector<Detection> kept;
  for (const auto& d : detections)
    if (set->base_generates(d.rule_index)) kept.push_back(d);
  return inner_->render(batch, kept, rules, out);
}

Result<void> GeneratingOutput::write(std::string_view bytes) {
  return inner_->write(bytes);
}

Result<void> GeneratingOutput::flush() {
  return inner_->flush();
}

// ---- suppression filters -----------------------------------------------------------------

namespace {

bool glob_ci(std::string_view pattern, std::string_view text) {
  // Sigma wildcards: * any run, ? one character; case-insensitive (spec: values match
  // case-insensitively unless |cased).
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) { return std::tolower(a) == std::tolower(b); };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool in_cidr(std::string_view value, const std::string& cidr) {
  const auto slash = cidr.find('/');
  const std::string net = cidr.substr(0, slash);
  unsigned char a[16] = {}, b[16] = {};
  const int family = net.find(':') == std::string::npos ? AF_INET : AF_INET6;
  const int bits = family == AF_INET ? 32 : 128;
  const int prefix = slash == std::string::npos ? bits : std::atoi(cidr.c_str() + slash + 1);
  if (inet_pton(family, net.c_str(), a) != 1) return false;
  if (inet_pton(family, std::string(value).c_str(), b) != 1) return false;
  const int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, full) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string_view alert_field(const Alert& a, const std::string& name) {
  if (name == "rule.id") return a.rule_id;
  if (name == "rule.name" || name == "rule.title") return a.rule_title;
  if (name == "rule.level") return a.severity;
  if (name == "correlation.type") return a.correlation_type;
  return a.field(name);
}

bool item_matches(const detail::DetectionItem& item, const Alert& a) {
  using detail::Modifier;
  const auto v = alert_field(a, item.field);
  if (item.has(Modifier::exists)) {
    const bool want = item.values.empty() || item.values[0].text == "true";
    return want == !v.empty();
  }
  auto one = [&](const detail::SigmaValue& sv) {
    if (sv.is_null) return v.empty();
    if (item.has(Modifier::cidr)) return in_cidr(v, sv.text);
    if (item.has(Modifier::re))
      return re2::RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), re2::RE2(sv.text));
    std::string pattern = sv.text;
    if (item.has(Modifier::contains))
      pattern = "*" + pattern + "*";
    else if (item.has(Modifier::startswith))
      pattern += "*";
    else if (item.has(Modifier::endswith))
      pattern = "*" + pattern;
    return glob_ci(pattern, v);
  };
  if (item.has(Modifier::all)) {
    for (const auto& sv : item.values)
      if (!one(sv)) return false;
    return !item.values.empty();
  }
  for (const auto& sv : item.values)
    if (one(sv)) return true;
  return false;
}

bool identifier_matches(const detail::SearchIdentifier& id, const Alert& a) {
  for (const auto& alt : id.alternatives) {
    bool all = true;
    for (const auto& item : alt)
      all = all && item_matches(item, a);
    if (all) return true;
  }
  return false;
}

bool eval(const detail::ConditionNode& n, const std::vector<detail::SearchIdentifier>& ids,
          const Alert& a) {
  using K = detail::ConditionNode::Kind;
  switch (n.kind) {
    case K::and_:
      for (const auto& c : n.children)
        if (!eval(c, ids, a)) return false;
      return true;
    case K::or_:
      for (const auto& c : n.children)
        if (eval(c, ids, a)) return true;
      return false;
    case K::not_:
      return !eval(n.children.at(0), ids, a);
    case K::ref:
      for (const auto& id : ids)
        if (id.name == n.name) return identifier_matches(id, a);
      return false;
    case K::one_of:
    case K::all_of: {
      bool any = false, all = true, seen = false;
      for (const auto& id : ids) {
        if (n.name != "them" && !detail::identifier_matches(n.name, id.name)) continue;
        seen = true;
        const bool m = identifier_matches(id, a);
        any |= m;
        all &= m;
      }
      return n.kind == K::one_of ? any : (seen && all);
    }
  }
  return false;
}

}  // namespace

Result<AlertPredicate> compile_alert_filter(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Error{std::string("filter: invalid yaml: ") + e.what()};
  }
  if (!root.IsMap()) return Error{"filter: must be a map of search identifiers and 'condition'"};
  auto ids = std::make_shared<std::vector<detail::SearchIdentifier>>();
  auto cond = std::make_shared<detail::ConditionNode>();
  bool has_condition = false;
  for (const auto& kv : root) {
    const std::string name = kv.first.as<std::string>();
    if (name == "condition") {
      std::string error, reason;
      if (!detail::parse_condition(kv.second.as<std::string>(), *cond, error, reason))
        return Error{"filter: condition: " + error};
      has_condition = true;
      continue;
    }
    detail::SearchIdentifier id;
    std::string error;
    if (!detail::parse_search_identifier(name, kv.second, id, error))
      return Error{"filter: " + name + ": " + error};
    ids->push_back(std::move(id));
  }
  if (!has_condition) {
    // One identifier needs no condition: it is the condition.
    if (ids->size() != 1) return Error{"filter: needs a 'condition'"};
    cond->kind = detail::ConditionNode::Kind::ref;
    cond->name = ids->front().name;
  }
  return AlertPredicate([ids, cond](const Alert& a) { return eval(*cond, *ids, a); });
}

}  // namespace sluice::rules
