// SPDX-License-Identifier: Apache-2.0
/// The correlation engine: per-shard group tables applied in event-time order, in parallel over
/// shards on oneTBB. The semantics (windows, watermark, eviction) are documented in
/// `sluice/correlate/engine.hpp`; this file says how.
///
/// Memory per group is what the bench measures (bench/micro/correlate_bench.cpp): one `Group`
/// (88 bytes, two 16-byte window slots inline), a 4-byte table slot at load factor <= 3/4, and
/// the key bytes; arrays grow by a quarter. Windows needing more than two slots keep them on
/// the heap (16 bytes per slot; value_count and temporal_ordered use two slots per event).
#include "sluice/correlate/engine.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <fmt/format.h>
#include <unistd.h>
#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <unordered_map>

#include "sluice/common/assert.hpp"

namespace sluice {

std::string_view to_string(CorrelationType type) {
  switch (type) {
    case CorrelationType::event_count:
      return "event_count";
    case CorrelationType::value_count:
      return "value_count";
    case CorrelationType::temporal:
      return "temporal";
    case CorrelationType::temporal_ordered:
      return "temporal_ordered";
    case CorrelationType::value_sum:
      return "value_sum";
    case CorrelationType::value_avg:
      return "value_avg";
    case CorrelationType::value_percentile:
      return "value_percentile";
  }
  return "unknown";
}

std::string ValueCondition::describe() const {
  std::string out;
  auto add = [&](std::string s) {
    if (!out.empty()) out += " and ";
    out += s;
  };
  if (min != -std::numeric_limits<double>::infinity())
    add(fmt::format("{} {}", min_inclusive ? "gte" : "gt", min));
  if (max != std::numeric_limits<double>::infinity())
    add(fmt::format("{} {}", max_inclusive ? "lte" : "lt", max));
  if (has_neq) add(fmt::format("neq {}", neq));
  return out.empty() ? "any" : out;
}

std::string CountCondition::describe() const {
  std::string out;
  auto add = [&](std::string s) {
    if (!out.empty()) out += " and ";
    out += s;
  };
  if (min > 0) add(fmt::format("gte {}", min));
  if (max != std::numeric_limits<std::uint64_t>::max()) add(fmt::format("lte {}", max));
  if (has_neq) add(fmt::format("neq {}", neq));
  return out.empty() ? "any" : out;
}

void EventRef::append_json(std::string& out) const {
  switch (kind()) {
    case Kind::store:
      out += fmt::format("{{\"store_seq\":{}}}", sequence());
      return;
    case Kind::line:
      out += fmt::format("{{\"source\":{},\"line\":{}}}", source(), line_number());
      return;
    case Kind::received:
      out += fmt::format("{{\"receive_time_ns\":{}}}", receive_time_ns());
      return;
    case Kind::none:
      out += "{}";
      return;
  }
}

std::uint64_t correlation_hash(std::string_view bytes, std::uint64_t seed) {
  // A multiply-xorshift hash over 8-byte words (in the spirit of wyhash/murmur): fast for the
  // short keys group-by produces, well mixed in the high bits (they pick the shard).
  constexpr std::uint64_t m = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = seed ^ (bytes.size() * m);
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ (w * m)) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ (w * m)) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  h *= 0x94d049bb133111ebull;
  h ^= h >> 29;
  return h;
}

namespace {

constexpr std::uint32_t nil = 0xffffffffu;
constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::min();
/// value_sum/value_avg: the value of an input that is no number (a NaN no parse produces).
constexpr std::uint64_t non_numeric_bits = 0x7ff8'dead'0000'0000ull;

double as_double(std::uint64_t bits) {
  return std::bit_cast<double>(bits);
}
std::uint64_t bits_of(double v) {
  return std::bit_cast<std::uint64_t>(v);
}

/// A decimal number as value_sum and value_avg read it: optional blanks around, an optional
/// sign, digits with an optional fraction and exponent. Infinity and NaN are not numbers here.
std::uint64_t parse_number(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  double x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || !std::isfinite(x))
    return non_numeric_bits;
  return bits_of(x + 0.0);  // -0 becomes 0: equal values, equal bits
}

/// One windowed event as the engine reasons about it: its time, its reference and
/// (value_count) the value's hash or (temporal_ordered) the event's own time.
struct Entry {
  std::int64_t t;
  std::uint64_t ref;
  std::uint64_t aux;
};

/// What a group stores per windowed event, 16 bytes at a time: event_count and temporal keep
/// one slot per event ({t, ref}; their aux is t), value_count and temporal_ordered two
/// ({t, ref}, {aux, 0}). Two slots live inside the group, so an event_count group holding up
/// to two events needs no heap memory (the measured case in bench/RESULTS.md).
struct Slot {
  std::int64_t a;
  std::uint64_t b;
};
constexpr std::uint32_t inline_slots = 2;

/// A group: one (correlation, group key). Trivially copyable; `many` is owned and freed by
/// the engine when the group is removed.
struct Group {
  std::uint64_t hash;
  std::int64_t last_ns;   ///< last applied event time (LRU order)
  std::int64_t first_ns;  ///< opening event of the current window
  std::uint32_t key_off;  ///< in the shard's key pool
  std::uint16_t key_len;
  std::uint16_t corr;
  std::uint32_t prev;
  std::uint32_t next;
  std::uint32_t size;   ///< items (windowed events) in use
  std::uint32_t cap;    ///< items allocated
  std::uint64_t count;  ///< events in the window (windows decided at close)
  union {
    Slot local[inline_slots];
    Slot* many;
  };
};
static_assert(sizeof(Group) == 88, "Group layout: keep it small, the memory target depends on it");

/// An input waiting for the watermark.
struct Pending {
  std::int64_t t;
  std::uint64_t seq;
  std::uint64_t hash;
  std::uint64_t value_hash;
  std::uint64_t ref;
  std::uint32_t key_off;  ///< in the level's pending key pool
  std::uint32_t key_len;
  std::uint32_t corr;
  std::uint16_t step;
};

bool pending_before(const Pending& a, const Pending& b) {
  if (a.t != b.t) return a.t < b.t;
  if (a.step != b.step) return a.step < b.step;  // equal times: `rules` order (temporal_ordered)
  return a.seq < b.seq;
}

struct PendingQueue {
  std::vector<Pending> items;
  std::size_t sorted = 0;  ///< items[0, sorted) are in order; the rest arrived since
  std::string keys;
};

struct RuleRuntime {
  const CorrelationSpec* spec;
  std::uint64_t seed;
  std::int64_t timespan;
  std::uint32_t steps;
  std::uint64_t need;  ///< monotone: the count that fires
  bool monotone;
  CorrelationType type;
  std::uint32_t width;  ///< slots per item (see `Slot`)
};

struct Shard {
  std::vector<std::uint32_t> slots;
  std::vector<Group> groups;
  std::uint32_t head = nil;
  std::uint32_t tail = nil;
  std::string keys;
  std::size_t dead_key_bytes = 0;
  std::size_t heap_slots = 0;
  std::vector<PendingQueue> pending;  // per level
  std::vector<CorrelationAlert> out;
  std::uint64_t applied = 0;
  std::uint64_t evicted = 0;
  std::uint64_t expired = 0;
  std::uint64_t non_numeric = 0;
  std::uint64_t window_overflow = 0;
};

}  // namespace

struct CorrelationEngine::Impl {
  std::vector<CorrelationSpec> specs;
  CorrelationConfig config;
  std::vector<RuleRuntime> rt;
  std::uint32_t levels = 1;
  int shard_shift = 0;
  std::size_t shard_cap = 0;
  std::vector<std::unique_ptr<Shard>> shards;
  tbb::task_arena arena;

