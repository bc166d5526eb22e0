// SPDX-License-Identifier: Apache-2.0
/// `Parker` lets an idle pipeline thread sleep in the kernel until a producer has handed it
/// something, instead of polling. Polling with yields and short sleeps cost a third of the CPU of
/// a busy UDP receiver on a 2-core machine (context switches measured with perf); a futex wait
/// costs nothing while idle, and a producer pays a system call only when the consumer is asleep.
///
/// Protocol (a Dekker-style handshake; both sides use sequentially consistent fences):
/// - consumer: `auto t = prepare();` re-check its rings; if empty `park(t, timeout)`, else
///   `cancel()`;
/// - producer: publish the item, then `unpark()`.
/// Either the consumer's re-check sees the item, or the producer sees the consumer asleep and
/// wakes it. The timeout bounds how long a missed wake-up (none is expected) or a shutdown flag
/// waits to be noticed.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>

namespace sluice::detail {

class Parker {
 public:
  /// Consumer: announces the intent to sleep; returns the ticket to pass to `park`.
  std::uint32_t prepare() {
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_relaxed);
  }
  /// Consumer: sleeps until `unpark` or `timeout`; returns at once when a producer has already
  /// unparked since `prepare`.
  void park(std::uint32_t ticket, std::chrono::microseconds timeout) {
    timespec ts{static_cast<time_t>(timeout.count() / 1'000'000),
                static_cast<long>(timeout.count() % 1'000'000) * 1000};
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, ticket, &ts,
            nullptr, 0);
    sleeping_.store(false, std::memory_order_relaxed);
  }
  /// Consumer: found work after `prepare`; does not sleep.
  void cancel() { sleeping_.store(false, std::memory_order_relaxed); }

  /// Producer: wakes the consumer when it is asleep (or about to be). Call after publishing.
  void unpark() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!sleeping_.load(std::memory_order_relaxed)) return;
    epoch_.fetch_add(1, std::memory_order_relaxed);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
  }

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  alignas(64) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<bool> sleeping_{false};
};

}  // namespace sluice::detail
