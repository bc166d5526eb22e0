// SPDX-License-Identifier: Apache-2.0
/// `PcapSource` on the real captures in the shared data folder (skipped when absent) and on
/// captures written here with libpcap, whose contents are known byte for byte: link types,
/// VLAN tags, fragments, truncated packets, and TCP streams with out-of-order, retransmitted
/// and missing segments.
#include "sluice/ingest/pcap_source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tests_support.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct Record {
  std::string raw;
  PeerAddress peer;
  std::uint8_t flags = 0;
  std::int64_t time_ns = 0;
};

class CollectingSink final : public BatchSink {
 public:
  bool push(BatchPtr batch) override {
    for (const auto& e : batch->events())
      records.push_back({std::string(e.raw), e.peer, e.flags, e.receive_time_ns});
    return true;
  }
  std::vector<Record> records;
};

struct Replay {
  std::vector<Record> records;
  PcapStats stats;
  std::uint64_t errors = 0;
  std::uint64_t truncated = 0;
  std::uint64_t counted_records = 0;

  std::vector<std::string> raws() const {
    std::vector<std::string> out;
    for (const auto& r : records)
      out.push_back(r.raw);
    return out;
  }
};

Replay replay(PcapSourceConfig config, std::size_t batch_capacity = 7) {
  PcapSource source(std::move(config));
  Replay out;
  const auto opened = source.open();
  EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().message);
  if (!opened) return out;
  CollectingSink sink;
  SourceCounters counters;
  SourceContext ctx;
  ctx.sink = &sink;
  ctx.counters = &counters;
  ctx.batch_capacity = batch_capacity;
  EXPECT_TRUE(source.run(ctx).has_value());
  out.records = std::move(sink.records);
  out.stats = source.stats();
  out.errors = counters.errors.value();
  out.truncated = counters.truncated.value();
  out.counted_records = counters.records.value();
  return out;
}

Replay replay_path(const fs::path& path) {
  PcapSourceConfig c;
  c.path = path;
  return replay(c);
}

// ---------------------------------------------------------------------------------------------
// Real captures (see pcap/SOURCES.md in the data folder).

TEST(PcapSourceReal, SingleUdpMessage) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/syslog-single-udp.pcap");
  const auto r = replay_path(path);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].raw, "<133>Apr  5 12:56:51 robin: Hello, syslog!");
  EXPECT_EQ(r.records[0].peer.address_string(), "127.0.0.1");
  EXPECT_EQ(r.records[0].peer.port, 57067);
  // The packet's timestamp, 19:56:51.424495 (microsecond capture).
  EXPECT_EQ(r.records[0].time_ns % 1'000'000'000, 424'495'000);
  EXPECT_EQ(r.errors, 0u);
}

TEST(PcapSourceReal, RealUdpTrafficWithVlanPppoeAndTunnels) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/syslog.pcap");
  const auto r = replay_path(path);
  // 94 packets: 83 UDP syslog datagrams (from or to port 514; 24 behind VLAN tags, 6 in PPPoE
  // sessions, 6 in 6in4 tunnels), and 11 TCP packets of a non-syslog port.
  EXPECT_EQ(r.stats.packets, 94u);
  EXPECT_EQ(r.stats.udp_datagrams, 83u);
  EXPECT_EQ(r.records.size(), 83u);
  EXPECT_EQ(r.counted_records, 83u);
  EXPECT_EQ(r.errors, 0u);
  std::size_t v6 = 0;
  std::size_t pppoe = 0;
  for (const auto& rec : r.records) {
    EXPECT_EQ(rec.raw.front(), '<') << rec.raw;
    EXPECT_NE(rec.raw.back(), '\n');
    EXPECT_NE(rec.raw.back(), '\0');
    if (rec.peer.family == 6) ++v6;
    if (rec.peer.address_string() == "95.136.242.54") ++pppoe;
  }
  EXPECT_EQ(v6, 6u);
  EXPECT_EQ(pppoe, 2u);
}

