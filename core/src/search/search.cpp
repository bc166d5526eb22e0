// SPDX-License-Identifier: Apache-2.0
/// Query execution over a store: unit listing and pruning, parallel scans on oneTBB, the ordered
/// merge of per-unit results, and aggregations with thread-local partial state (combined and
/// finalized on the calling thread).
#include "sluice/search/search.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "sluice/common/assert.hpp"
#include "sluice/output/json_lines.hpp"
#include "store_units.hpp"

namespace sluice::search {
namespace {

constexpr auto time_min = std::numeric_limits<std::int64_t>::min();
constexpr auto time_max = std::numeric_limits<std::int64_t>::max();

/// Per-thread scan state: a matcher and an arena for decoded fields.
struct Worker {
  std::unique_ptr<Matcher> matcher;
  std::unique_ptr<detail::UnitScratch> scratch = std::make_unique<detail::UnitScratch>();
  std::uint64_t scanned = 0;
};

/// The units that survive time and index pruning, in order of their oldest event. The index
/// checks run in parallel: they load the index areas of blocks that the segment token filters
/// let through (a CRC32C and a parse each). Blocks whose index area is corrupt go to
/// `stats.errors`, in unit order.
std::vector<const detail::Unit*> surviving_units(const detail::StoreUnits& store,
                                                 const CompiledQuery& query,
                                                 const SearchOptions& options, SearchStats& stats) {
  using Verdict = detail::StoreUnits::Verdict;
  const auto& all = store.units();
  enum : std::uint8_t { keep, pruned_time, pruned_index, corrupt };
  std::vector<std::uint8_t> verdicts(all.size(), keep);
  tbb::parallel_for(std::size_t{0}, all.size(), [&](std::size_t i) {
    const detail::Unit& u = all[i];
    if (u.max_time < options.from_ns || u.min_time >= options.to_ns) {
      verdicts[i] = pruned_time;
      return;
    }
    switch (store.may_match(u, query)) {
      case Verdict::may_match:
        return;
      case Verdict::no_match:
        verdicts[i] = pruned_index;
        return;
      case Verdict::corrupt:
        verdicts[i] = corrupt;
        return;
    }
    SLUICE_UNREACHABLE();
  });
  std::vector<const detail::Unit*> out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    switch (verdicts[i]) {
      case keep:
        out.push_back(&all[i]);
        break;
      case pruned_time:
        ++stats.units_pruned_time;
        break;
      case pruned_index:
        ++stats.units_pruned_index;
        break;
      default: {
        const detail::Unit& u = all[i];
        const BlockInfo& b = u.segment->block(u.block_index);
        stats.errors.push_back(SegmentError{u.segment->path(), b.data_offset, b.error});
        break;
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const detail::Unit* a, const detail::Unit* b) {
    return a->min_time < b->min_time;
  });
  return out;
}

bool hit_after(const SearchHit& a, const SearchHit& b) {
  if (a.time_ns != b.time_ns) return a.time_ns > b.time_ns;
  return a.sequence > b.sequence;
}

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CountMap = std::unordered_map<std::string, std::uint64_t, TransparentHash, std::equal_to<>>;

/// Thread-local aggregation state.
struct AggState {
  std::uint64_t count = 0;
  CountMap by_value;
  std::unordered_map<std::int64_t, std::uint64_t> by_bucket;
};

std::int64_t bucket_of(std::int64_t t, std::int64_t span) {
  std::int64_t b = t / span;
  if (t % span < 0) --b;
  return b * span;
}

void add_value(CountMap& m, std::string_view v, std::uint64_t n) {
  auto it = m.find(v);
  if (it == m.end()) {
    m.emplace(std::string(v), n);
  } else {
    it->second += n;
  }
}

}  // namespace

Result<SearchStats> search_events(const std::filesystem::path& dir, const CompiledQuery& query,
                                  const SearchOptions& options, const RenderFn& render,
                                  const EmitFn& emit) {
  auto store = detail::StoreUnits::open(dir, options.from_ns, options.to_ns);
  if (!store) return store.error();
  SearchStats stats;
  stats.segments = store->segment_count();
  stats.units = store->units().size();
  stats.segments_skipped = store->segments_skipped();
  stats.errors = store->open_errors();
  const auto units = surviving_units(*store, query, options, stats);

  tbb::enumerable_thread_specific<Worker> workers([&] {
    Worker w;
    w.matcher = query.make_matcher();
    return w;
  });
  std::mutex errors_mutex;
  // A wave of a few units per thread keeps every core busy while the merge can emit early.
  const std::size_t wave = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()) * 4;
  std::vector<SearchHit> heap;
  std::uint64_t emitted = 0;
  bool stopped = false;
  SearchProgress progress;
  progress.units_total = units.size();
  std::vector<std::vector<SearchHit>> results;
  for (std::size_t pos = 0; pos < units.size() && !stopped;) {
    const std::size_t end = std::min(units.size(), pos + wave);
    results.assign(end - pos, {});
    tbb::parallel_for(pos, end, [&](std::size_t i) {
      Worker& w = workers.local();
      auto& out = results[i - pos];
      auto err = store->scan(*units[i], *w.scratch, [&](const StoredEvent& ev) {
        ++w.scanned;
        const std::int64_t t = ev.event.event_time_ns;
        if (t < options.from_ns || t >= options.to_ns) return;
        if (!w.matcher->matches(ev)) return;
        SearchHit hit;
        hit.time_ns = t;
        hit.sequence = ev.sequence;
        if (render) render(ev, hit.text);
        out.push_back(std::move(hit));
      });
      if (err) {
        std::lock_guard lock(errors_mutex);
        stats.errors.push_back(std::move(*err));
      }
    });
    for (auto& r : results) {
      for (auto& h : r) {
        heap.push_back(std::move(h));
        std::push_heap(heap.begin(), heap.end(), hit_after);
      }
      progress.events_matched += r.size();
    }
    pos = end;
    progress.units_done = pos;
    const std::int64_t threshold = pos < units.size() ? units[pos]->min_time : time_max;
    while (!heap.empty() && heap.front().time_ns < threshold) {
      std::pop_heap(heap.begin(), heap.end(), hit_after);
      const bool go_on = emit(heap.back());
      heap.pop_back();
      ++emitted;
      if (!go_on || (options.limit != 0 && emitted >= options.limit)) {
        stopped = true;
        break;
      }
    }
    if (options.progress) {
      progress.events_scanned = 0;
      for (const auto& w : workers)
        progress.events_scanned += w.scanned;
      options.progress(progress);
    }
  }
  for (const auto& w : workers) {
    stats.events_scanned += w.scanned;
    stats.scan_errors += w.matcher->scan_errors();
  }
  stats.events_matched = progress.events_matched;
  std::sort(stats.errors.begin(), stats.errors.end(),
            [](const SegmentError& a, const SegmentError& b) { return a.path < b.path; });
  return stats;
}