  std::int64_t max_seen = no_time;
  std::int64_t released = no_time;  // the watermark last applied
  std::uint64_t next_seq = 0;
  std::uint64_t inputs = 0;
  std::uint64_t late = 0;
  std::uint64_t alerts = 0;
  std::uint64_t restored_groups = 0;
  std::uint64_t dropped_restored = 0;
  std::uint64_t reload_dropped = 0;
  std::uint64_t reloads = 0;
  // Counters for other threads (metrics), copied by the owning thread after every change:
  // reading the shards themselves from another thread would race with their updates.
  static constexpr int n_published = 16;
  std::atomic<std::uint64_t> published[n_published] = {};

  ~Impl() {
    for (auto& sh : shards)
      for (auto& g : sh->groups)
        if (on_heap(g)) delete[] g.many;
  }

  Impl(std::vector<CorrelationSpec> s, CorrelationConfig c)
      : specs(std::move(s)),
        config(c),
        arena(c.threads == 0 ? tbb::task_arena::automatic : static_cast<int>(c.threads)) {
    if (config.shards == 0 || (config.shards & (config.shards - 1)) != 0)
      config.shards = std::bit_ceil(std::max<std::size_t>(1, config.shards));
    if (config.max_refs == 0) config.max_refs = 1;
    SLUICE_ASSERT(specs.size() < 65535, "at most 65534 correlation rules");
    for (const auto& sp : specs) {
      RuleRuntime r;
      r.spec = &sp;
      const std::string& id = sp.rule.id.empty() ? sp.rule.title : sp.rule.id;
      r.seed = correlation_hash(id, 0x5eed5eed5eed5eedull);
      r.timespan = std::max<std::int64_t>(0, sp.rule.timespan_ns);
      r.steps = static_cast<std::uint32_t>(std::max<std::size_t>(1, sp.rule.rules.size()));
      r.type = sp.rule.type;
      // A percentage needs a population: value_percentile is always decided when its window
      // closes (deciding per event would see the first event alone, at 100 %).
      r.monotone = r.type == CorrelationType::value_percentile ? false
                   : is_metric(r.type)                         ? sp.rule.value_condition.monotone()
                                                               : sp.rule.condition.monotone();
      r.need = std::max<std::uint64_t>(1, sp.rule.condition.min);
      r.width = r.type == CorrelationType::value_count ||
                        r.type == CorrelationType::temporal_ordered || is_metric(r.type)
                    ? 2
                    : 1;
      rt.push_back(r);
      levels = std::max(levels, sp.level + 1);
    }
    shard_shift = 64 - std::countr_zero(config.shards);
    shard_cap = std::max<std::size_t>(1, (config.max_groups + config.shards - 1) / config.shards);
    for (std::size_t i = 0; i < config.shards; ++i) {
      auto sh = std::make_unique<Shard>();
      sh->pending.resize(levels);
      sh->slots.assign(16, nil);
      shards.push_back(std::move(sh));
    }
  }

  /// Grows `v` by a quarter instead of doubling: group arrays and key pools are most of the
  /// memory, and doubling would leave up to half of it unused (measured: 154 bytes per live
  /// event_count group with doubling, see bench/RESULTS.md).
  template <typename V>
  static void reserve_for(V& v, std::size_t need) {
    if (need > v.capacity()) v.reserve(std::max(need, v.capacity() + v.capacity() / 4 + 64));
  }

  std::size_t shard_of(std::uint64_t hash) const {
    return config.shards == 1 ? 0 : static_cast<std::size_t>(hash >> shard_shift);
  }

  // ---- group table ----------------------------------------------------------------------

  static std::string_view key_of(const Shard& sh, const Group& g) {
    return {sh.keys.data() + g.key_off, g.key_len};
  }