TEST(PcapSourceReal, TcpMixedOctetCountingAndLf) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/tcp-syslog.pcap");
  const auto r = replay_path(path);
  // Frames 1 and 3 are octet-counted (their counted bytes end in a space), 2 and 4 LF-framed.
  EXPECT_EQ(r.raws(), (std::vector<std::string>{
                          "<13>Oct 11 22:14:15 mymachine su: 'su root' failed ",
                          "<14>Oct 11 22:14:16 mymachine su: 'su root' failed",
                          "<15>Oct 11 22:14:17 mymachine su: 'su bob' failed ",
                          "<16>Oct 11 22:14:18 mymachine su: 'su bob' failed",
                      }));
  for (const auto& rec : r.records) {
    EXPECT_EQ(rec.peer.address_string(), "192.168.1.1");
    EXPECT_EQ(rec.peer.port, 12345);
  }
  EXPECT_EQ(r.errors, 0u);
}

TEST(PcapSourceReal, TcpNonTransparent) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/tcp-syslog-nontransparent.pcap");
  const auto r = replay_path(path);
  EXPECT_EQ(r.raws(), (std::vector<std::string>{
                          "<14>Oct 11 22:14:16 mymachine su: 'su root' failed",
                          "<16>Oct 11 22:14:18 mymachine su: 'su bob' failed",
                      }));
}

TEST(PcapSourceReal, TcpWithTruncatedSegmentsResyncs) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/rsh-syslog-false-positive.pcap");
  const auto r = replay_path(path);
  // Snap length 1024: segments 6 (1032 bytes) and 7 (1348 bytes) were cut. Each is a known
  // hole; framing resumes at the first LF after them. Worked out from the capture: 12 lines
  // before the holes, 3 whole lines after.
  EXPECT_EQ(r.stats.truncated_packets, 2u);
  EXPECT_EQ(r.stats.stream_gaps, 2u);
  EXPECT_EQ(r.errors, 2u);
  ASSERT_EQ(r.records.size(), 15u);
  for (const auto& rec : r.records) {
    EXPECT_EQ(rec.raw.rfind("<167>2016-05-24T09:50:5", 0), 0u) << rec.raw;
    EXPECT_EQ(rec.peer.address_string(), "172.31.78.129");
  }
  EXPECT_EQ(r.records[0].raw.size(), 239u);
  EXPECT_EQ(r.records[12].raw.substr(0, 37), "<167>2016-05-24T09:50:53.006784+02:00");
}

TEST(PcapSourceReal, MissingPriIsStillARecord) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/syslog-missing-pri.pcap");
  const auto r = replay_path(path);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].raw.rfind("This is not really a syslog message #173538", 0), 0u);
}

TEST(PcapSourceReal, EthernetPaddingIsNotPayload) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/fake-syslog-with-padding.pcap");
  const auto r = replay_path(path);
  // Each datagram's UDP length is 9: one payload byte, 'X'; the rest is Ethernet padding.
  EXPECT_EQ(r.raws(), std::vector<std::string>(5, "X"));
}

TEST(PcapSourceReal, FuzzedCaptureIsReadSafely) {
  SLUICE_REQUIRE_DATA(path, "pcap/fuzz/randpkt-syslog.pcap");
  const auto r = replay_path(path);
  EXPECT_EQ(r.stats.packets, 1000u);
  EXPECT_EQ(r.counted_records, r.records.size());
  for (const auto& rec : r.records)
    EXPECT_FALSE(rec.raw.empty());
}

TEST(PcapSourceReal, AttackCapturesHaveNoSyslog) {
  SLUICE_REQUIRE_DATA(dir, "pcap/attack");
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto r = replay_path(entry.path());
    EXPECT_GT(r.stats.packets, 0u) << entry.path();
    // synscan.pcap probes port 514 with SYNs only: segments, but no bytes.
    EXPECT_TRUE(r.records.empty()) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 15u);
}

TEST(PcapSourceReal, AllUdpTakesEveryDatagram) {
  SLUICE_REQUIRE_DATA(path, "pcap/attack/dns-tunnel-iodine.pcap");
  PcapSourceConfig c;
  c.path = path;
  c.all_udp = true;
  const auto r = replay(c);
  EXPECT_EQ(r.stats.udp_datagrams, 434u);  // tcpdump: 434 of 438 packets are UDP
  EXPECT_GT(r.records.size(), 0u);
}

TEST(PcapSourceReal, LinuxCookedCaptureTcp) {
  SLUICE_REQUIRE_DATA(path, "pcap/attack/dns2tcp_tunnel.pcap");
  PcapSourceConfig c;
  c.path = path;
  c.ports = {443};  // not syslog, but it exercises SLL and reassembly on a real stream
  const auto r = replay(c);
  EXPECT_EQ(r.stats.packets, 50u);
  EXPECT_GT(r.stats.tcp_segments, 0u);
  EXPECT_EQ(r.stats.malformed, 0u);
}

