// SPDX-License-Identifier: Apache-2.0
/// `sluice blast`: the load generator. Flag parsing only; the corpus generator and the senders
/// live in `tools/blast/` (`sluice_blast`) where the unit tests reach them.
#include <signal.h>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "sluice/blast/corpus.hpp"
#include "sluice/blast/corpus_generator.hpp"
#include "sluice/blast/sender.hpp"

namespace sluice::cli {
namespace {

constexpr std::string_view usage_text =
    R"(usage: sluice blast (--udp ADDR:PORT | --tcp ADDR:PORT | --print) [options]

Sends syslog messages, one per datagram (UDP, sendmmsg) or framed on N TCP connections, then
prints {"sent":N,"bytes":B,"seconds":S,"rate":R,"errors":E} on stdout.

  --udp ADDR:PORT       send UDP datagrams to ADDR:PORT ([::1]:PORT for IPv6)
  --tcp ADDR:PORT       send over TCP
  --framing octet|lf    TCP framing: octet counting (default) or LF-terminated lines
  --rate N[k|M][/s]     messages per second over all connections; 0 = flat out (default)
  --count N             messages to send (default 100000 with the generator)
  --duration S          stop after S seconds
  --connections N       sockets, one thread each (default 1)
  --corpus FILE         send the lines of FILE (repeatable); once, unless --loop
  --generate            also (or only) use the built-in demo corpus generator
  --seed N              generator seed (default 1)
  --loop                repeat the corpus files until --count or --duration is reached
  --print               write the messages as lines to stdout instead of sending them
)";

/// Lines the generator prepares before sending. 2^18 lines are about 45 MB and take a few tenths
/// of a second to generate; a longer run repeats them, which is fine for load.
constexpr std::size_t generator_pool_lines = 1 << 18;
/// Messages sent by default with the generator, when neither --count nor --duration is given.
constexpr std::uint64_t default_generator_count = 100000;

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) {
  stop_requested.store(true, std::memory_order_relaxed);
}

int usage_error(std::string_view message) {
  std::fprintf(stderr, "sluice blast: %.*s\n%.*s", static_cast<int>(message.size()), message.data(),
               static_cast<int>(usage_text.size()), usage_text.data());
  return 2;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

/// "50000", "50000/s", "50k/s", "1.5M".
std::optional<double> parse_rate(std::string_view text) {
  if (text.ends_with("/s")) text.remove_suffix(2);
  double scale = 1;
  if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) {
    scale = 1e3;
    text.remove_suffix(1);
  } else if (!text.empty() && (text.back() == 'm' || text.back() == 'M')) {
    scale = 1e6;
    text.remove_suffix(1);
  }
  const auto value = parse_number(text);
  if (!value) return std::nullopt;
  return *value * scale;
}

/// Writes `lines` to stdout, one per line, through a large buffer.
class LineWriter {
 public:
  LineWriter() { buffer_.reserve(capacity); }
  ~LineWriter() { flush(); }
  void write(std::string_view line) {
    buffer_.append(line);
    buffer_.push_back('\n');
    if (buffer_.size() >= capacity) flush();
  }
  bool flush() {
    const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) == buffer_.size();
    buffer_.clear();
    return ok && std::fflush(stdout) == 0;
  }

 private:
  static constexpr std::size_t capacity = 1 << 20;
  std::string buffer_;
};

}  // namespace

