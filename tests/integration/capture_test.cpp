// SPDX-License-Identifier: Apache-2.0
/// End-to-end tests of `sluice run` with live capture sources:
/// - DPDK with the `net_pcap` virtual device replaying a real capture (`--no-huge --no-pci`):
///   every syslog message in it must come out as an event, and the flow records' packet and
///   byte totals must equal the capture's (both counted independently with tshark). Skipped
///   with the reason when this build has no DPDK or EAL cannot start here.
/// - AF_PACKET on `lo` (needs root) with UDP syslog the test sends itself.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "tests_support.hpp"

namespace sluice::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// What came out of a run: syslog events and flow totals, by reading events.jsonl.
struct Events {
  std::vector<std::string> messages;  ///< raw message text of non-flow events
  std::uint64_t flow_packets = 0;
  std::uint64_t flow_bytes = 0;
  std::size_t flows = 0;
  std::vector<std::string> flow_lines;
};

Events read_events(const std::filesystem::path& path) {
  Events out;
  simdjson::dom::parser parser;
  for (const auto& line : split_lines(read_file(path))) {
    auto doc = parser.parse(line);
    EXPECT_FALSE(doc.error()) << line;
    if (doc.error()) continue;
    simdjson::dom::element fields;
    std::string_view kind;
    if (!doc["sluice.fields"].get(fields) && !fields["event.kind"].get(kind) && kind == "flow") {
      std::string_view packets;
      std::string_view bytes;
      if (!fields["packets"].get(packets)) out.flow_packets += std::stoull(std::string(packets));
      if (!fields["bytes"].get(bytes)) out.flow_bytes += std::stoull(std::string(bytes));
      ++out.flows;
      out.flow_lines.push_back(line);
      continue;
    }
    std::string_view message;
    if (!doc["message"].get(message)) {
      out.messages.emplace_back(message);
    } else {
      out.messages.emplace_back(line);
    }
  }
  return out;
}

TEST(CaptureRun, DpdkNetPcapReplayGivesEverySyslogMessageAndTheFlowTotals) {
  SLUICE_REQUIRE_DATA(pcap, "pcap/syslog/syslog.pcap");
  TempDir dir;
  const auto config = dir / "sluice.toml";
  // --file-prefix keeps this EAL's runtime files apart from any other DPDK process.
  std::ofstream(config) << "[general]\nworkers = 2\nsummary_interval_seconds = 0\n"
                        << "[capture.dpdk]\neal_args = [\"--no-huge\", \"--no-pci\", \"-m\", "
                           "\"256\", \"--file-prefix=sluice-test-"
                        << ::getpid() << "\", \"--vdev=net_pcap0,rx_pcap=" << pcap.string()
                        << "\"]\nstop_after_idle_polls = 200000\n"
                        << "[output.events]\npath = \"" << (dir / "events.jsonl").string()
                        << "\"\n[metrics]\nlisten = \"\"\n";
  std::string out;
  std::string err;
  const int rc =
      run_command({sluice_binary().string(), "run", "--config", config.string()}, out, err);
  if (rc != 0 && err.find("no such capture backend") != std::string::npos)
    GTEST_SKIP() << "this build has no DPDK (libdpdk-dev not found at configure time)";
  if (rc != 0 && err.find("EAL initialisation failed") != std::string::npos)
    GTEST_SKIP() << "DPDK EAL cannot start in this environment: " << err;
  ASSERT_EQ(rc, 0) << err;
  const Events ev = read_events(dir / "events.jsonl");
  // tshark -r syslog.pcap -Y 'udp.port==514' | wc -l -> 83 messages, one per datagram.
  EXPECT_EQ(ev.messages.size(), 83u);
  // tshark -r syslog.pcap -Y 'ip or ipv6' -T fields -e ipv6.plen -e ip.len |
  //   awk -F'\t' '{n++; split($1,b,","); split($2,a,",");
  //                s += ($1 != "") ? b[length(b)]+40 : a[length(a)]} END {print n, s}'
  //   -> 94 packets, 18767 bytes of (innermost) IP.
  EXPECT_EQ(ev.flow_packets, 94u);
  EXPECT_EQ(ev.flow_bytes, 18767u);
  EXPECT_NE(err.find("port 0 (net_pcap) started"), std::string::npos) << err;
}

