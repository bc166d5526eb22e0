// SPDX-License-Identifier: Apache-2.0
/// Capture-path throughput on one core over pre-built packet buffers (issue 6 targets: decode
/// plus flow update at least 15 M packets/s, the 10 GbE line rate at 64-byte frames; UDP syslog
/// extraction through to parsed events at least 3 M messages/s).
///
/// - BM_DecodeFlowUpdate/flows:N: `decode_packet` + `FlowTable::update` over 8192 64-byte
///   Ethernet/IPv4 frames (3/4 of the flows TCP, 1/4 UDP) drawn from N flows, the table sized
///   for N (with 8192 frames at most 8192 flows are live; larger N spreads them in a larger,
///   colder table).
/// - BM_DecodeFlowUpdateBurst/flows:N: the same in bursts of 32 through `update_burst`, which
///   prefetches each burst's table lookups (the shape of a DPDK RX loop).
/// - BM_ProcessPacket/flows:N: the same frames through `PacketProcessor::process` (decode,
///   counters, flow update, port roles: what every capture source runs per packet).
/// - BM_ProcessBurst/flows:N: the same through `process_burst`, 32 frames a call (the DPDK path).
/// - BM_UdpSyslogToParsed: Loghub Linux + OpenSSH lines with a PRI, one per UDP datagram to port
///   514 from 256 senders, through `PacketProcessor` (flows on) into 512-record `EventBatch`es,
///   each batch parsed by `Parser` (auto format) as a worker would.
///
/// Baseline: each other (decode+flow is the floor under process; parse is the bulk of the
/// syslog path). Each run checks its answer (flows counted, every message parsed) and fails
/// otherwise.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../tests/unit/capture/packet_builder.hpp"
#include "bench_support.hpp"
#include "sluice/capture/flow_table.hpp"
#include "sluice/capture/packet_decoder.hpp"
#include "sluice/capture/packet_processor.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/parse/parser.hpp"

namespace {

using namespace sluice::test;

/// Frames in the pre-built buffer: large enough that the flow keys are not all in L1, small
/// enough that the frames themselves stay in L2 like a NIC's recently written mbufs.
constexpr std::size_t frame_count = 8192;
constexpr std::size_t frame_bytes = 64;

struct Frames {
  std::vector<std::uint8_t> buffer;  ///< frame_count frames of frame_bytes each
};

/// 64-byte minimum frames (60 without FCS, padded) over `flows` distinct 5-tuples.
Frames make_frames(std::size_t flows) {
  Frames f;
  f.buffer.resize(frame_count * frame_bytes);
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < frame_count; ++i) {
    const std::size_t flow = rng() % flows;
    const std::string src = "10." + std::to_string(flow >> 16 & 0xff) + "." +
                            std::to_string(flow >> 8 & 0xff) + "." + std::to_string(flow & 0xff);
    const auto sport = static_cast<std::uint16_t>(1024 + flow % 50000);
    std::string frame = flow % 4 == 0
                            ? ether(0x0800, ipv4(src.c_str(), "192.0.2.1", 17, udp(sport, 53, "q")))
                            : ether(0x0800, ipv4(src.c_str(), "192.0.2.1", 6,
                                                 tcp(sport, 443, 1, sluice::tcp_flag_ack, "")));
    frame.resize(frame_bytes - 4, '\0');  // Ethernet minimum: 60 bytes before the FCS
    std::memcpy(f.buffer.data() + i * frame_bytes, frame.data(), frame.size());
  }
  return f;
}

void BM_DecodeFlowUpdate(benchmark::State& state) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  const Frames frames = make_frames(flows);
  sluice::FlowTableConfig config;
  config.max_flows = flows * 2;
  std::uint64_t exported = 0;
  sluice::FlowTable table(config, [&](const sluice::FlowRecord&) { ++exported; });
  std::int64_t now = 0;
  std::uint64_t malformed = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < frame_count; ++i) {
      sluice::DecodedPacket p;
      sluice::MalformedReason reason;
      const auto status = sluice::decode_packet(
          sluice::LinkType::ethernet, frames.buffer.data() + i * frame_bytes, 60, 60, p, reason);
      if (status != sluice::DecodeStatus::ok) [[unlikely]] {
        ++malformed;
        continue;
      }
      table.update(p, ++now);
    }
  }
  if (malformed != 0 || table.size() == 0 || table.size() > flows || exported != 0) {
    state.SkipWithError("wrong answer: frames malformed, flows missing or evicted");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frame_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame_count * 64));
  state.counters["flows"] = static_cast<double>(table.size());
}
BENCHMARK(BM_DecodeFlowUpdate)->ArgName("flows")->Arg(1024)->Arg(65536)->Arg(1 << 20);