// ---------------------------------------------------------------------------------------------
// Captures written here.

std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string be32(std::uint32_t v) {
  return be16(static_cast<std::uint16_t>(v >> 16)) + be16(static_cast<std::uint16_t>(v));
}

std::string v4(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return std::string(reinterpret_cast<const char*>(&a), 4);
}
std::string v6(const char* text) {
  in6_addr a{};
  inet_pton(AF_INET6, text, &a);
  return std::string(reinterpret_cast<const char*>(&a), 16);
}

std::string udp(std::uint16_t sport, std::uint16_t dport, std::string_view payload) {
  return be16(sport) + be16(dport) + be16(static_cast<std::uint16_t>(8 + payload.size())) +
         be16(0) + std::string(payload);
}

constexpr std::uint8_t fin = 0x01;
constexpr std::uint8_t syn_flag = 0x02;
constexpr std::uint8_t rst = 0x04;
constexpr std::uint8_t ack = 0x10;
constexpr std::uint8_t psh_ack = 0x18;

std::string tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint8_t flags,
                std::string_view payload) {
  return be16(sport) + be16(dport) + be32(seq) + be32(0) + std::string(1, char{0x50}) +
         std::string(1, static_cast<char>(flags)) + be16(65535) + be16(0) + be16(0) +
         std::string(payload);
}

std::string ipv4(const char* src, const char* dst, std::uint8_t proto, std::string_view l4,
                 std::uint16_t frag = 0) {
  return std::string("\x45\x00", 2) + be16(static_cast<std::uint16_t>(20 + l4.size())) + be16(1) +
         be16(frag) + std::string(1, char{64}) + std::string(1, static_cast<char>(proto)) +
         be16(0) + v4(src) + v4(dst) + std::string(l4);
}

std::string ipv6(const char* src, const char* dst, std::uint8_t next, std::string_view l4) {
  return std::string("\x60\x00\x00\x00", 4) + be16(static_cast<std::uint16_t>(l4.size())) +
         std::string(1, static_cast<char>(next)) + std::string(1, char{64}) + v6(src) + v6(dst) +
         std::string(l4);
}

std::string ether(std::uint16_t type, std::string_view l3, std::vector<std::uint16_t> vlans = {}) {
  std::string out(12, '\x11');
  for (auto vlan : vlans)
    out += be16(0x8100) + be16(vlan);
  return out + be16(type) + std::string(l3);
}

class PcapWriter {
 public:
  PcapWriter(int linktype, fs::path path) : path_(std::move(path)) {
    dead_ = pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_NANO);
    dumper_ = pcap_dump_open(dead_, path_.c_str());
  }
  ~PcapWriter() { close(); }
  /// Writes one packet; `caplen` below the size makes a truncated capture.
  void add(std::string_view bytes, std::size_t caplen = std::string::npos) {
    pcap_pkthdr h{};
    ++n_;
    h.ts.tv_sec = 1'700'000'000 + n_;
    h.ts.tv_usec = 123;  // nanoseconds, given the precision
    h.len = static_cast<bpf_u_int32>(bytes.size());
    h.caplen = static_cast<bpf_u_int32>(std::min(caplen, bytes.size()));
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h,
              reinterpret_cast<const u_char*>(bytes.data()));
  }
  void close() {
    if (dumper_ != nullptr) pcap_dump_close(dumper_);
    if (dead_ != nullptr) pcap_close(dead_);
    dumper_ = nullptr;
    dead_ = nullptr;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  long n_ = 0;
};

fs::path temp_pcap(const std::string& name) {
  return fs::temp_directory_path() /
         ("sluice-pcap-test-" + std::to_string(::getpid()) + "-" + name);
}

class PcapSynthetic : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& p : written_)
      fs::remove(p);
  }
  PcapWriter& writer(int linktype) {
    writers_.push_back(std::make_unique<PcapWriter>(
        linktype, temp_pcap(::testing::UnitTest::GetInstance()->current_test_info()->name())));
    written_.push_back(writers_.back()->path());
    return *writers_.back();
  }
  Replay run(PcapWriter& w, PcapSourceConfig c = {}) {
    w.close();
    c.path = w.path();
    return replay(c);
  }

 private:
  std::vector<std::unique_ptr<PcapWriter>> writers_;
  std::vector<fs::path> written_;
};