  std::uint32_t find(const Shard& sh, std::uint64_t hash, std::uint32_t corr,
                     std::string_view key) const {
    const std::size_t mask = sh.slots.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const std::uint32_t gi = sh.slots[i];
      if (gi == nil) return nil;
      const Group& g = sh.groups[gi];
      if (g.hash == hash && g.corr == corr && key_of(sh, g) == key) return gi;
    }
  }

  static void place(Shard& sh, std::uint32_t gi) {
    const std::size_t mask = sh.slots.size() - 1;
    std::size_t i = sh.groups[gi].hash & mask;
    while (sh.slots[i] != nil)
      i = (i + 1) & mask;
    sh.slots[i] = gi;
  }

  static void grow(Shard& sh) {
    sh.slots.assign(sh.slots.size() * 2, nil);
    for (std::uint32_t gi = 0; gi < sh.groups.size(); ++gi)
      place(sh, gi);
  }

  static std::size_t slot_of(const Shard& sh, std::uint32_t gi) {
    const std::size_t mask = sh.slots.size() - 1;
    for (std::size_t i = sh.groups[gi].hash & mask;; i = (i + 1) & mask) {
      SLUICE_DEBUG_ASSERT(sh.slots[i] != nil, "group missing from its table");
      if (sh.slots[i] == gi) return i;
    }
  }

  static void lru_unlink(Shard& sh, std::uint32_t gi) {
    Group& g = sh.groups[gi];
    if (g.prev != nil)
      sh.groups[g.prev].next = g.next;
    else
      sh.head = g.next;
    if (g.next != nil)
      sh.groups[g.next].prev = g.prev;
    else
      sh.tail = g.prev;
    g.prev = g.next = nil;
  }

  static void lru_append(Shard& sh, std::uint32_t gi) {
    Group& g = sh.groups[gi];
    g.prev = sh.tail;
    g.next = nil;
    if (sh.tail != nil)
      sh.groups[sh.tail].next = gi;
    else
      sh.head = gi;
    sh.tail = gi;
  }

  std::uint32_t insert(Shard& sh, std::uint64_t hash, std::uint32_t corr, std::string_view key,
                       std::int64_t t) {
    // Load factor at most 3/4: linear probing stays short at that load, and the table costs
    // 5.3 to 10.7 bytes per group.
    if ((sh.groups.size() + 1) * 4 > sh.slots.size() * 3) grow(sh);
    Group g{};
    g.hash = hash;
    g.last_ns = t;
    g.first_ns = t;
    // Keys longer than 64 KiB are cut; the hash still covers the whole key.
    g.key_len = static_cast<std::uint16_t>(std::min<std::size_t>(key.size(), 0xffff));
    g.key_off = static_cast<std::uint32_t>(sh.keys.size());
    reserve_for(sh.keys, sh.keys.size() + g.key_len);
    sh.keys.append(key.data(), g.key_len);
    g.corr = static_cast<std::uint16_t>(corr);
    g.prev = g.next = nil;
    const auto& r = rt[corr];
    const bool per_step = r.spec->rule.type == CorrelationType::temporal ||
                          r.spec->rule.type == CorrelationType::temporal_ordered;
    g.cap = inline_slots / r.width;
    if (per_step && r.steps > g.cap) {
      g.cap = r.steps;
      g.many = new Slot[std::size_t{r.steps} * r.width];
      sh.heap_slots += std::size_t{r.steps} * r.width;
    }
    if (per_step) {
      g.size = r.steps;
      for (std::uint32_t s = 0; s < r.steps; ++s)
        set(g, s, Entry{no_time, 0, 0});
    }
    const auto gi = static_cast<std::uint32_t>(sh.groups.size());
    reserve_for(sh.groups, sh.groups.size() + 1);
    sh.groups.push_back(g);
    place(sh, gi);
    lru_append(sh, gi);
    return gi;
  }

  void remove(Shard& sh, std::uint32_t gi) {
    // Backward-shift deletion keeps linear probing chains intact without tombstones.
    const std::size_t mask = sh.slots.size() - 1;
    std::size_t hole = slot_of(sh, gi);
    for (std::size_t i = (hole + 1) & mask; sh.slots[i] != nil; i = (i + 1) & mask) {
      const std::size_t home = sh.groups[sh.slots[i]].hash & mask;
      // Move entry i into the hole when its home is not in (hole, i] cyclically.
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        sh.slots[hole] = sh.slots[i];
        hole = i;
      }
    }
    sh.slots[hole] = nil;
    lru_unlink(sh, gi);
    Group& g = sh.groups[gi];
    if (on_heap(g)) {
      delete[] g.many;
      sh.heap_slots -= std::size_t{g.cap} * width(g);
    }
    sh.dead_key_bytes += g.key_len;
    const auto last = static_cast<std::uint32_t>(sh.groups.size() - 1);
    if (gi != last) {
      const std::size_t s = slot_of(sh, last);
      sh.groups[gi] = sh.groups[last];
      sh.slots[s] = gi;
      Group& m = sh.groups[gi];
      if (m.prev != nil)
        sh.groups[m.prev].next = gi;
      else
        sh.head = gi;
      if (m.next != nil)
        sh.groups[m.next].prev = gi;
      else
        sh.tail = gi;
    }
    sh.groups.pop_back();
    if (sh.dead_key_bytes > 4096 && sh.dead_key_bytes * 2 > sh.keys.size()) compact_keys(sh);
  }

  static void compact_keys(Shard& sh) {
    std::string fresh;
    fresh.reserve(sh.keys.size() - sh.dead_key_bytes);
    for (auto& g : sh.groups) {
      const auto off = static_cast<std::uint32_t>(fresh.size());
      fresh.append(sh.keys, g.key_off, g.key_len);
      g.key_off = off;
    }
    sh.keys.swap(fresh);
    sh.dead_key_bytes = 0;
  }

  // ---- window items ----------------------------------------------------------------------

  std::uint32_t width(const Group& g) const { return rt[g.corr].width; }
  bool on_heap(const Group& g) const { return std::size_t{g.cap} * width(g) > inline_slots; }
  Slot* slots(Group& g) const { return on_heap(g) ? g.many : g.local; }
  const Slot* slots(const Group& g) const { return on_heap(g) ? g.many : g.local; }

  Entry get(const Group& g, std::uint32_t i) const {
    const Slot* s = slots(g);
    if (width(g) == 1) return {s[i].a, s[i].b, static_cast<std::uint64_t>(s[i].a)};
    return {s[2 * i].a, s[2 * i].b, static_cast<std::uint64_t>(s[2 * i + 1].a)};
  }

  void set(Group& g, std::uint32_t i, const Entry& e) const {
    Slot* s = slots(g);
    if (width(g) == 1) {
      s[i] = Slot{e.t, e.ref};
    } else {
      s[2 * i] = Slot{e.t, e.ref};
      s[2 * i + 1] = Slot{static_cast<std::int64_t>(e.aux), 0};
    }
  }

  void ensure_cap(Shard& sh, Group& g, std::uint32_t want) const {
    if (want <= g.cap) return;
    const std::uint32_t w = width(g);
    std::uint32_t cap = std::max<std::uint32_t>(2, g.cap);
    while (cap < want)
      cap *= 2;
    auto* fresh = new Slot[std::size_t{cap} * w];
    std::memcpy(fresh, slots(g), sizeof(Slot) * g.size * w);
    if (on_heap(g)) {
      delete[] g.many;
      sh.heap_slots -= std::size_t{g.cap} * w;
    }
    g.many = fresh;
    g.cap = cap;
    sh.heap_slots += std::size_t{cap} * w;
  }

  /// Removes item `i`, keeping the order of the rest.
  void erase_at(Group& g, std::uint32_t i) const {
    const std::uint32_t w = width(g);
    Slot* s = slots(g);
    std::memmove(s + std::size_t{i} * w, s + std::size_t{i + 1} * w,
                 sizeof(Slot) * (g.size - i - 1) * w);
    --g.size;
  }

  void push(Shard& sh, Group& g, const Entry& e) const {
    ensure_cap(sh, g, g.size + 1);
    set(g, g.size++, e);
  }

  void drop_front(Group& g, std::uint32_t n) const {
    if (n == 0) return;
    const std::uint32_t w = width(g);
    Slot* s = slots(g);
    std::memmove(s, s + std::size_t{n} * w, sizeof(Slot) * (g.size - n) * w);
    g.size -= n;
  }

  std::vector<Entry> items(const Group& g) const {
    std::vector<Entry> out(g.size);
    for (std::uint32_t i = 0; i < g.size; ++i)
      out[i] = get(g, i);
    return out;
  }

  // ---- alerts ----------------------------------------------------------------------------

  void emit(Shard& sh, const Group& g, std::int64_t first, std::int64_t last, std::uint64_t count,
            std::span<const Entry> contributing, std::uint64_t current_ref, bool has_current) {
    CorrelationAlert a;
    a.correlation = g.corr;
    a.key.assign(key_of(sh, g));
    a.first_ns = first;
    a.last_ns = last;
    a.count = count;
    const std::size_t total = contributing.size() + (has_current ? 1 : 0);
    const std::size_t skip = total > config.max_refs ? total - config.max_refs : 0;
    for (std::size_t i = skip; i < contributing.size(); ++i)
      a.refs.push_back(EventRef{contributing[i].ref});
    if (has_current) a.refs.push_back(EventRef{current_ref});
    sh.out.push_back(std::move(a));
  }

  /// Decides a window that closes (conditions with an upper bound), then empties it.
  void close_window(Shard& sh, Group& g) {
    const auto& r = rt[g.corr];
    const auto type = r.spec->rule.type;
    if (is_metric(type)) {
      if (g.count > 0) close_metric_window(sh, g);
      g.count = 0;
      g.size = 0;
      return;
    }
    std::uint64_t count = g.count;
    std::vector<Entry> contributing;
    if (type == CorrelationType::temporal || type == CorrelationType::temporal_ordered) {
      count = 0;
      for (std::uint32_t s = 0; s < g.size; ++s) {
        const Entry e = get(g, s);
        if (e.t != no_time)
          ++count;
        else if (type == CorrelationType::temporal_ordered)
          break;  // the ordered prefix
      }
      for (std::uint32_t s = 0; s < g.size; ++s) {
        const Entry e = get(g, s);
        if (e.t != no_time)
          contributing.push_back(Entry{static_cast<std::int64_t>(e.aux), e.ref, 0});
      }
      std::sort(contributing.begin(), contributing.end(),
                [](const Entry& a, const Entry& b) { return a.t < b.t; });
    } else {
      if (type == CorrelationType::value_count) count = g.size;
      contributing = items(g);
    }
    if (g.count > 0 && r.spec->rule.condition.holds(count))
      emit(sh, g, g.first_ns, g.last_ns, count, contributing, 0, false);
    g.count = 0;
    if (type == CorrelationType::temporal || type == CorrelationType::temporal_ordered) {
      for (std::uint32_t s = 0; s < g.size; ++s)
        set(g, s, Entry{no_time, 0, 0});
    } else {
      g.size = 0;
    }
  }

  /// A closing window of a metric type. value_sum/value_avg: item 0 holds the running sum in
  /// `aux`, items 1.. the last `max_refs` events. value_percentile: every event (up to
  /// `max_window_events`), `aux` the value's hash.
  void close_metric_window(Shard& sh, Group& g) {
    const auto& r = rt[g.corr];
    const ValueCondition& cond = r.spec->rule.value_condition;
    if (r.type != CorrelationType::value_percentile) {
      const double sum = as_double(get(g, 0).aux);
      const double value =
          r.type == CorrelationType::value_sum ? sum : sum / static_cast<double>(g.count);
      if (!cond.holds(value)) return;
      std::vector<Entry> contributing;
      for (std::uint32_t i = 1; i < g.size; ++i)
        contributing.push_back(get(g, i));
      emit(sh, g, g.first_ns, g.last_ns, g.count, contributing, 0, false);
      sh.out.back().value = value;
      return;
    }
    // Occurrences per value: sort the hashes once, then every item looks its share up.
    const auto items_now = items(g);
    std::vector<std::uint64_t> hashes;
    hashes.reserve(items_now.size());
    for (const auto& e : items_now)
      hashes.push_back(e.aux);
    std::sort(hashes.begin(), hashes.end());
    const double n = static_cast<double>(items_now.size());
    auto share = [&](std::uint64_t h) {
      const auto range = std::equal_range(hashes.begin(), hashes.end(), h);
      return 100.0 * static_cast<double>(range.second - range.first) / n;
    };
    // The reported share is the most extreme one that meets the condition: the largest for a
    // condition with only lower bounds ("a value in at least 75 %"), else the smallest ("a
    // value in at most 1 %").
    const bool largest = cond.monotone();
    std::vector<Entry> contributing;
    double extreme = largest ? 0.0 : std::numeric_limits<double>::infinity();
    for (const auto& e : items_now) {
      const double sv = share(e.aux);
      if (!cond.holds(sv)) continue;
      contributing.push_back(e);
      extreme = largest ? std::max(extreme, sv) : std::min(extreme, sv);
    }
    if (contributing.empty()) return;
    emit(sh, g, g.first_ns, g.last_ns, items_now.size(), contributing, 0, false);
    sh.out.back().value = extreme;
  }

  /// value_sum/value_avg with lower bounds only: the window [t - T, t] ending at this event,
  /// every event in it kept, the running sum in `count` (the bits of a double).
  void apply_metric_sliding(Shard& sh, Group& g, const Pending& p, std::int64_t from) {
    const auto& r = rt[g.corr];
    double sum = as_double(g.count);
    std::uint32_t old = 0;
    while (old < g.size && get(g, old).t < from)
      sum -= as_double(get(g, old++).aux);
    drop_front(g, old);
    if (g.size >= config.max_window_events) {
      sum -= as_double(get(g, 0).aux);
      drop_front(g, 1);
      ++sh.window_overflow;
    }
    // Restarting from exactly 0 when the window empties keeps rounding from piling up.
    if (g.size == 0) sum = 0;
    push(sh, g, Entry{p.t, p.ref, p.value_hash});
    sum += as_double(p.value_hash);
    const double value =
        r.type == CorrelationType::value_sum ? sum : sum / static_cast<double>(g.size);
    g.count = bits_of(sum);
    if (!r.spec->rule.value_condition.holds(value)) return;
    auto contributing = items(g);
    contributing.pop_back();  // the current event, passed on its own
    emit(sh, g, get(g, 0).t, p.t, g.size, contributing, p.ref, true);
    sh.out.back().value = value;
    g.size = 0;
    g.count = 0;
  }

  // ---- applying one input ----------------------------------------------------------------

  bool window_live(const Group& g, std::int64_t t) const {
    return g.last_ns >= t - rt[g.corr].timespan;
  }

  void expire(Shard& sh, std::int64_t t) {
    while (sh.head != nil) {
      Group& g = sh.groups[sh.head];
      if (window_live(g, t)) break;
      if (!rt[g.corr].monotone) close_window(sh, g);
      remove(sh, sh.head);
      ++sh.expired;
    }
  }

  /// Drops the items older than `from` (items are kept in time order).
  void drop_older(Group& g, std::int64_t from) const {
    std::uint32_t old = 0;
    while (old < g.size && get(g, old).t < from)
      ++old;
    drop_front(g, old);
  }

  void apply(Shard& sh, const Pending& p, std::string_view key) {
    const auto& r = rt[p.corr];
    if (p.value_hash == non_numeric_bits &&
        (r.type == CorrelationType::value_sum || r.type == CorrelationType::value_avg)) {
      ++sh.non_numeric;  // counted, not applied: a sum of a non-number means nothing
      return;
    }
    expire(sh, p.t);
    std::uint32_t gi = find(sh, p.hash, p.corr, key);
    if (gi == nil) {
      while (sh.groups.size() >= shard_cap && sh.head != nil) {
        Group& old = sh.groups[sh.head];
        if (window_live(old, p.t)) {
          ++sh.evicted;  // its partial window is lost: counted, never silent
        } else {
          if (!rt[old.corr].monotone) close_window(sh, old);
          ++sh.expired;
        }
        remove(sh, sh.head);
      }
      gi = insert(sh, p.hash, p.corr, key, p.t);
    }
    ++sh.applied;
    Group& g = sh.groups[gi];
    const std::int64_t t = p.t;
    const std::int64_t from = t - r.timespan;  // window [t - T, t]
    const auto type = r.spec->rule.type;
    const auto t_bits = static_cast<std::uint64_t>(t);

    if (!r.monotone) {
      if (g.count > 0 && t > g.first_ns + r.timespan) close_window(sh, g);
      if (g.count == 0) g.first_ns = t;
      ++g.count;
      if (type == CorrelationType::event_count) {
        if (g.size == config.max_refs) drop_front(g, 1);
        push(sh, g, Entry{t, p.ref, t_bits});
      } else if (type == CorrelationType::value_count) {
        bool seen = false;
        for (std::uint32_t i = 0; i < g.size && !seen; ++i)
          seen = get(g, i).aux == p.value_hash;
        // Past the upper bound the count cannot satisfy the condition: keep one more value as
        // the witness and stop growing.
        if (!seen && g.size <= r.spec->rule.condition.max)
          push(sh, g, Entry{t, p.ref, p.value_hash});
      } else if (type == CorrelationType::temporal) {
        set(g, p.step, Entry{t, p.ref, t_bits});
      } else if (type == CorrelationType::value_percentile) {
        if (g.size >= config.max_window_events) {
          drop_front(g, 1);
          ++sh.window_overflow;
        }
        push(sh, g, Entry{t, p.ref, p.value_hash});
      } else if (is_metric(type)) {
        if (g.size == 0) push(sh, g, Entry{no_time, 0, bits_of(0.0)});  // the running sum
        Entry head = get(g, 0);
        head.aux = bits_of(as_double(head.aux) + as_double(p.value_hash));
        set(g, 0, head);
        if (g.size > config.max_refs) erase_at(g, 1);
        push(sh, g, Entry{t, p.ref, p.value_hash});
      } else if (p.step == 0) {
        set(g, 0, Entry{t, p.ref, t_bits});
      } else if (const Entry prev = get(g, p.step - 1u); prev.t != no_time) {
        set(g, p.step, Entry{prev.t, p.ref, t_bits});
      }
    } else if (is_metric(type)) {
      apply_metric_sliding(sh, g, p, from);
    } else if (type == CorrelationType::event_count) {
      drop_older(g, from);
      if (g.size + 1 >= r.need) {
        emit(sh, g, g.size ? get(g, 0).t : t, t, g.size + 1, items(g), p.ref, true);
        g.size = 0;
      } else {
        push(sh, g, Entry{t, p.ref, t_bits});
      }
    } else if (type == CorrelationType::value_count) {
      drop_older(g, from);
      // Items stay ordered by last sighting: a value seen again moves to the back.
      std::uint32_t found = nil;
      for (std::uint32_t i = 0; i < g.size && found == nil; ++i)
        if (get(g, i).aux == p.value_hash) found = i;
      if (found != nil) {
        for (std::uint32_t i = found; i + 1 < g.size; ++i)
          set(g, i, get(g, i + 1));
        set(g, g.size - 1, Entry{t, p.ref, p.value_hash});
      } else {
        push(sh, g, Entry{t, p.ref, p.value_hash});
      }
      if (g.size >= r.need) {
        emit(sh, g, get(g, 0).t, t, g.size, items(g), 0, false);
        g.size = 0;
      }
    } else {
      std::uint64_t have = 0;
      std::int64_t first = t;
      if (type == CorrelationType::temporal) {
        set(g, p.step, Entry{t, p.ref, t_bits});
        for (std::uint32_t s = 0; s < g.size; ++s) {
          const Entry e = get(g, s);
          if (e.t != no_time && e.t >= from) {
            ++have;
            first = std::min(first, e.t);
          }
        }
      } else {
        // Item s holds the start of the latest chain that reached step s (later starts leave
        // more room); the chain must start within the window ending at this event.
        if (p.step == 0) {
          set(g, 0, Entry{t, p.ref, t_bits});
        } else if (const Entry prev = get(g, p.step - 1u); prev.t != no_time && prev.t >= from) {
          set(g, p.step, Entry{prev.t, p.ref, t_bits});
        }
        for (std::uint32_t s = 0; s < g.size; ++s) {
          const Entry e = get(g, s);
          if (e.t == no_time || e.t < from) break;
          ++have;
          first = e.t;
        }
      }
      if (have >= r.need) {
        std::vector<Entry> contributing;
        for (std::uint32_t s = 0; s < g.size; ++s) {
          const Entry e = get(g, s);
          if (e.t == no_time || e.t < from) continue;
          if (type == CorrelationType::temporal_ordered && s >= have) break;
          contributing.push_back(Entry{static_cast<std::int64_t>(e.aux), e.ref, 0});
        }
        std::stable_sort(contributing.begin(), contributing.end(),
                         [](const Entry& a, const Entry& b) { return a.t < b.t; });
        emit(sh, g, first, t, have, contributing, 0, false);
        for (std::uint32_t s = 0; s < g.size; ++s)
          set(g, s, Entry{no_time, 0, 0});
      }
    }
    g.last_ns = std::max(g.last_ns, t);
    lru_unlink(sh, gi);
    lru_append(sh, gi);
  }

  // ---- levels, shards, watermark ---------------------------------------------------------

  void enqueue(std::uint32_t corr, std::int64_t t, std::uint16_t step, std::string_view key,
               std::string_view value, std::uint64_t ref) {
    const auto& r = rt[corr];
    const std::uint64_t hash = correlation_hash(key, r.seed);
    Shard& sh = *shards[shard_of(hash)];
    PendingQueue& q = sh.pending[r.spec->level];
    q.items.push_back(make_pending(corr, t, step, hash, value, ref, next_seq++,
                                   static_cast<std::uint32_t>(q.keys.size()), key.size()));
    q.keys.append(key);
  }

  Pending make_pending(std::uint32_t corr, std::int64_t t, std::uint16_t step, std::uint64_t hash,
                       std::string_view value, std::uint64_t ref, std::uint64_t seq,
                       std::uint32_t key_off, std::size_t key_len) const {
    Pending p;
    p.t = t;
    p.seq = seq;
    p.hash = hash;
    const auto type = rt[corr].type;
    if (type == CorrelationType::value_count || type == CorrelationType::value_percentile)
      p.value_hash = correlation_hash(value, 0x76616c7565ull);
    else if (type == CorrelationType::value_sum || type == CorrelationType::value_avg)
      p.value_hash = parse_number(value);  // the number itself, as the bits of a double
    else
      p.value_hash = 0;
    p.ref = ref;
    p.key_off = key_off;
    p.key_len = static_cast<std::uint32_t>(key_len);
    p.corr = corr;
    p.step = step;
    return p;
  }

  // Inputs of the current submit, partitioned by queue (shard and level) per chunk of the
  // input: `chunk_index[c]` lists the input indexes of chunk c grouped by queue, queue q's
  // being [chunk_start[c][q], chunk_start[c][q + 1]). The shard tasks gather their queues'
  // inputs from every chunk, in chunk order, so a queue receives its inputs in input order, as
  // one thread adding them one by one would leave them. Empty between submits.
  std::span<const CorrelationInput> scatter_inputs;
  std::uint64_t scatter_base_seq = 0;
  std::vector<std::uint64_t> scatter_hash;
  std::vector<std::uint32_t> scatter_queue;
  std::vector<std::vector<std::uint32_t>> chunk_index;
  std::vector<std::vector<std::uint32_t>> chunk_start;

  /// Hashes and partitions submitted inputs, in parallel over chunks of the input (one oneTBB
  /// region); the copying into the queues happens in the shard tasks (`gather`), so no serial
  /// pass touches every input. Returns the number of late inputs.
  std::uint64_t enqueue_all(std::span<const CorrelationInput> in) {
    const std::size_t n = in.size();
    scatter_inputs = in;
    scatter_base_seq = next_seq;
    next_seq += n;
    const std::size_t queues = shards.size() * levels;
    // 1024 inputs per chunk at least: below that the task overhead outweighs the work.
    const std::size_t chunks = std::clamp<std::size_t>(n / 1024, 1, 64);
    scatter_hash.resize(n);
    scatter_queue.resize(n);
    chunk_index.resize(chunks);
    chunk_start.resize(chunks);
    std::vector<std::int64_t> chunk_max(chunks, no_time);
    std::vector<std::uint64_t> chunk_late(chunks, 0);
    auto work = [&](std::size_t c) {
      const std::size_t lo = n * c / chunks, hi = n * (c + 1) / chunks;
      auto& start = chunk_start[c];
      start.assign(queues + 1, 0);
      // Kept in locals and stored once: the chunks' slots share cache lines, and updating them
      // per input made the threads fight over those lines (measured: this pass took as long on
      // two threads as on one).
      std::int64_t max_time = no_time;
      std::uint64_t late_here = 0;
      for (std::size_t i = lo; i < hi; ++i) {
        const auto& x = in[i];
        SLUICE_ASSERT(x.correlation < specs.size(), "correlation input names no loaded rule");
        if (x.time_ns < released) {
          ++late_here;  // older than what was already applied: would reorder history
          scatter_queue[i] = nil;
          continue;
        }
        max_time = std::max(max_time, x.time_ns);
        const auto& r = rt[x.correlation];
        const std::uint64_t hash = correlation_hash(x.key, r.seed);
        const std::size_t q = shard_of(hash) * levels + r.spec->level;
        scatter_hash[i] = hash;
        scatter_queue[i] = static_cast<std::uint32_t>(q);
        ++start[q + 1];
      }
      chunk_max[c] = max_time;
      chunk_late[c] = late_here;
      for (std::size_t q = 0; q < queues; ++q)
        start[q + 1] += start[q];
      auto& index = chunk_index[c];
      index.resize(start[queues]);
      std::vector<std::uint32_t> at(start.begin(), start.end() - 1);
      for (std::size_t i = lo; i < hi; ++i)
        if (scatter_queue[i] != nil) index[at[scatter_queue[i]]++] = static_cast<std::uint32_t>(i);
    };
    if (chunks == 1) {
      work(0);
    } else {
      arena.execute(
          [&] { tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) { work(c); }); });
    }
    std::uint64_t late_inputs = 0;
    for (std::size_t c = 0; c < chunks; ++c) {
      late_inputs += chunk_late[c];
      max_seen = std::max(max_seen, chunk_max[c]);
    }
    return late_inputs;
  }

  /// Moves this submit's inputs for queue (shard `s`, `level`) into that queue. Shard task only.
  void gather(std::size_t s, std::uint32_t level) {
    if (scatter_inputs.empty()) return;
    const std::size_t q = s * levels + level;
    PendingQueue& pq = shards[s]->pending[level];
    std::size_t count = 0;
    for (std::size_t c = 0; c < chunk_index.size(); ++c)
      count += chunk_start[c][q + 1] - chunk_start[c][q];
    if (count == 0) return;
    reserve_for(pq.items, pq.items.size() + count);
    for (std::size_t c = 0; c < chunk_index.size(); ++c) {
      for (std::uint32_t k = chunk_start[c][q]; k < chunk_start[c][q + 1]; ++k) {
        const std::uint32_t i = chunk_index[c][k];
        const auto& x = scatter_inputs[i];
        pq.items.push_back(make_pending(x.correlation, x.time_ns, x.step, scatter_hash[i], x.value,
                                        x.ref.bits, scatter_base_seq + i,
                                        static_cast<std::uint32_t>(pq.keys.size()), x.key.size()));
        pq.keys.append(x.key);
      }
    }
  }

  void end_scatter() {
    scatter_inputs = {};
    for (auto& c : chunk_start)
      c.clear();
  }

  void process_shard(Shard& sh, std::uint32_t level, std::int64_t watermark) {
    PendingQueue& q = sh.pending[level];
    if (q.items.empty()) return;
    if (q.sorted < q.items.size()) {
      std::sort(q.items.begin() + static_cast<std::ptrdiff_t>(q.sorted), q.items.end(),
                pending_before);
      std::inplace_merge(q.items.begin(), q.items.begin() + static_cast<std::ptrdiff_t>(q.sorted),
                         q.items.end(), pending_before);
    }
    std::size_t ready = 0;
    while (ready < q.items.size() && q.items[ready].t <= watermark)
      ++ready;
    // With a million groups the table, the groups and their LRU neighbours miss every cache
    // level; a three-stage software prefetch (slot, then group, then its neighbours and key)
    // overlaps those misses. The distances are a trade-off: far enough to hide DRAM latency,
    // near enough that a group is rarely touched again in between (only a hint either way).
    constexpr std::size_t d1 = 24, d2 = 16, d3 = 8;
    const std::size_t mask = sh.slots.size() - 1;
    auto group_of = [&](std::size_t i) -> const Group* {
      const std::uint32_t gi = sh.slots[q.items[i].hash & mask];
      return gi == nil || gi >= sh.groups.size() ? nullptr : &sh.groups[gi];
    };
    // Prologue: the first d1 inputs get their stages too. Without it they would miss every
    // cache level unhidden, and with 4,096 inputs per submit over 64 shards a shard task sees
    // about 64 inputs, so a third of all lookups went unprefetched (a fixed cost per submit,
    // per shard, that larger submits diluted).
    for (std::size_t n = 0; n < std::min(ready, d1); ++n)
      __builtin_prefetch(&sh.slots[q.items[n].hash & mask]);
    for (std::size_t n = 0; n < std::min(ready, d2); ++n)
      if (const Group* g = group_of(n)) __builtin_prefetch(g);
    for (std::size_t n = 0; n < ready; ++n) {
      if (n + d1 < ready) __builtin_prefetch(&sh.slots[q.items[n + d1].hash & mask]);
      if (n + d2 < ready)
        if (const Group* g = group_of(n + d2)) __builtin_prefetch(g);
      if (n + d3 < ready) {
        if (const Group* g = group_of(n + d3)) {
          if (g->prev != nil && g->prev < sh.groups.size()) __builtin_prefetch(&sh.groups[g->prev]);
          if (g->next != nil && g->next < sh.groups.size()) __builtin_prefetch(&sh.groups[g->next]);
          __builtin_prefetch(sh.keys.data() + g->key_off);
        }
      }
      const Pending& p = q.items[n];
      apply(sh, p, std::string_view(q.keys.data() + p.key_off, p.key_len));
    }
    const std::size_t n = ready;
    if (n == q.items.size()) {
      q.items.clear();
      q.keys.clear();
    } else if (n > 0) {
      std::string keys;
      std::vector<Pending> rest(q.items.begin() + static_cast<std::ptrdiff_t>(n), q.items.end());
      for (auto& p : rest) {
        const auto off = static_cast<std::uint32_t>(keys.size());
        keys.append(q.keys, p.key_off, p.key_len);
        p.key_off = off;
      }
      q.items.swap(rest);
      q.keys.swap(keys);
    }
    q.sorted = q.items.size();
  }

  template <typename F>
  void for_each_shard(F&& f) {
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, shards.size(), 1),
                        [&](const tbb::blocked_range<std::size_t>& range) {
                          for (std::size_t i = range.begin(); i != range.end(); ++i)
                            f(i, *shards[i]);
                        });
    });
  }

  /// Feeds a level's alerts to the correlations that consume them.
  void route(const std::vector<CorrelationAlert>& level_alerts) {
    std::vector<std::string_view> fields;
    std::string key;
    for (const auto& a : level_alerts) {
      const auto& spec = specs[a.correlation];
      if (spec.consumers.empty()) continue;
      fields.clear();
      std::size_t start = 0;
      while (true) {
        const auto sep = a.key.find(group_key_separator, start);
        fields.push_back(std::string_view(a.key).substr(start, sep - start));
        if (sep == std::string::npos) break;
        start = sep + 1;
      }
      for (const auto& link : spec.consumers) {
        key.clear();
        for (std::size_t i = 0; i < link.key_fields.size(); ++i) {
          if (i) key += group_key_separator;
          const int f = link.key_fields[i];
          if (f >= 0 && static_cast<std::size_t>(f) < fields.size()) key += fields[f];
        }
        std::string_view value;
        if (link.value_field >= 0 && static_cast<std::size_t>(link.value_field) < fields.size())
          value = fields[link.value_field];
        enqueue(link.consumer, a.last_ns, link.step, key, value,
                a.refs.empty() ? 0 : a.refs.back().bits);
        ++inputs;
      }
    }
  }

  void run(std::int64_t watermark, bool closing, std::vector<CorrelationAlert>& out) {
    for (std::uint32_t level = 0; level < levels; ++level) {
      for_each_shard([&](std::size_t index, Shard& sh) {
        gather(index, level);
        process_shard(sh, level, watermark);
        if (closing) {
          for (auto& g : sh.groups)
            if (specs[g.corr].level == level && !rt[g.corr].monotone) close_window(sh, g);
        }
      });
      std::vector<CorrelationAlert> level_alerts;
      for (auto& sh : shards) {
        for (auto& a : sh->out)
          level_alerts.push_back(std::move(a));
        sh->out.clear();
      }
      sort_alerts(level_alerts);
      route(level_alerts);
      alerts += level_alerts.size();
      for (auto& a : level_alerts)
        out.push_back(std::move(a));
    }
    released = std::max(released, watermark);
    publish();
  }

  static void sort_alerts(std::vector<CorrelationAlert>& v) {
    std::sort(v.begin(), v.end(), [](const CorrelationAlert& a, const CorrelationAlert& b) {
      if (a.last_ns != b.last_ns) return a.last_ns < b.last_ns;
      if (a.correlation != b.correlation) return a.correlation < b.correlation;
      if (a.key != b.key) return a.key < b.key;
      return a.first_ns < b.first_ns;
    });
  }

  CorrelationStats compute_stats() const {
    CorrelationStats st;
    st.inputs = inputs;
    st.late = late;
    st.alerts = alerts;
    st.restored_groups = restored_groups;
    st.dropped_restored = dropped_restored;
    st.reload_dropped = reload_dropped;
    st.reloads = reloads;
    st.watermark_ns = released;
    for (const auto& sh : shards) {
      st.applied += sh->applied;
      st.evicted += sh->evicted;
      st.expired += sh->expired;
      st.non_numeric += sh->non_numeric;
      st.window_overflow += sh->window_overflow;
      st.groups += sh->groups.size();
      for (const auto& q : sh->pending)
        st.pending += q.items.size();
      st.bytes += sh->slots.capacity() * sizeof(std::uint32_t) +
                  sh->groups.capacity() * sizeof(Group) + sh->keys.capacity() +
                  sh->heap_slots * sizeof(Slot);
    }
    return st;
  }

  void publish() {
    const auto st = compute_stats();
    const std::uint64_t v[n_published] = {st.inputs,
                                          st.applied,
                                          st.late,
                                          st.pending,
                                          st.alerts,
                                          st.groups,
                                          st.evicted,
                                          st.expired,
                                          st.restored_groups,
                                          st.dropped_restored,
                                          static_cast<std::uint64_t>(st.watermark_ns),
                                          st.bytes,
                                          st.non_numeric,
                                          st.window_overflow,
                                          st.reload_dropped,
                                          st.reloads};
    for (int i = 0; i < n_published; ++i)
      published[i].store(v[i], std::memory_order_relaxed);
  }
};

