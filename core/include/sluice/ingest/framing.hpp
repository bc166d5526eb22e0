// SPDX-License-Identifier: Apache-2.0
/// Record framing shared by the stream sources (TCP, pcap TCP reassembly, file, stdin) and the
/// datagram sources (UDP, pcap UDP).
///
/// `SyslogFramer` is a byte-by-byte state machine: input may be split at any position and the
/// frames come out the same. It implements RFC 6587 §3.4.1 octet counting (`LEN SP MSG`) and
/// §3.4.2 non-transparent (LF) framing, detected per frame. It is header-only so the callback
/// inlines into each source's loop. Before editing, run `framing_test`, which splits every input
/// at every byte position.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "sluice/common/assert.hpp"

namespace sluice {

/// Default maximum record size for every source: the largest UDP datagram, and what common
/// syslog relays (rsyslog `$MaxMessageSize` is 8 KiB by default, syslog-ng 64 KiB) forward.
inline constexpr std::size_t default_max_message_bytes = 64 * 1024;

/// How a `SyslogFramer` finds frame boundaries.
enum class FramingMode : std::uint8_t {
  /// Per frame: octet counting when the frame starts `NONZERO-DIGIT *DIGIT SP` followed by `<`
  /// (a PRI) or `{` (a JSON event), else LF. Once a stream has sent one such frame, later
  /// `LEN SP` frames are octet counted whatever their first byte (a sender that frames by count
  /// keeps doing so, also for PRI-less messages).
  auto_detect,
  /// LF only (files, stdin): every line is a record and line numbers are tracked.
  lf_only,
};

/// One framed record, handed to the callback of `SyslogFramer::feed` and `finish`.
struct Frame {
  /// The record without framing (no length prefix, no trailing LF or CR). Valid only during the
  /// callback: it points into the caller's input or into the framer's buffer.
  std::string_view bytes;
  /// The record was cut at the maximum size (or, at `finish`, an octet-counted frame ended early).
  bool truncated = false;
  /// 1-based number of the LF-delimited line the record ends on; 0 for octet-counted frames.
  std::uint64_t line = 0;
};

/// Incremental syslog stream framer for one byte stream (one TCP connection, one file).
///
/// - Octet counting (RFC 6587 §3.4.1): a frame starting with 1 to 9 digits, a space and `<` is
///   `LEN SP MSG` with exactly LEN message bytes. Requiring the `<` of a syslog PRI after the
///   space keeps LF-framed lines that happen to begin "NUMBER SP" (say "404 Not Found") from
///   being read as a count that would swallow the following records.
/// - Otherwise the frame runs to the next LF (RFC 6587 §3.4.2); one trailing CR is removed.
///   Empty lines produce no record (they still count as lines).
/// - Records longer than `max_message_bytes` keep their first `max_message_bytes` bytes and are
///   flagged truncated; the rest of the frame is skipped (by count, or to the next LF).
///
/// Records lying wholly inside one `feed` call are handed out as views of the input (no copy);
/// only a record spanning calls is assembled in an internal buffer that grows to at most
/// `max_message_bytes` and is reused. Not thread-safe: one framer per stream.
class SyslogFramer {
 public:
  /// `max_message_bytes` must be at least 1.
  explicit SyslogFramer(std::size_t max_message_bytes = default_max_message_bytes,
                        FramingMode mode = FramingMode::auto_detect)
      : max_(max_message_bytes), mode_(mode) {
    SLUICE_ASSERT(max_message_bytes >= 1, "SyslogFramer needs a maximum of at least one byte");
  }

  /// Consumes `data` and calls `on_frame(const Frame&)` for every record it completes.
  template <class F>
  void feed(std::string_view data, F&& on_frame);

  /// End of stream: hands out a final unterminated LF frame (or the digits of an unfinished
  /// length prefix) as a record; an octet-counted frame that ended early is handed out with
  /// `truncated` set. Then resets to a frame start; line numbers keep counting.
  template <class F>
  void finish(F&& on_frame);