TEST_F(PcapSynthetic, EthernetVlanPaddingSplitAndIpv6) {
  auto& w = writer(DLT_EN10MB);
  w.add(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(40000, 514, "<1>one\n<2>two\n")) +
                          std::string(20, '\0')));  // trailing padding
  w.add(ether(0x0800, ipv4("10.0.0.3", "10.0.0.2", 17, udp(40001, 514, "<3>vlan\r\n")), {10, 20}));
  w.add(ether(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 17, udp(40002, 1514, "<4>six"))));
  w.add(ether(0x0800, ipv4("10.0.0.4", "10.0.0.2", 17, udp(40003, 53, "<5>dns port"))));
  w.add(ether(0x0806, std::string(28, '\0')));  // ARP
  const auto r = run(w);
  EXPECT_EQ(r.raws(), (std::vector<std::string>{"<1>one", "<2>two", "<3>vlan", "<4>six"}));
  EXPECT_EQ(r.records[0].peer.address_string(), "10.0.0.1");
  EXPECT_EQ(r.records[0].peer.port, 40000);
  EXPECT_EQ(r.records[2].peer.address_string(), "10.0.0.3");
  EXPECT_EQ(r.records[3].peer.family, 6);
  EXPECT_EQ(r.records[3].peer.address_string(), "2001:db8::1");
  EXPECT_EQ(r.records[0].time_ns, 1'700'000'001LL * 1'000'000'000 + 123);
  EXPECT_EQ(r.stats.ignored, 2u);
  EXPECT_EQ(r.errors, 0u);
}

TEST_F(PcapSynthetic, LinuxCookedV1AndV2AndRawIp) {
  for (int link : {DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW}) {
    auto& w = writer(link);
    const std::string ip = ipv4("192.0.2.1", "192.0.2.2", 17, udp(5000, 514, "<9>cooked"));
    std::string frame;
    if (link == DLT_LINUX_SLL) frame = std::string(14, '\0') + be16(0x0800) + ip;
    if (link == DLT_LINUX_SLL2) frame = be16(0x0800) + std::string(18, '\0') + ip;
    if (link == DLT_RAW) frame = ip;
    w.add(frame);
    const auto r = run(w);
    EXPECT_EQ(r.raws(), std::vector<std::string>{"<9>cooked"}) << "link type " << link;
  }
}

TEST_F(PcapSynthetic, FragmentsAreReassembledOrCounted) {
  auto& w = writer(DLT_EN10MB);
  // Overlapping: the first fragment carries bytes [0, 25), the second starts at 24.
  w.add(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<1>first fragment"), 0x2000)));
  w.add(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, "continued bytes", 0x0003)));
  // An IPv6 first fragment whose rest never comes.
  const std::string frag_header =
      std::string(1, char{17}) + std::string(1, '\0') + be16(1) + be32(7);
  w.add(ether(0x86dd, ipv6("::1", "::2", 44, frag_header + udp(1, 514, "<1>v6 fragment"))));
  w.add(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<2>whole"))));
  // A datagram in two fragments, the second first: reassembled into one record.
  const std::string datagram = udp(2, 514, "<3>reassembled from two fragments");
  w.add(ether(0x0800, ipv4("10.0.0.3", "10.0.0.2", 17, datagram.substr(16), 0x0002)));
  w.add(ether(0x0800, ipv4("10.0.0.3", "10.0.0.2", 17, datagram.substr(0, 16), 0x2000)));
  const auto r = run(w);
  EXPECT_EQ(r.raws(), (std::vector<std::string>{"<2>whole", "<3>reassembled from two fragments"}));
  EXPECT_EQ(r.records[1].peer.address_string(), "10.0.0.3");
  EXPECT_EQ(r.records[1].peer.port, 2);
  EXPECT_EQ(r.stats.fragments, 5u);
  // The overlapping pair and the unfinished IPv6 datagram.
  EXPECT_EQ(r.errors, 2u);
}