CorrelationEngine::CorrelationEngine(std::vector<CorrelationSpec> specs, CorrelationConfig config)
    : impl_(std::make_unique<Impl>(std::move(specs), config)) {}

CorrelationEngine::~CorrelationEngine() = default;

const std::vector<CorrelationSpec>& CorrelationEngine::specs() const {
  return impl_->specs;
}

const CorrelationConfig& CorrelationEngine::config() const {
  return impl_->config;
}

void CorrelationEngine::submit(std::span<const CorrelationInput> inputs,
                               std::vector<CorrelationAlert>& out) {
  auto& d = *impl_;
  d.inputs += inputs.size();  // each input's rule index is checked where it is hashed
  d.late += d.enqueue_all(inputs);
  const std::int64_t tolerance = std::max<std::int64_t>(0, d.config.tolerance_ns);
  const std::int64_t watermark =
      d.max_seen < no_time + tolerance ? no_time : d.max_seen - tolerance;
  if (d.max_seen != no_time &&
      (watermark > d.released || (watermark == d.released && !inputs.empty()))) {
    d.run(watermark, false, out);  // gathers the inputs in its shard tasks
  } else {
    for (std::size_t sh = 0; sh < d.shards.size(); ++sh)
      for (std::uint32_t level = 0; level < d.levels; ++level)
        d.gather(sh, level);
    d.publish();
  }
  d.end_scatter();
}