int blast_command(int argc, char** argv) {
  blast::SendOptions options;
  std::optional<std::string> target;
  std::vector<std::filesystem::path> corpus_files;
  bool generate = false;
  bool print = false;
  std::uint64_t seed = 1;
  bool have_count = false;

  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (flag == "-h" || flag == "--help") {
      std::fputs(usage_text.data(), stdout);
      return 0;
    } else if (flag == "--udp" || flag == "--tcp") {
      const auto v = value();
      if (!v) return usage_error(fmt::format("{} needs ADDR:PORT", flag));
      if (target) return usage_error("give one of --udp and --tcp");
      target = std::string(*v);
      options.protocol = flag == "--udp" ? blast::Protocol::udp : blast::Protocol::tcp;
    } else if (flag == "--framing") {
      const auto v = value();
      if (v == "octet") {
        options.framing = blast::Framing::octet_counting;
      } else if (v == "lf") {
        options.framing = blast::Framing::lf;
      } else {
        return usage_error("--framing takes octet or lf");
      }
    } else if (flag == "--rate") {
      const auto v = value();
      const auto rate = v ? parse_rate(*v) : std::nullopt;
      if (!rate) return usage_error("--rate takes a number of messages per second, e.g. 50k/s");
      options.rate_per_second = *rate;
    } else if (flag == "--count") {
      const auto v = value();
      const auto count = v ? parse_unsigned(*v) : std::nullopt;
      if (!count || *count == 0) return usage_error("--count takes a positive integer");
      options.count = *count;
      have_count = true;
    } else if (flag == "--duration") {
      auto v = value();
      if (v && v->ends_with('s')) v->remove_suffix(1);
      const auto seconds = v ? parse_number(*v) : std::nullopt;
      if (!seconds || *seconds <= 0) return usage_error("--duration takes positive seconds");
      options.duration = std::chrono::duration<double>(*seconds);
    } else if (flag == "--connections") {
      const auto v = value();
      const auto n = v ? parse_unsigned(*v) : std::nullopt;
      if (!n || *n == 0 || *n > 1024) return usage_error("--connections takes 1-1024");
      options.connections = static_cast<unsigned>(*n);
    } else if (flag == "--corpus") {
      const auto v = value();
      if (!v) return usage_error("--corpus needs a file");
      corpus_files.emplace_back(std::string(*v));
    } else if (flag == "--generate") {
      generate = true;
    } else if (flag == "--seed") {
      const auto v = value();
      const auto n = v ? parse_unsigned(*v) : std::nullopt;
      if (!n) return usage_error("--seed takes an unsigned integer");
      seed = *n;
    } else if (flag == "--loop") {
      options.loop = true;
    } else if (flag == "--print") {
      print = true;
    } else {
      return usage_error(fmt::format("unknown argument '{}'", flag));
    }
  }

  if (corpus_files.empty()) generate = true;
  if (print == target.has_value()) return usage_error("give exactly one of --udp, --tcp, --print");
  if (have_count && options.duration.count() > 0) {
    return usage_error("give --count or --duration, not both");
  }
  // The generator is endless: its pool repeats like a looped file.
  if (generate) options.loop = true;
  if (generate && !have_count && options.duration.count() == 0) {
    options.count = default_generator_count;
  }

  blast::CorpusOptions corpus_options;
  corpus_options.seed = seed;
  blast::CorpusGenerator generator(corpus_options);

  if (print && corpus_files.empty()) {
    // Stream straight from the generator: any count, constant memory, the same lines a send of
    // up to `generator_pool_lines` messages would carry.
    if (options.duration.count() > 0) return usage_error("--print takes --count, not --duration");
    LineWriter writer;
    for (std::uint64_t i = 0; i < options.count; ++i)
      writer.write(generator.next());
    if (!writer.flush()) {
      std::fprintf(stderr, "sluice blast: writing to stdout failed\n");
      return 1;
    }
    return 0;
  }

  auto corpus = blast::Corpus::from_files(corpus_files);
  if (!corpus) {
    std::fprintf(stderr, "sluice blast: %s\n", corpus.error().message.c_str());
    return 1;
  }
  if (generate) {
    const std::size_t pool = options.count > 0
                                 ? std::min<std::uint64_t>(options.count, generator_pool_lines)
                                 : generator_pool_lines;
    for (std::size_t i = 0; i < pool; ++i)
      corpus->add(generator.next());
  }
  if (corpus->empty()) {
    std::fprintf(stderr, "sluice blast: the corpus has no lines\n");
    return 1;
  }

  if (print) {
    if (options.loop && options.count == 0) {
      return usage_error("--print with --loop needs --count");
    }
    const std::uint64_t total =
        options.count > 0 && (options.loop || options.count < corpus->size()) ? options.count
                                                                              : corpus->size();
    LineWriter writer;
    for (std::uint64_t i = 0; i < total; ++i)
      writer.write((*corpus)[i % corpus->size()]);
    return writer.flush() ? 0 : 1;
  }

  auto endpoint = blast::parse_endpoint(*target);
  if (!endpoint) return usage_error(endpoint.error().message);
  options.endpoint = std::move(endpoint).value();
  if (options.loop && options.count == 0 && options.duration.count() == 0) {
    std::fprintf(stderr, "sluice blast: looping until SIGINT or SIGTERM\n");
  }

  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  options.stop = &stop_requested;

  auto stats = blast::send_corpus(*corpus, options);
  if (!stats) {
    std::fprintf(stderr, "sluice blast: %s\n", stats.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", blast::to_json(*stats).c_str());
  std::fflush(stdout);
  if (!stats->failure.empty()) {
    std::fprintf(stderr, "sluice blast: %s\n", stats->failure.c_str());
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