TEST_F(PcapSynthetic, TruncatedAndMalformedPacketsAreSafe) {
  auto& w = writer(DLT_EN10MB);
  const std::string good =
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<1>cut short")));
  w.add(good, good.size() - 4);  // payload missing: counted, skipped
  const std::string padded =
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<2>kept"))) +
      std::string(30, '\0');
  w.add(padded, padded.size() - 10);  // only padding missing: the record is whole
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    w.add(good.substr(0, cut));  // short frames
  std::string bad_ihl = good;
  bad_ihl[14] = 0x4f;  // IHL 60 > packet
  w.add(bad_ihl);
  std::string bad_udp_len = good;
  bad_udp_len[14 + 20 + 4] = '\x7f';
  w.add(bad_udp_len);
  const auto r = run(w);
  EXPECT_EQ(r.raws(), std::vector<std::string>{"<2>kept"});
  EXPECT_EQ(r.stats.truncated_packets, 2u);
  EXPECT_GT(r.stats.malformed, 0u);
}

TEST_F(PcapSynthetic, UnsupportedLinkTypeIsAnOpenError) {
  auto& w = writer(DLT_IEEE802_11);
  w.add(std::string(40, '\0'));
  w.close();
  PcapSourceConfig c;
  c.path = w.path();
  PcapSource source(c);
  const auto r = source.open();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("unsupported link type"), std::string::npos);
}

TEST(PcapSource, MissingFileIsAnOpenError) {
  PcapSourceConfig c;
  c.path = "/nonexistent/capture.pcap";
  PcapSource source(c);
  const auto r = source.open();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/nonexistent/capture.pcap"), std::string::npos);
}

/// Writes the client→server segments of one TCP stream, plus server→client noise.
struct TcpStream {
  PcapWriter& w;
  const char* client;
  std::uint16_t client_port;
  std::uint32_t isn;
  void segment(std::uint32_t offset, std::string_view data, std::uint8_t flags = psh_ack,
               std::size_t caplen = std::string::npos) {
    w.add(ether(0x0800,
                ipv4(client, "10.9.9.9", 6, tcp(client_port, 514, isn + 1 + offset, flags, data))),
          caplen);
  }
  void syn() {
    w.add(ether(0x0800, ipv4(client, "10.9.9.9", 6, tcp(client_port, 514, isn, syn_flag, ""))));
    w.add(
        ether(0x0800, ipv4("10.9.9.9", client, 6, tcp(514, client_port, 99, syn_flag | ack, ""))));
  }
};

TEST_F(PcapSynthetic, TcpReassemblyOutOfOrderRetransmittedAndFin) {
  auto& w = writer(DLT_EN10MB);
  const std::string s = "<1>alpha\n10 <2>bravo!!<3>charlie\n<4>delta-no-lf";
  //                     0         9              24               41
  TcpStream a{w, "10.0.0.1", 40000, 1000};
  TcpStream b{w, "10.0.0.2", 40001, 0xfffffff0u};  // sequence numbers wrap inside the stream
  a.syn();
  b.syn();
  a.segment(0, s.substr(0, 12));
  b.segment(0, "<7>b-one\n<7>b-");
  a.segment(24, s.substr(24, 10));  // out of order: arrives before 12..24
  a.segment(0, s.substr(0, 12));    // retransmission of what was framed
  b.segment(14, "two\n");
  a.segment(10, s.substr(10, 20));  // overlaps framed and buffered bytes on both ends
  w.add(ether(0x0800, ipv4("10.9.9.9", "10.0.0.1", 6, tcp(514, 40000, 100, psh_ack, "noise\n"))));
  a.segment(34, s.substr(34));
  a.segment(static_cast<std::uint32_t>(s.size()), "", fin | ack);
  b.segment(18, "<7>b-rst partial");
  b.segment(34, "", rst);
  const auto r = run(w);
  std::vector<std::string> from_a;
  std::vector<std::string> from_b;
  for (const auto& rec : r.records)
    (rec.peer.port == 40000 ? from_a : from_b).push_back(rec.raw);
  EXPECT_EQ(from_a,
            (std::vector<std::string>{"<1>alpha", "<2>bravo!!", "<3>charlie", "<4>delta-no-lf"}));
  EXPECT_EQ(from_b, (std::vector<std::string>{"<7>b-one", "<7>b-two", "<7>b-rst partial"}));
  EXPECT_EQ(r.stats.stream_gaps, 0u);
  EXPECT_EQ(r.errors, 0u);
}