void CorrelationEngine::finish(std::vector<CorrelationAlert>& out) {
  impl_->run(std::numeric_limits<std::int64_t>::max(), true, out);
  impl_->released = impl_->max_seen;
}

void CorrelationEngine::drain(std::vector<CorrelationAlert>& out) {
  auto& d = *impl_;
  if (d.max_seen == no_time || d.max_seen <= d.released) return;
  d.run(d.max_seen, false, out);
}

CorrelationStats CorrelationEngine::stats() const {
  const auto& p = impl_->published;
  CorrelationStats st;
  st.inputs = p[0].load(std::memory_order_relaxed);
  st.applied = p[1].load(std::memory_order_relaxed);
  st.late = p[2].load(std::memory_order_relaxed);
  st.pending = p[3].load(std::memory_order_relaxed);
  st.alerts = p[4].load(std::memory_order_relaxed);
  st.groups = p[5].load(std::memory_order_relaxed);
  st.evicted = p[6].load(std::memory_order_relaxed);
  st.expired = p[7].load(std::memory_order_relaxed);
  st.restored_groups = p[8].load(std::memory_order_relaxed);
  st.dropped_restored = p[9].load(std::memory_order_relaxed);
  st.watermark_ns = static_cast<std::int64_t>(p[10].load(std::memory_order_relaxed));
  st.bytes = p[11].load(std::memory_order_relaxed);
  st.non_numeric = p[12].load(std::memory_order_relaxed);
  st.window_overflow = p[13].load(std::memory_order_relaxed);
  st.reload_dropped = p[14].load(std::memory_order_relaxed);
  st.reloads = p[15].load(std::memory_order_relaxed);
  return st;
}