  /// After a gap in the stream (lost TCP segments): drops the partial frame and skips to the
  /// next LF before detecting framing again. An octet-counted stream with no LF resumes only at
  /// its end; that loss is counted by the caller under `errors`.
  void resync() {
    buf_.clear();
    state_ = State::skip_line;
  }

  /// Forgets all state, line numbers included (a rotated or truncated file starts again).
  void reset() {
    buf_.clear();
    state_ = State::frame_start;
    line_ = 0;
    remaining_ = 0;
    length_ = 0;
    octet_stream_ = false;
  }

  /// LF-terminated lines consumed so far (empty and skipped lines included).
  std::uint64_t lines() const { return line_; }
  /// True when no partial frame is pending (the last byte fed ended a frame).
  bool at_frame_start() const { return state_ == State::frame_start; }

 private:
  enum class State : std::uint8_t {
    frame_start,   ///< nothing of the next frame seen yet
    length,        ///< reading the digits of a possible octet count
    length_space,  ///< digits and a space seen; the next byte decides
    octet_body,    ///< reading `length_` message bytes
    lf_body,       ///< reading to the next LF
    skip_octets,   ///< skipping `remaining_` bytes of an over-long octet frame
    skip_line,     ///< skipping to the next LF (over-long line, or after `resync`)
  };

  /// At most nine digits: a length must fit in 32 bits, and a longer digit run is not a count.
  static constexpr std::size_t max_length_digits = 9;

  /// Removes one trailing LF, then one trailing CR.
  static std::string_view strip_line_end(std::string_view s) {
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }

  std::size_t max_;
  FramingMode mode_;
  State state_ = State::frame_start;
  std::uint64_t line_ = 0;
  std::size_t length_ = 0;     ///< octet count of the current frame
  std::size_t digits_ = 0;     ///< digits read of the current count
  std::size_t remaining_ = 0;  ///< bytes left to skip in `skip_octets`
  bool octet_stream_ = false;  ///< this stream has sent an octet-counted frame
  std::string buf_;            ///< the part of the current frame that came in earlier calls
};

template <class F>
void SyslogFramer::feed(std::string_view data, F&& on_frame) {
  const char* p = data.data();
  const char* const end = p + data.size();
  // The current frame's content so far is `buf_` followed by [seg, p).
  const char* seg = p;
  auto content_size = [&] { return buf_.size() + static_cast<std::size_t>(p - seg); };
  // Hands out buf_ + [seg, upto), cut to `keep` bytes.
  auto emit = [&](const char* upto, std::size_t keep, bool truncated, std::uint64_t line,
                  bool strip) {
    std::string_view rec;
    if (buf_.empty()) {
      rec = std::string_view(seg, static_cast<std::size_t>(upto - seg));
    } else {
      const std::size_t need = keep > buf_.size() ? keep - buf_.size() : 0;
      buf_.append(seg, std::min(need, static_cast<std::size_t>(upto - seg)));
      rec = buf_;
    }
    if (rec.size() > keep) rec = rec.substr(0, keep);
    if (strip) rec = strip_line_end(rec);
    if (!rec.empty()) on_frame(Frame{rec, truncated, line});
    buf_.clear();
  };

  while (p < end) {
    switch (state_) {
      case State::frame_start: {
        seg = p;
        buf_.clear();
        if (*p == '\n') {
          ++line_;
          ++p;
        } else if (mode_ == FramingMode::auto_detect && *p >= '1' && *p <= '9') {
          state_ = State::length;
          length_ = 0;
          digits_ = 0;
        } else {
          state_ = State::lf_body;
        }
        break;
      }
      case State::length: {
        const char c = *p;
        if (c >= '0' && c <= '9' && digits_ < max_length_digits) {
          length_ = length_ * 10 + static_cast<std::size_t>(c - '0');
          ++digits_;
          ++p;
        } else if (c == ' ') {
          state_ = State::length_space;
          ++p;
        } else {
          state_ = State::lf_body;  // not a count: the digits start an LF-framed record
        }
        break;
      }
      case State::length_space: {
        if (*p == '<' || *p == '{' || octet_stream_) {
          octet_stream_ = true;
          buf_.clear();
          seg = p;  // the record starts after "LEN SP"
          state_ = State::octet_body;
        } else {
          state_ = State::lf_body;
        }
        break;
      }
      case State::octet_body: {
        const std::size_t keep = std::min(length_, max_);
        const std::size_t want = keep - content_size();
        const std::size_t take = std::min(want, static_cast<std::size_t>(end - p));
        p += take;
        if (take == want) {
          const bool truncated = length_ > max_;
          // Some senders count a trailing LF into LEN: it is framing, not message.
          emit(p, keep, truncated, 0, !truncated);
          if (truncated) {
            remaining_ = length_ - max_;
            state_ = State::skip_octets;
          } else {
            state_ = State::frame_start;
          }
        }
        break;
      }
      case State::lf_body: {
        const auto* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (nl != nullptr) {
          p = nl;
          const std::size_t size = content_size();
          ++line_;
          emit(p, std::min(size, max_), size > max_, line_, size <= max_);
          ++p;
          state_ = State::frame_start;
        } else {
          p = end;
          if (content_size() > max_) {
            emit(p, max_, true, line_ + 1, false);
            state_ = State::skip_line;
          }
        }
        break;
      }
      case State::skip_octets: {
        const std::size_t take = std::min(remaining_, static_cast<std::size_t>(end - p));
        p += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::frame_start;
        break;
      }
      case State::skip_line: {
        const auto* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (nl != nullptr) {
          ++line_;
          p = nl + 1;
          state_ = State::frame_start;
        } else {
          p = end;
        }
        break;
      }
    }
  }
  // Keep the unfinished frame's bytes for the next call. Each state bounds what it collects by
  // `max_` (a length prefix is at most 10 bytes), so the buffer never exceeds the maximum.
  switch (state_) {
    case State::length:
    case State::length_space:
    case State::octet_body:
    case State::lf_body:
      buf_.append(seg, static_cast<std::size_t>(end - seg));
      break;
    case State::frame_start:
    case State::skip_octets:
    case State::skip_line:
      break;
  }
}

template <class F>
void SyslogFramer::finish(F&& on_frame) {
  switch (state_) {
    case State::length:
    case State::length_space:
    case State::lf_body: {
      const std::string_view rec = strip_line_end(buf_);
      if (!rec.empty()) on_frame(Frame{rec, false, line_ + 1});
      break;
    }
    case State::octet_body:
      if (!buf_.empty()) on_frame(Frame{buf_, true, 0});
      break;
    case State::frame_start:
    case State::skip_octets:
    case State::skip_line:
      break;
  }
  buf_.clear();
  state_ = State::frame_start;
}

/// Splits one datagram (UDP, or a UDP payload from a pcap) into records and calls
/// `on_record(std::string_view)` for each, in order. Trailing LF, CR and NUL bytes are framing
/// and are removed. With `split` set, the datagram is also cut at every LF that is followed by
/// `<`: senders that pack several syslog messages into one datagram start each with its PRI,
/// while a multi-line message (a stack trace) stays one record. Empty pieces produce no record.
/// Does not allocate.
template <class F>
void split_datagram(std::string_view payload, bool split, F&& on_record) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0'))
      s.remove_suffix(1);
    return s;
  };
  payload = trim(payload);
  if (split) {
    std::size_t from = 0;
    for (;;) {
      const std::size_t nl = payload.find("\n<", from);
      if (nl == std::string_view::npos) break;
      const std::string_view piece = trim(payload.substr(0, nl));
      if (!piece.empty()) on_record(piece);
      payload.remove_prefix(nl + 1);
      from = 0;
    }
  }
  if (!payload.empty()) on_record(payload);
}

}  // namespace sluice