Result<AggregateResult> aggregate(const std::filesystem::path& dir, const CompiledQuery& query,
                                  const SearchOptions& options) {
  auto store = detail::StoreUnits::open(dir, options.from_ns, options.to_ns);
  if (!store) return store.error();
  AggregateResult result;
  const Aggregation& agg = query.query().aggregation;
  result.kind = agg.kind == Aggregation::Kind::none ? Aggregation::Kind::count : agg.kind;
  SearchStats& stats = result.stats;
  stats.segments = store->segment_count();
  stats.units = store->units().size();
  stats.segments_skipped = store->segments_skipped();
  stats.errors = store->open_errors();
  const auto units = surviving_units(*store, query, options, stats);

  tbb::enumerable_thread_specific<Worker> workers([&] {
    Worker w;
    w.matcher = query.make_matcher();
    return w;
  });
  tbb::enumerable_thread_specific<AggState> states;
  std::mutex errors_mutex;
  std::atomic<std::uint64_t> fast_units{0};
  const bool by_field =
      result.kind == Aggregation::Kind::count_by || result.kind == Aggregation::Kind::top;
  const bool raw_count = result.kind == Aggregation::Kind::count && query.raw_only();
  SearchProgress progress;
  progress.units_total = units.size();
  const std::size_t wave = std::max<std::size_t>(
      units.size() / 20, static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()) * 4);
  for (std::size_t pos = 0; pos < units.size();) {
    const std::size_t end = std::min(units.size(), pos + wave);
    tbb::parallel_for(pos, end, [&](std::size_t i) {
      const detail::Unit& unit = *units[i];
      AggState& st = states.local();
      // Whole-unit answers from block metadata: every event of the unit is inside the time range
      // and the query matches everything.
      const bool whole = unit.min_time >= options.from_ns && unit.max_time < options.to_ns &&
                         query.matches_everything();
      if (whole && store->fast_count(unit, result.kind, agg.field, st.count,
                                     [&](auto v, auto n) { add_value(st.by_value, v, n); })) {
        fast_units.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      Worker& w = workers.local();
      if (raw_count && unit.block != nullptr && unit.min_time >= options.from_ns &&
          unit.max_time < options.to_ns) {
        // A count of a query on the raw line alone, over a block wholly inside the time range:
        // only the raw lines are needed, the other fields are never decoded.
        StoredEvent ev;
        auto err = store->scan_raw(unit, *w.scratch, [&](std::string_view raw) {
          ++w.scanned;
          ev.event.raw = raw;
          if (w.matcher->matches(ev)) ++st.count;
        });
        if (err) {
          std::lock_guard lock(errors_mutex);
          stats.errors.push_back(std::move(*err));
        }
        return;
      }
      char buf[field_buffer_bytes];
      auto err = store->scan(unit, *w.scratch, [&](const StoredEvent& ev) {
        ++w.scanned;
        const std::int64_t t = ev.event.event_time_ns;
        if (t < options.from_ns || t >= options.to_ns) return;
        if (!w.matcher->matches(ev)) return;
        ++st.count;
        if (by_field) {
          if (auto v = field_value(ev, agg.field, buf)) add_value(st.by_value, *v, 1);
        } else if (result.kind == Aggregation::Kind::timechart) {
          ++st.by_bucket[bucket_of(t, agg.span_ns)];
        }
      });
      if (err) {
        std::lock_guard lock(errors_mutex);
        stats.errors.push_back(std::move(*err));
      }
    });
    pos = end;
    if (options.progress) {
      progress.units_done = pos;
      progress.events_scanned = 0;
      for (const auto& w : workers)
        progress.events_scanned += w.scanned;
      progress.events_matched = 0;
      for (const auto& s : states)
        progress.events_matched += s.count;
      options.progress(progress);
    }
  }
  // Combine the thread-local partials and finalize on this thread.
  CountMap by_value;
  std::unordered_map<std::int64_t, std::uint64_t> by_bucket;
  for (auto& s : states) {
    result.count += s.count;
    for (auto& [k, v] : s.by_value)
      add_value(by_value, k, v);
    for (auto& [k, v] : s.by_bucket)
      by_bucket[k] += v;
  }
  for (const auto& w : workers) {
    stats.events_scanned += w.scanned;
    stats.scan_errors += w.matcher->scan_errors();
  }
  stats.units_fast = fast_units.load();
  stats.events_matched = result.count;
  if (by_field) {
    for (auto& [k, v] : by_value)
      result.rows.push_back(AggregateRow{k, v, 0});
    std::sort(result.rows.begin(), result.rows.end(),
              [](const AggregateRow& a, const AggregateRow& b) {
                return a.count != b.count ? a.count > b.count : a.key < b.key;
              });
    if (result.kind == Aggregation::Kind::top && result.rows.size() > agg.top_n)
      result.rows.resize(agg.top_n);
  } else if (result.kind == Aggregation::Kind::timechart && !by_bucket.empty()) {
    std::int64_t lo = time_max, hi = time_min;
    for (const auto& [k, v] : by_bucket) {
      lo = std::min(lo, k);
      hi = std::max(hi, k);
    }
    // Empty buckets in between are rows too (a chart needs its zeros), up to a sane number.
    constexpr std::int64_t max_rows = 1'000'000;
    const bool dense = (hi - lo) / agg.span_ns < max_rows;
    std::vector<std::int64_t> keys;
    if (dense) {
      for (std::int64_t b = lo; b <= hi; b += agg.span_ns)
        keys.push_back(b);
    } else {
      for (const auto& [k, v] : by_bucket)
        keys.push_back(k);
      std::sort(keys.begin(), keys.end());
    }
    for (auto b : keys) {
      AggregateRow row;
      append_rfc3339(row.key, b);
      row.bucket_ns = b;
      auto it = by_bucket.find(b);
      row.count = it == by_bucket.end() ? 0 : it->second;
      result.rows.push_back(std::move(row));
    }
  }
  std::sort(stats.errors.begin(), stats.errors.end(),
            [](const SegmentError& a, const SegmentError& b) { return a.path < b.path; });
  return result;
}

}  // namespace sluice::search