TEST_F(PcapSynthetic, TcpStreamWithoutSynAndEveryDeliveryOrder) {
  // The same stream, its segments delivered in every rotation of their order: the records
  // must not change.
  const std::string s = "<1>one\n14 <2>two\nnot lf!<3>three\n<4>four\n";
  const std::vector<std::pair<std::size_t, std::size_t>> cuts{{0, 5}, {5, 11}, {16, 9}, {25, 16}};
  for (std::size_t rotation = 0; rotation < cuts.size(); ++rotation) {
    auto& w = writer(DLT_RAW);
    for (std::size_t k = 0; k < cuts.size(); ++k) {
      const auto [off, len] = cuts[(k + rotation) % cuts.size()];
      w.add(ipv4(
          "10.0.0.1", "10.0.0.2", 6,
          tcp(1234, 601, 5000 + static_cast<std::uint32_t>(off), psh_ack, s.substr(off, len))));
    }
    const auto r = run(w);
    if (rotation == 0) {
      EXPECT_EQ(r.raws(),
                (std::vector<std::string>{"<1>one", "<2>two\nnot lf!", "<3>three", "<4>four"}));
    } else {
      // Without a SYN the first segment seen is taken as the stream's start, so bytes before it
      // are a hole the source cannot know about; what follows it is framed in order.
      EXPECT_FALSE(r.records.empty()) << "rotation " << rotation;
    }
  }
}

TEST_F(PcapSynthetic, TcpTruncatedSegmentIsAHoleAndFramingResyncs) {
  auto& w = writer(DLT_EN10MB);
  TcpStream a{w, "10.0.0.1", 40000, 77};
  a.syn();
  a.segment(0, "<1>before\n<2>cut in");
  const std::string lost = "side the hole\n<3>lost too\n<4>partly ";
  const std::string frame =
      ether(0x0800, ipv4("10.0.0.1", "10.9.9.9", 6, tcp(40000, 514, 77 + 1 + 19, psh_ack, lost)));
  w.add(frame, frame.size() - lost.size() + 5);
  a.segment(19 + static_cast<std::uint32_t>(lost.size()), "seen\n<5>after\n");
  const auto r = run(w);
  EXPECT_EQ(r.raws(), (std::vector<std::string>{"<1>before", "<5>after"}));
  EXPECT_EQ(r.stats.stream_gaps, 1u);
  EXPECT_EQ(r.stats.truncated_packets, 1u);
}

TEST_F(PcapSynthetic, TcpHoleIsGivenUpWhenBufferFills) {
  auto& w = writer(DLT_EN10MB);
  TcpStream a{w, "10.0.0.1", 40000, 5};
  a.syn();
  a.segment(0, "<1>start\n<2>never fin");
  // Bytes 21..30 are never captured; later segments pile up behind the hole.
  a.segment(30, "ished\n");
  std::uint32_t at = 36;
  for (int i = 0; i < 20; ++i) {
    const std::string line = "<3>line " + std::to_string(i) + "\n";
    a.segment(at, line);
    at += static_cast<std::uint32_t>(line.size());
  }
  PcapSourceConfig c;
  c.max_flow_buffer_bytes = 100;
  const auto r = run(w, c);
  EXPECT_EQ(r.stats.stream_gaps, 1u);
  ASSERT_FALSE(r.records.empty());
  EXPECT_EQ(r.records.front().raw, "<1>start");
  // After the hole, framing resumes at an LF: every later record is whole.
  for (std::size_t i = 1; i < r.records.size(); ++i)
    EXPECT_EQ(r.records[i].raw.rfind("<3>line ", 0), 0u) << r.records[i].raw;
  EXPECT_EQ(r.records.size(), 21u);
}

TEST_F(PcapSynthetic, OversizedTcpAndUdpRecordsAreTruncated) {
  auto& w = writer(DLT_EN10MB);
  TcpStream a{w, "10.0.0.1", 40000, 5};
  a.syn();
  const std::string big = "<1>" + std::string(300, 'b');
  a.segment(0, big + "\n<2>small\n");
  w.add(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, big))));
  PcapSourceConfig c;
  c.max_message_bytes = 50;
  const auto r = run(w, c);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].raw, big.substr(0, 50));
  EXPECT_EQ(r.records[0].flags, event_flag_truncated);
  EXPECT_EQ(r.records[1].raw, "<2>small");
  EXPECT_EQ(r.records[2].raw, big.substr(0, 50));
  EXPECT_EQ(r.records[2].flags, event_flag_truncated);
  EXPECT_EQ(r.truncated, 2u);
}

}  // namespace
}  // namespace sluice
