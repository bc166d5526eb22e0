// SPDX-License-Identifier: Apache-2.0
/// `key=value` extraction from free-text messages: auditd (`type=SYSCALL msg=audit(...): arch=...
/// comm="bash"`), iptables and firewall logs (`SRC=10.0.0.1 DST=... PROTO=TCP`), PAM
/// (`logname= uid=0 rhost=218.188.2.4`).
///
/// Rules, in order of precedence:
/// - a key is `[A-Za-z0-9_.-]+` directly before `=`, at the start of the text or after a space,
///   tab, `,`, `;`, `(`, `[` or `{`;
/// - a value starting with `"` or `'` runs to the matching quote (quotes removed, backslash
///   escapes kept as written and skipped over, never rewritten: no copying); an unterminated
///   quote runs to the end of the text;
/// - any other value runs to the next space or tab and loses one trailing `,` or `;`
///   (`lock=233570404, flags=0x1` gives `lock` = `233570404`); it may be empty (`ruser= rhost=`);
/// - `=` inside a value (`a=b=c`) does not start a new pair.
///
/// Views point into the text given, so the caller's bytes must outlive the event. No allocation.
#pragma once

#include <cstddef>
#include <string_view>

#include "sluice/parse/field_scratch.hpp"

namespace sluice {

/// Most pairs taken from one message: auditd SYSCALL records, the largest common case, carry
/// about 30; beyond 64 a line is more likely a data dump than a log record. Pairs after the cap
/// are dropped (the message and raw bytes keep them).
inline constexpr std::size_t max_key_value_fields = 64;

/// Appends the `key=value` pairs found in `text` to `fields` (at most `max_key_value_fields`, and
/// fewer when `fields` fills up). Returns the number appended. Does not allocate.
std::size_t extract_key_values(std::string_view text, FieldScratch& fields);

}  // namespace sluice