// ---- snapshot ----------------------------------------------------------------------------
//
// Format (host byte order; a snapshot is read back by the same build on the same machine):
//   "SLCORR01" | i64 max_seen | i64 released | u64 next_seq | u64 inputs, late, alerts
//   | u64 n_groups | n × group | u64 n_pending | n × pending
// group:   str corr_id | str key | i64 last, first | u64 count | u32 size | size × (i64,u64,u64)
// pending: str corr_id | i64 t | u64 seq, value_hash, ref | u16 step | str key
// str:     u32 length | bytes

namespace {

constexpr char snapshot_magic[8] = {'S', 'L', 'C', 'O', 'R', 'R', '0', '1'};

class Writer {
 public:
  void raw(const void* p, std::size_t n) { buf_.append(static_cast<const char*>(p), n); }
  template <typename T>
  void put(T v) {
    raw(&v, sizeof v);
  }
  void str(std::string_view s) {
    put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  bool get(T& v) {
    if (b_.size() - pos_ < sizeof v) return false;
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!get(n) || b_.size() - pos_ < n) return false;
    s.assign(b_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

}  // namespace

namespace {

/// All state of `d` in the snapshot format.
std::string serialize_state(const CorrelationEngine::Impl& d) {
  auto corr_id = [&](std::uint32_t c) -> const std::string& {
    const auto& r = d.specs[c].rule;
    return r.id.empty() ? r.title : r.id;
  };
  Writer w;
  w.raw(snapshot_magic, sizeof snapshot_magic);
  w.put(d.max_seen);
  w.put(d.released);
  w.put(d.next_seq);
  w.put(d.inputs);
  w.put(d.late);
  w.put(d.alerts);
  // Groups in LRU order per shard, merged by last event time, so a restore into any shard
  // count rebuilds the same per-shard order.
  std::vector<std::pair<const Shard*, std::uint32_t>> all;
  for (const auto& sh : d.shards)
    for (auto gi = sh->head; gi != nil; gi = sh->groups[gi].next)
      all.emplace_back(sh.get(), gi);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first->groups[a.second].last_ns < b.first->groups[b.second].last_ns;
  });
  w.put<std::uint64_t>(all.size());
  for (const auto& [sh, gi] : all) {
    const Group& g = sh->groups[gi];
    w.str(corr_id(g.corr));
    w.str(CorrelationEngine::Impl::key_of(*sh, g));
    w.put(g.last_ns);
    w.put(g.first_ns);
    w.put(g.count);
    w.put(g.size);
    for (std::uint32_t i = 0; i < g.size; ++i) {
      const Entry e = d.get(g, i);
      w.put(e.t);
      w.put(e.ref);
      w.put(e.aux);
    }
  }
  std::uint64_t n_pending = 0;
  for (const auto& sh : d.shards)
    for (const auto& q : sh->pending)
      n_pending += q.items.size();
  w.put(n_pending);
  for (const auto& sh : d.shards) {
    for (const auto& q : sh->pending) {
      for (const auto& p : q.items) {
        w.str(corr_id(p.corr));
        w.put(p.t);
        w.put(p.seq);
        w.put(p.value_hash);
        w.put(p.ref);
        w.put(p.step);
        w.str(std::string_view(q.keys.data() + p.key_off, p.key_len));
      }
    }
  }
  return w.bytes();
}

/// What `load_state` read: groups and pending inputs kept, and those dropped because their
/// rule is not loaded (or is listed in `drop`).
struct LoadCounts {
  std::uint64_t groups = 0;
  std::uint64_t dropped_groups = 0;
  std::uint64_t dropped_pending = 0;
};

Result<LoadCounts> load_state(CorrelationEngine::Impl& d, std::string_view bytes,
                              const std::string& origin,
                              const std::unordered_map<std::string, bool>& drop);

}  // namespace

Result<void> CorrelationEngine::save(const std::string& path) const {
  const std::string bytes = serialize_state(*impl_);
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error::from_errno("correlation snapshot: cannot write " + tmp);
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                  std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok) return Error::from_errno("correlation snapshot: cannot write " + tmp, err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Error::from_errno("correlation snapshot: cannot rename " + tmp + " to " + path);
  return {};
}

Result<void> CorrelationEngine::restore(const std::string& path) {
  auto& d = *impl_;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    return Error::from_errno("correlation snapshot: cannot open " + path);
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto counts = load_state(d, bytes, path, {});
  if (!counts) return counts.error();
  d.restored_groups += counts->groups;
  d.dropped_restored += counts->dropped_groups + counts->dropped_pending;
  d.publish();
  return {};
}

namespace {

Result<LoadCounts> load_state(CorrelationEngine::Impl& d, std::string_view bytes,
                              const std::string& origin,
                              const std::unordered_map<std::string, bool>& drop) {
  LoadCounts counts;
  Reader r(bytes);
  auto bad = [&] {
    return Error{"correlation snapshot " + origin + ": truncated or not a snapshot"};
  };
  char magic[8];
  for (auto& c : magic)
    if (!r.get(c)) return bad();
  if (std::memcmp(magic, snapshot_magic, 8) != 0) return bad();
  std::unordered_map<std::string, std::uint32_t> by_id;
  for (std::uint32_t c = 0; c < d.specs.size(); ++c) {
    const auto& rule = d.specs[c].rule;
    by_id.emplace(rule.id.empty() ? rule.title : rule.id, c);
  }
  std::int64_t max_seen, released;
  std::uint64_t next_seq, inputs, late, alerts, n;
  if (!r.get(max_seen) || !r.get(released) || !r.get(next_seq) || !r.get(inputs) || !r.get(late) ||
      !r.get(alerts) || !r.get(n))
    return bad();
  std::string id, key;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::int64_t last, first;
    std::uint64_t count;
    std::uint32_t size;
    if (!r.str(id) || !r.str(key) || !r.get(last) || !r.get(first) || !r.get(count) || !r.get(size))
      return bad();
    std::vector<Entry> entries(size);
    for (auto& e : entries)
      if (!r.get(e.t) || !r.get(e.ref) || !r.get(e.aux)) return bad();
    auto it = by_id.find(id);
    if (it == by_id.end() || drop.count(id) != 0) {
      ++counts.dropped_groups;
      continue;
    }
    const std::uint32_t c = it->second;
    const auto type = d.specs[c].rule.type;
    const bool per_step =
        type == CorrelationType::temporal || type == CorrelationType::temporal_ordered;
    if (per_step && size != d.rt[c].steps) {
      ++counts.dropped_groups;  // same id, other `rules` list: the old steps mean nothing now
      continue;
    }
    const std::uint64_t hash = correlation_hash(key, d.rt[c].seed);
    Shard& sh = *d.shards[d.shard_of(hash)];
    if (d.find(sh, hash, c, key) != nil) continue;
    const auto gi = d.insert(sh, hash, c, key, last);
    Group& g = sh.groups[gi];
    g.first_ns = first;
    g.count = count;
    // Per-step groups (temporal) come with all their items; windows are rebuilt item by item.
    if (!per_step) d.ensure_cap(sh, g, size);
    for (std::uint32_t k = 0; k < size; ++k)
      d.set(g, k, entries[k]);
    g.size = size;
    ++counts.groups;
  }
  if (!r.get(n)) return bad();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::int64_t t;
    std::uint64_t seq, value_hash, ref;
    std::uint16_t step;
    if (!r.str(id) || !r.get(t) || !r.get(seq) || !r.get(value_hash) || !r.get(ref) ||
        !r.get(step) || !r.str(key))
      return bad();
    auto it = by_id.find(id);
    if (it == by_id.end() || drop.count(id) != 0) {
      ++counts.dropped_pending;
      continue;
    }
    const std::uint32_t c = it->second;
    const auto& rr = d.rt[c];
    const std::uint64_t hash = correlation_hash(key, rr.seed);
    PendingQueue& q = d.shards[d.shard_of(hash)]->pending[rr.spec->level];
    Pending p{t,
              seq,
              hash,
              value_hash,
              ref,
              static_cast<std::uint32_t>(q.keys.size()),
              static_cast<std::uint32_t>(key.size()),
              c,
              step};
    q.keys += key;
    q.items.push_back(p);
  }
  d.max_seen = std::max(d.max_seen, max_seen);
  d.released = std::max(d.released, released);
  d.next_seq = std::max(d.next_seq, next_seq);
  d.inputs += inputs;
  d.late += late;
  d.alerts += alerts;
  return counts;
}

}  // namespace

