// SPDX-License-Identifier: Apache-2.0
/// The floor for UDP ingest: a bare socket that receives datagrams with `recvmmsg` and does
/// nothing else with them. Whatever a real receiver (rsyslog, `sluice run`) spends above this
/// per message is its own work; ingest_vs_rsyslog.sh runs all three on the same load.
///
/// Runs until SIGTERM or SIGINT, or until no datagram arrived for --idle-timeout seconds, then
/// prints one JSON line on stdout: {"received":N,"bytes":B,"kernel_drops":D,"cpu_seconds":C}.
/// `kernel_drops` is the socket's drop counter, read from SO_RXQ_OVFL on each batch and from
/// /proc/net/udp at the end (whichever is larger: SO_RXQ_OVFL only arrives with a datagram).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// Datagrams per recvmmsg call; the same batch size `sluice blast` sends with.
constexpr unsigned batch_messages = 64;
/// Bytes per receive slot: the largest UDP payload, so nothing is ever truncated.
constexpr std::size_t slot_bytes = 65536;

volatile sig_atomic_t stop_requested = 0;

extern "C" void on_stop_signal(int) {
  stop_requested = 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: recvmmsg_floor --port P [--address 127.0.0.1] [--rcvbuf BYTES]\n"
               "                      [--idle-timeout SECONDS]\n");
  return 2;
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// The drops column of /proc/net/udp{,6} for the socket with inode `inode`, or 0.
std::uint64_t proc_drops(ino_t inode) {
  for (const char* path : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream file(path);
    std::string line;
    std::getline(file, line);  // header
    while (std::getline(file, line)) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      std::istringstream fields(line);
      std::string field;
      std::vector<std::string> columns;
      while (fields >> field)
        columns.push_back(field);
      if (columns.size() >= 13 && std::strtoull(columns[9].c_str(), nullptr, 10) == inode) {
        return std::strtoull(columns[12].c_str(), nullptr, 10);
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  long port = -1;
  int rcvbuf_bytes = 8 << 20;
  double idle_timeout = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return usage();
    const char* value = argv[++i];
    if (flag == "--port") {
      port = std::strtol(value, nullptr, 10);
    } else if (flag == "--address") {
      address = value;
    } else if (flag == "--rcvbuf") {
      rcvbuf_bytes = static_cast<int>(std::strtol(value, nullptr, 10));
    } else if (flag == "--idle-timeout") {
      idle_timeout = std::strtod(value, nullptr);
    } else {
      return usage();
    }
  }
  if (port < 0 || port > 65535) return usage();

  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof *v6;
  } else {
    std::fprintf(stderr, "recvmmsg_floor: '%s' is not a numeric address\n", address.c_str());
    return 2;
  }

  const int fd = ::socket(storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("recvmmsg_floor: socket");
    return 1;
  }
  // SO_RCVBUFFORCE passes net.core.rmem_max when we have CAP_NET_ADMIN; rsyslog's imudp does
  // the same, so both get the buffer the script asks for.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof rcvbuf_bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
  }
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  if (idle_timeout > 0) {
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(idle_timeout);
    timeout.tv_usec = static_cast<suseconds_t>((idle_timeout - timeout.tv_sec) * 1e6);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    std::fprintf(stderr, "recvmmsg_floor: bind %s:%ld: %s\n", address.c_str(), port,
                 std::strerror(errno));
    return 1;
  }
  int effective = 0;
  socklen_t effective_length = sizeof effective;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &effective_length);
  std::fprintf(stderr, "recvmmsg_floor: listening on %s:%ld, SO_RCVBUF %d bytes\n", address.c_str(),
               port, effective);

  // No SA_RESTART: a signal must interrupt the blocking recvmmsg.
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  std::vector<char> buffers(batch_messages * slot_bytes);
  constexpr std::size_t control_bytes = CMSG_SPACE(sizeof(std::uint32_t));
  std::vector<char> controls(batch_messages * control_bytes);
  std::vector<iovec> vectors(batch_messages);
  std::vector<mmsghdr> headers(batch_messages);

  std::uint64_t received = 0;
  std::uint64_t bytes = 0;
  std::uint32_t overflow = 0;
  while (stop_requested == 0) {
    for (unsigned i = 0; i < batch_messages; ++i) {
      vectors[i] = iovec{buffers.data() + i * slot_bytes, slot_bytes};
      headers[i] = mmsghdr{};
      headers[i].msg_hdr.msg_iov = &vectors[i];
      headers[i].msg_hdr.msg_iovlen = 1;
      headers[i].msg_hdr.msg_control = controls.data() + i * control_bytes;
      headers[i].msg_hdr.msg_controllen = control_bytes;
    }
    const int n = ::recvmmsg(fd, headers.data(), batch_messages, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // Idle for --idle-timeout: only once traffic has come and gone.
        if (received > 0) break;
        continue;
      }
      std::perror("recvmmsg_floor: recvmmsg");
      return 1;
    }
    received += static_cast<std::uint64_t>(n);
    for (int i = 0; i < n; ++i) {
      bytes += headers[i].msg_len;
      for (cmsghdr* c = CMSG_FIRSTHDR(&headers[i].msg_hdr); c != nullptr;
           c = CMSG_NXTHDR(&headers[i].msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          std::uint32_t value = 0;
          std::memcpy(&value, CMSG_DATA(c), sizeof value);
          overflow = std::max(overflow, value);
        }
      }
    }
  }

  struct stat info {};
  ::fstat(fd, &info);
  const std::uint64_t drops = std::max<std::uint64_t>(overflow, proc_drops(info.st_ino));
  std::printf("{\"received\":%llu,\"bytes\":%llu,\"kernel_drops\":%llu,\"cpu_seconds\":%.3f}\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(drops), cpu_seconds());
  ::close(fd);
  return 0;
}
