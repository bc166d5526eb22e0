// SPDX-License-Identifier: Apache-2.0
#include "tests_support.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sluice::test {
namespace fs = std::filesystem;

namespace {
fs::path env_path(const char* name, const char* fallback) {
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  return fallback;
}
}  // namespace

std::optional<fs::path> data_dir() {
  fs::path dir;
  if (const char* v = std::getenv("SLUICE_TEST_DATA"); v != nullptr && *v != '\0') {
    dir = v;
  } else {
    dir = source_dir() / ".." / "shared" / "data";
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return fs::weakly_canonical(dir, ec);
}

std::optional<fs::path> data_path(const std::string& relative) {
  auto dir = data_dir();
  if (!dir) return std::nullopt;
  auto p = *dir / relative;
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  return p;
}

fs::path source_dir() {
  return env_path("SLUICE_SOURCE_DIR", SLUICE_SOURCE_DIR_DEFAULT);
}
fs::path own_data_dir() {
  return source_dir() / "tests" / "data";
}
fs::path binary_dir() {
  return env_path("SLUICE_BINARY_DIR", SLUICE_BINARY_DIR_DEFAULT);
}
fs::path sluice_binary() {
  return binary_dir() / "tools" / "sluice";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace sluice::test

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

namespace sluice::test {

Process::Process(const std::vector<std::string>& argv, const fs::path& stdout_path,
                 const fs::path& stderr_path, const std::string& stdin_path) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Process::signal(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

int Process::wait(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    const int r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() /
          ("sluice-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int run_command(const std::vector<std::string>& argv, std::string& out, std::string& err,
                const std::string& stdin_path) {
  TempDir dir;
  Process p(argv, dir.path() / "out", dir.path() / "err", stdin_path);
  const int status = p.wait(120'000);
  out = read_file(dir.path() / "out");
  err = read_file(dir.path() / "err");
  return status;
}

std::uint16_t free_port() {
  // Ask the kernel for a TCP port, then check that UDP can take it too.
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int t = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(t, reinterpret_cast<sockaddr*>(&a), &len);
    const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    const bool udp_ok = ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const auto port = ntohs(a.sin_port);
    ::close(u);
    ::close(t);
    if (udp_ok) return port;
  }
  return 0;
}

SluiceRun run_sluice(std::vector<std::string> args) {
  args.insert(args.begin(), sluice_binary().string());
  SluiceRun r;
  std::string out;
  r.status = run_command(args, out, r.err);
  r.lines = split_lines(out);
  return r;
}

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    resp.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return resp;
}

}  // namespace sluice::test