/// The same work in bursts of 32 (a DPDK RX burst): decode 32 frames, then
/// `FlowTable::update_burst`, which prefetches the burst's table lookups.
void BM_DecodeFlowUpdateBurst(benchmark::State& state) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  const Frames frames = make_frames(flows);
  sluice::FlowTableConfig config;
  config.max_flows = flows * 2;
  std::uint64_t exported = 0;
  sluice::FlowTable table(config, [&](const sluice::FlowRecord&) { ++exported; });
  std::int64_t now = 0;
  std::uint64_t malformed = 0;
  constexpr std::size_t burst = 32;
  sluice::DecodedPacket decoded[burst];
  for (auto _ : state) {
    for (std::size_t at = 0; at < frame_count; at += burst) {
      std::size_t n = 0;
      for (std::size_t i = at; i < at + burst; ++i) {
        sluice::MalformedReason reason;
        if (sluice::decode_packet(sluice::LinkType::ethernet,
                                  frames.buffer.data() + i * frame_bytes, 60, 60, decoded[n],
                                  reason) == sluice::DecodeStatus::ok) [[likely]] {
          ++n;
        } else {
          ++malformed;
        }
      }
      table.update_burst({decoded, n}, ++now);
    }
  }
  if (malformed != 0 || table.size() == 0 || table.size() > flows || exported != 0) {
    state.SkipWithError("wrong answer: frames malformed, flows missing or evicted");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frame_count));
  state.counters["flows"] = static_cast<double>(table.size());
}
BENCHMARK(BM_DecodeFlowUpdateBurst)->ArgName("flows")->Arg(1024)->Arg(65536)->Arg(1 << 20);

void BM_ProcessPacket(benchmark::State& state) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  const Frames frames = make_frames(flows);
  sluice::CaptureOptions options;
  options.flow_table.max_flows = flows * 2;
  std::uint64_t records = 0;
  sluice::PacketProcessor processor(options, [&](std::string_view, const sluice::PeerAddress&,
                                                 std::int64_t, bool) { ++records; });
  std::int64_t now = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < frame_count; ++i)
      processor.process(sluice::LinkType::ethernet, frames.buffer.data() + i * frame_bytes, 60, 60,
                        ++now);
  }
  if (processor.stats().malformed_total() != 0 || records != 0 || processor.flows().size() == 0) {
    state.SkipWithError("wrong answer: malformed frames, stray records or no flows");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frame_count));
}
BENCHMARK(BM_ProcessPacket)->ArgName("flows")->Arg(1024)->Arg(65536);

/// The same frames through `PacketProcessor::process_burst` in bursts of 32, as the DPDK
/// source calls it.
void BM_ProcessBurst(benchmark::State& state) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  const Frames frames = make_frames(flows);
  sluice::CaptureOptions options;
  options.flow_table.max_flows = flows * 2;
  std::uint64_t records = 0;
  sluice::PacketProcessor processor(options, [&](std::string_view, const sluice::PeerAddress&,
                                                 std::int64_t, bool) { ++records; });
  std::vector<sluice::RawFrame> raw;
  for (std::size_t i = 0; i < frame_count; ++i)
    raw.push_back({frames.buffer.data() + i * frame_bytes, 60, 60});
  std::int64_t now = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < frame_count; at += 32)
      processor.process_burst(sluice::LinkType::ethernet, {raw.data() + at, 32}, ++now);
  }
  if (processor.stats().malformed_total() != 0 || records != 0 || processor.flows().size() == 0) {
    state.SkipWithError("wrong answer: malformed frames, stray records or no flows");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frame_count));
}
BENCHMARK(BM_ProcessBurst)->ArgName("flows")->Arg(1024)->Arg(65536);

void BM_UdpSyslogToParsed(benchmark::State& state) {
  auto lines = sluice::bench::load_lines("loghub/Linux/Linux_2k.log");
  const auto ssh = sluice::bench::load_lines("loghub/OpenSSH/OpenSSH_2k.log");
  lines.insert(lines.end(), ssh.begin(), ssh.end());
  if (lines.empty()) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  std::vector<std::string> packets;
  std::size_t payload_bytes = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string msg = "<38>" + lines[i];
    payload_bytes += msg.size();
    const std::string src = "10.0.0." + std::to_string(i % 256);
    packets.push_back(
        ether(0x0800, ipv4(src.c_str(), "10.0.1.1", 17,
                           udp(static_cast<std::uint16_t>(40000 + i % 256), 514, msg))));
  }
  sluice::Parser parser;
  sluice::EventBatch batch(0, sluice::EventBatch::default_capacity);
  std::uint64_t parsed = 0;
  std::uint64_t records = 0;
  auto parse_batch = [&] {
    for (auto& e : batch.events()) {
      parser.parse(e, batch.arena());
      parsed += e.status == sluice::ParseStatus::parsed;
    }
    batch.clear();
  };
  sluice::CaptureOptions options;
  options.flow_table.max_flows = 4096;
  sluice::PacketProcessor processor(
      options,
      [&](std::string_view bytes, const sluice::PeerAddress& peer, std::int64_t time_ns, bool) {
        ++records;
        sluice::Event& e = batch.add_record(bytes, time_ns);
        e.peer = peer;
        if (batch.size() == sluice::EventBatch::default_capacity) parse_batch();
      });
  std::int64_t now = 1'770'724'800'000'000'000;
  for (auto _ : state) {
    for (const auto& p : packets)
      processor.process(sluice::LinkType::ethernet, bytes(p), p.size(), p.size(), ++now);
  }
  parse_batch();
  if (records != state.iterations() * packets.size() || parsed != records) {
    state.SkipWithError("wrong answer: not every datagram became a parsed event");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * packets.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}
BENCHMARK(BM_UdpSyslogToParsed);

}  // namespace

BENCHMARK_MAIN();
