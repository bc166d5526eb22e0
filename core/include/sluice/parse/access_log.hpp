// SPDX-License-Identifier: Apache-2.0
/// Web server access lines in the NCSA Common and Combined Log Formats (Apache `%h %l %u %t
/// "%r" %>s %b "%{Referer}i" "%{User-agent}i"`, nginx `combined`), as raw lines or as the message
/// of a syslog record. The request parts become fields with ECS names, which the Sigma mapping
/// maps to the W3C names webserver rules use (`cs-method`, `cs-uri-query`, `sc-status`, ...):
///
///   source.ip, user.name, http.request.method, url.original, url.path, url.query,
///   http.version, http.response.status_code, http.response.body.bytes,
///   http.request.referrer, user_agent.original
///
/// `-` values give no field. A line wrapped in one extra pair of double quotes (as some log
/// shippers write it) is accepted. Views point into the text given; nothing is copied or
/// unescaped (`\"` inside a quoted part stays as written). No allocation.
#pragma once

#include <cstdint>
#include <string_view>

#include "sluice/parse/field_scratch.hpp"

namespace sluice {

/// When `text` is an access-log line, appends its fields to `fields`, stores the `[time]` of the
/// request in `time_ns` (UTC, from its own offset) and returns true; otherwise returns false and
/// leaves both untouched.
bool extract_access_log(std::string_view text, FieldScratch& fields, std::int64_t& time_ns);

}  // namespace sluice