TEST(CaptureScan, FirewallSigmaRulesMatchFlowRecords) {
  // sshguess.pcap: SSH password guessing from 192.168.56.1 to 192.168.56.103:22. Every TCP
  // connection in it is to port 22 (tshark -r sshguess.pcap -T fields -e tcp.stream | sort -u |
  // wc -l -> 11 streams), so the firewall rule alerts once per connection's flow record.
  SLUICE_REQUIRE_DATA(pcap, "pcap/attack/sshguess.pcap");
  std::string out;
  std::string err;
  const auto rule = source_dir() / "tests/data/capture/firewall_ssh_flow.yml";
  ASSERT_EQ(run_command({sluice_binary().string(), "scan", "--stats", "--rules", rule.string(),
                         pcap.string()},
                        out, err),
            0)
      << err;
  const auto alerts = split_lines(out);
  EXPECT_EQ(alerts.size(), 11u);
  for (const auto& a : alerts) {
    EXPECT_NE(a.find(R"("rule.name":"SSH flow")"), std::string::npos) << a;
    EXPECT_NE(a.find(R"(\"dst_ip\":\"192.168.56.103\")"), std::string::npos) << a;
  }
}

TEST(CaptureRun, AfPacketOnLoopbackCapturesWhatTheTestSends) {
  if (::geteuid() != 0) GTEST_SKIP() << "AF_PACKET capture needs root (CAP_NET_RAW)";
  TempDir dir;
  const auto port = free_port();
  const auto metrics_port = free_port();
  const auto config = dir / "sluice.toml";
  std::ofstream(config) << "[general]\nworkers = 2\nsummary_interval_seconds = 0\n"
                        << "[capture.afpacket]\ninterface = \"lo\"\nudp_ports = [" << port
                        << "]\nblock_bytes = 1048576\nblock_count = 8\n"
                        << "[output.events]\npath = \"" << (dir / "events.jsonl").string()
                        << "\"\n[metrics]\nlisten = \"127.0.0.1:" << metrics_port << "\"\n";
  Process process({sluice_binary().string(), "run", "--config", config.string()}, dir / "stdout",
                  dir / "stderr");
  for (int i = 0; i < 200 && http_get(metrics_port, "/healthz").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_FALSE(http_get(metrics_port, "/healthz").empty())
      << "sluice run did not come up: " << read_file(dir / "stderr");
  // Real UDP syslog to a port nobody listens on: the capture sees it on lo all the same.
  constexpr int messages = 2000;
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto to = loopback(port);
  for (int i = 0; i < messages; ++i) {
    const std::string m =
        "<38>Nov 28 09:00:00 lohost sshd[7]: captured message " + std::to_string(i);
    ASSERT_EQ(::sendto(fd, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(m.size()));
    // A short pause now and then keeps the test's own burst below the ring and socket limits.
    if (i % 200 == 199) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  const std::uint16_t sender_port = ntohs(local.sin_port);
  ::close(fd);
  // Stop once the capture has seen them all (or 20 s); stopping also drains the ring.
  for (int i = 0; i < 400; ++i) {
    const auto text = http_get(metrics_port, "/metrics");
    const auto at = text.find("\nsluice_capture_udp_syslog_datagrams_total{");
    if (at != std::string::npos &&
        std::stod(text.substr(text.find(' ', text.find('}', at)) + 1)) >= messages)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  process.signal(SIGTERM);
  ASSERT_EQ(process.wait(30'000), 0) << read_file(dir / "stderr");
  const Events ev = read_events(dir / "events.jsonl");
  std::set<std::string> got;
  for (const auto& m : ev.messages)
    if (m.starts_with("captured message ")) got.insert(m);
  EXPECT_EQ(got.size(), static_cast<std::size_t>(messages));
  // The flow of our datagrams (other traffic on lo makes its own flows).
  std::uint64_t our_packets = 0;
  const std::string ours = "\"src_port\":\"" + std::to_string(sender_port) + "\",\"dst_port\":\"" +
                           std::to_string(port) + "\"";
  for (const auto& line : ev.flow_lines)
    if (line.find(ours) != std::string::npos && line.find("\"proto\":\"udp\"") != std::string::npos)
      our_packets += std::stoull(line.substr(line.find("\"packets\":\"") + 11));
  EXPECT_EQ(our_packets, static_cast<std::uint64_t>(messages));
}

}  // namespace
}  // namespace sluice::test