bool same_definition(const CorrelationSpec& a, const CorrelationSpec& b) {
  const auto &x = a.rule, &y = b.rule;
  const auto &cx = x.condition, &cy = y.condition;
  const auto &vx = x.value_condition, &vy = y.value_condition;
  return x.type == y.type && x.rules == y.rules && x.group_by == y.group_by &&
         x.timespan_ns == y.timespan_ns && x.value_field == y.value_field && a.level == b.level &&
         cx.min == cy.min && cx.max == cy.max && cx.has_neq == cy.has_neq && cx.neq == cy.neq &&
         vx.min == vy.min && vx.min_inclusive == vy.min_inclusive && vx.max == vy.max &&
         vx.max_inclusive == vy.max_inclusive && vx.has_neq == vy.has_neq && vx.neq == vy.neq;
}

CorrelationReload CorrelationEngine::reload(std::vector<CorrelationSpec> specs) {
  auto& d = *impl_;
  CorrelationReload out;
  auto id_of = [](const CorrelationSpec& sp) -> const std::string& {
    return sp.rule.id.empty() ? sp.rule.title : sp.rule.id;
  };
  std::unordered_map<std::string, const CorrelationSpec*> old_by_id;
  for (const auto& sp : d.specs)
    old_by_id.emplace(id_of(sp), &sp);
  std::unordered_map<std::string, bool> drop;  // ids whose state must not survive
  std::unordered_map<std::string, bool> fresh_ids;
  for (const auto& sp : specs) {
    fresh_ids.emplace(id_of(sp), true);
    auto it = old_by_id.find(id_of(sp));
    if (it == old_by_id.end()) {
      ++out.added;
    } else if (same_definition(*it->second, sp)) {
      ++out.kept;
    } else {
      ++out.changed;
      drop.emplace(id_of(sp), true);
    }
  }
  for (const auto& entry : old_by_id)
    if (fresh_ids.count(entry.first) == 0) ++out.removed;

  // Through the snapshot format: it already maps groups to rules by id and rebuilds tables
  // and shards for any rule order. Reloads are rare (SIGHUP), so the copy is affordable.
  const std::string bytes = serialize_state(d);
  Impl fresh(std::move(specs), d.config);
  auto counts = load_state(fresh, bytes, "(reload)", drop);
  SLUICE_ASSERT(counts.has_value(), "the engine cannot read its own state back");
  out.kept_groups = counts->groups;
  out.dropped_groups = counts->dropped_groups;
  out.dropped_pending = counts->dropped_pending;

  // Counters kept in the shards move with them: carry the old totals over, so what the
  // metrics show never goes backwards.
  Shard& first = *fresh.shards.front();
  for (const auto& sh : d.shards) {
    first.applied += sh->applied;
    first.evicted += sh->evicted;
    first.expired += sh->expired;
    first.non_numeric += sh->non_numeric;
    first.window_overflow += sh->window_overflow;
  }
  // Swapping the vectors keeps each element where it is, so the rule pointers in `rt` stay
  // valid, and `fresh` frees the old groups with the old rules. The published counters and
  // the oneTBB arena stay with `d`.
  std::swap(d.specs, fresh.specs);
  std::swap(d.rt, fresh.rt);
  std::swap(d.shards, fresh.shards);
  std::swap(d.levels, fresh.levels);
  d.reload_dropped += out.dropped_pending;
  ++d.reloads;
  d.publish();
  return out;
}

}  // namespace sluice
