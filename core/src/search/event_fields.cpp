// SPDX-License-Identifier: Apache-2.0
/// Field names and field values of stored events (see event_fields.hpp for the table).
#include "sluice/search/event_fields.hpp"

#include <charconv>

namespace sluice::search {
namespace {

struct Alias {
  std::string_view name;
  FieldId id;
  std::string_view canonical;
};

constexpr Alias aliases[] = {
    {"host", FieldId::host, "host.name"},
    {"host.name", FieldId::host, "host.name"},
    {"app", FieldId::app, "process.name"},
    {"process.name", FieldId::app, "process.name"},
    {"program", FieldId::app, "process.name"},
    {"pid", FieldId::procid, "process.pid"},
    {"procid", FieldId::procid, "process.pid"},
    {"process.pid", FieldId::procid, "process.pid"},
    {"msgid", FieldId::msgid, "log.syslog.msgid"},
    {"log.syslog.msgid", FieldId::msgid, "log.syslog.msgid"},
    {"message", FieldId::message, "message"},
    {"raw", FieldId::raw, "event.original"},
    {"event.original", FieldId::raw, "event.original"},
    {"source.ip", FieldId::source_ip, "source.ip"},
    {"ip", FieldId::source_ip, "source.ip"},
    {"source.port", FieldId::source_port, "source.port"},
    {"log.file.path", FieldId::source_path, "log.file.path"},
    {"source", FieldId::source_path, "log.file.path"},
    {"path", FieldId::source_path, "log.file.path"},
    {"log.file.line", FieldId::line, "log.file.line"},
    {"line", FieldId::line, "log.file.line"},
    {"facility", FieldId::facility, "log.syslog.facility.code"},
    {"log.syslog.facility.code", FieldId::facility, "log.syslog.facility.code"},
    {"severity", FieldId::severity, "log.syslog.severity.code"},
    {"log.syslog.severity.code", FieldId::severity, "log.syslog.severity.code"},
    {"format", FieldId::format, "sluice.format"},
    {"sluice.format", FieldId::format, "sluice.format"},
    {"template", FieldId::template_id, "template"},
};

std::string_view number(std::uint64_t v, char* buf) {
  auto [end, ec] = std::to_chars(buf, buf + field_buffer_bytes, v);
  return {buf, static_cast<std::size_t>(end - buf)};
}

std::optional<std::string_view> present(std::string_view v) {
  if (v.empty()) return std::nullopt;
  return v;
}

}  // namespace

FieldRef resolve_field(std::string_view name) {
  for (const auto& a : aliases)
    if (a.name == name) return FieldRef{a.id, std::string(a.canonical)};
  constexpr std::string_view prefix = "sluice.fields.";
  if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix)
    name.remove_prefix(prefix.size());
  return FieldRef{FieldId::extracted, std::string(name)};
}

std::optional<std::string_view> field_value(const StoredEvent& stored, const FieldRef& field,
                                            char* buf) {
  const Event& e = stored.event;
  switch (field.id) {
    case FieldId::raw:
      return present(e.raw);
    case FieldId::message:
      return present(e.message);
    case FieldId::host:
      return present(e.host);
    case FieldId::app:
      return present(e.app);
    case FieldId::procid:
      return present(e.procid);
    case FieldId::msgid:
      return present(e.msgid);
    case FieldId::source_ip:
      if (e.peer.family == 0) return std::nullopt;
      return std::string_view(buf, e.peer.format_address(buf));
    case FieldId::source_port:
      if (e.peer.family == 0) return std::nullopt;
      return number(e.peer.port, buf);
    case FieldId::source_path:
      return present(stored.source_path);
    case FieldId::line:
      if (e.line == 0) return std::nullopt;
      return number(e.line, buf);
    case FieldId::facility:
      if (e.facility == no_facility) return std::nullopt;
      return number(e.facility, buf);
    case FieldId::severity:
      if (e.severity == no_severity) return std::nullopt;
      return number(e.severity, buf);
    case FieldId::format:
      return to_string(e.format);
    case FieldId::template_id:
      if (e.template_id == 0) return std::nullopt;
      return number(e.template_id, buf);
    case FieldId::extracted:
      for (const auto& f : e.fields)
        if (f.name == field.name) return present(f.value);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace sluice::search
