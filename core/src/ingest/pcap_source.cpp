// SPDX-License-Identifier: Apache-2.0
/// Pcap replay: libpcap reads the file, `PacketProcessor` does everything else (the same code
/// the live capture sources run).
#include "sluice/ingest/pcap_source.hpp"

#include <pcap/pcap.h>

#include "ingest/source_util.hpp"
#include "sluice/common/log.hpp"

namespace sluice {
namespace {

constexpr Logger log{"ingest.pcap"};

/// Packets between expiry sweeps. Expiry runs on packet time; a sweep is O(expired + 1), so
/// this only bounds how late (in packets) an idle flow is noticed.
constexpr std::uint64_t expire_every_packets = 4096;

}  // namespace

PcapSource::PcapSource(PcapSourceConfig config) : config_(std::move(config)) {}

PcapSource::~PcapSource() {
  if (handle_ != nullptr) pcap_close(handle_);
}

Result<void> PcapSource::open() {
  if (config_.max_message_bytes == 0) return Error{describe() + ": max_message_bytes must be > 0"};
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  handle_ = pcap_open_offline_with_tstamp_precision(config_.path.c_str(),
                                                    PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle_ == nullptr) return Error{describe() + ": " + errbuf};
  link_type_ = pcap_datalink(handle_);
  if (!link_type_supported(link_type_)) {
    const char* name = pcap_datalink_val_to_name(link_type_);
    return Error{describe() + ": unsupported link type " + std::to_string(link_type_) + " (" +
                 (name != nullptr ? name : "unknown") +
                 "); supported: Ethernet, Linux cooked v1/v2, raw IP, loopback"};
  }
  return {};
}

Result<void> PcapSource::run(SourceContext& ctx) {
  SLUICE_ASSERT(handle_ != nullptr, "PcapSource::run before a successful open");
  SLUICE_ASSERT(ctx.sink != nullptr && ctx.counters != nullptr,
                "PcapSource needs a sink and counters");
  SourceCounters& counters = *ctx.counters;
  stats_ = {};
  detail::BatchBuilder batch(ctx);
  static RateLimit truncate_limit{std::chrono::seconds(10)};
  bool sink_open = true;

  CaptureOptions options;
  options.udp_ports = config_.ports;
  options.tcp_ports = config_.ports;
  options.all_udp = config_.all_udp;
  options.split_messages = config_.split_messages;
  options.max_message_bytes = config_.max_message_bytes;
  options.flows = config_.flows;
  options.flow_table = config_.flow_table;
  options.tcp.max_streams = config_.max_flows;
  options.tcp.max_stream_buffer_bytes = config_.max_flow_buffer_bytes;
  PacketProcessor processor(options, [&](std::string_view bytes, const PeerAddress& peer,
                                         std::int64_t time_ns, bool truncated) {
    Event& e = batch.add(bytes, time_ns);
    e.peer = peer;
    if (truncated) {
      e.flags |= event_flag_truncated;
      counters.truncated.add();
      if (std::uint64_t suppressed = 0; truncate_limit.allow(suppressed))
        log.warn("{}: record from {}:{} cut at {} bytes ({} similar suppressed)", describe(),
                 peer.address_string(), peer.port, config_.max_message_bytes, suppressed);
    }
    if (!batch.flush_if_full()) sink_open = false;
  });

  pcap_pkthdr* header = nullptr;
  const u_char* bytes = nullptr;
  int rc = 0;
  std::int64_t now = 0;
  const auto link = static_cast<LinkType>(link_type_);
  while (sink_open && !ctx.stop.stop_requested() &&
         (rc = pcap_next_ex(handle_, &header, &bytes)) == 1) {
    counters.bytes.add(header->caplen);
    // With nanosecond precision requested, libpcap puts nanoseconds in tv_usec.
    now = std::int64_t{header->ts.tv_sec} * 1'000'000'000 + header->ts.tv_usec;
    processor.process(link, bytes, header->caplen, header->len, now);
    if (processor.stats().packets % expire_every_packets == 0) processor.expire(now);
  }
  if (rc == PCAP_ERROR) {
    // A damaged tail ends the replay; what was read is kept.
    counters.errors.add();
    log.warn("{}: {} (after {} packets)", describe(), pcap_geterr(handle_),
             processor.stats().packets);
  }
  processor.finish(now);
  (void)batch.flush();

  const CaptureStats& s = processor.stats();
  const auto& tcp = processor.tcp().counters();
  const auto& frag = processor.fragments().counters();
  stats_.packets = s.packets;
  stats_.udp_datagrams = s.udp_syslog_datagrams;
  stats_.tcp_segments = tcp.segments;
  stats_.truncated_packets = s.truncated;
  stats_.fragments = s.fragments;
  stats_.malformed = s.malformed_total();
  stats_.stream_gaps = tcp.gaps;
  stats_.ignored = s.not_ip + s.other_ip;
  stats_.flow_records = s.flow_records;
  stats_.capture = s;
  const std::uint64_t fragments_lost =
      frag.overlapping + frag.too_large + frag.evicted + frag.timed_out;
  counters.errors.add(s.malformed_total() + s.udp_payload_cut + tcp.gaps + fragments_lost);
  return {};
}

}  // namespace sluice
