// SPDX-License-Identifier: Apache-2.0
/// The fields a query can name, and how each is read from a stored event. Names follow the ECS
/// JSON output (output/json_lines.hpp) with short aliases; any other name is an extracted field
/// (`user`, or `sluice.fields.user`).
///
/// | query names | value |
/// | --- | --- |
/// | `host`, `host.name` | syslog host |
/// | `app`, `process.name`, `program` | app name / tag |
/// | `pid`, `procid`, `process.pid` | PROCID |
/// | `msgid`, `log.syslog.msgid` | RFC 5424 MSGID |
/// | `message` | parsed message |
/// | `raw`, `event.original` | the raw line |
/// | `source.ip`, `ip` | sender address |
/// | `source.port` | sender port |
/// | `log.file.path`, `source`, `path` | file the event was read from |
/// | `log.file.line`, `line` | its line number (0 when not from a file: absent) |
/// | `facility`, `log.syslog.facility.code` | facility number |
/// | `severity`, `log.syslog.severity.code` | severity number |
/// | `format`, `sluice.format` | input format name (`rfc3164`, ...) |
/// | `template` | template id (0: absent) |
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/store/segment_format.hpp"

namespace sluice::search {

/// Which value of an event a field name refers to.
enum class FieldId : std::uint8_t {
  raw,
  message,
  host,
  app,
  procid,
  msgid,
  source_ip,
  source_port,
  source_path,
  line,
  facility,
  severity,
  format,
  template_id,
  extracted,  ///< a parsed field, by name
};

/// A resolved field name.
struct FieldRef {
  FieldId id = FieldId::raw;
  std::string name;  ///< the extracted field's name (FieldId::extracted), else the canonical name
};

/// Resolves a query field name; never fails (unknown names are extracted fields).
FieldRef resolve_field(std::string_view name);

/// Room `field_value` may need for numbers and addresses.
inline constexpr std::size_t field_buffer_bytes = 64;

/// The value of `field` in `event` as text, or nullopt when the event lacks it (empty strings,
/// no peer, no facility/severity, line 0, template 0 count as absent). Numbers and addresses
/// are written into `buf` (at least `field_buffer_bytes`). Does not allocate.
std::optional<std::string_view> field_value(const StoredEvent& event, const FieldRef& field,
                                            char* buf);

}  // namespace sluice::search
