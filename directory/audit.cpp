// SPDX-License-Identifier: Apache-2.0
// Audit recording.
#include "directory/audit.hpp"

#include <algorithm>

#include "core/log.hpp"

namespace latchkey::directory {

std::string format_audit_line(const AuditEvent& e)
{
    std::string line = "audit " + e.event + " severity=" + std::string(to_string(e.severity));
    for (const auto& [k, v] : e.fields) {
        // Quoted when it holds what would break a key=value reading; inside, " and \ are
        // escaped, and the log escapes control bytes (\xNN), so a value cannot forge a field.
        const bool quote =
            v.empty() || std::any_of(v.begin(), v.end(), [](char ch) {
                const auto b = static_cast<unsigned char>(ch);
                return ch == ' ' || ch == '"' || ch == '=' || ch == '\\' || b < 0x20 || b == 0x7f;
            });
        line += " " + k + "=";
        if (quote) {
            line += '"';
            for (const char c : v) {
                if (c == '"' || c == '\\')
                    line += '\\';
                line += c;
            }
            line += '"';
        } else {
            line += v;
        }
    }
    return line;
}

void Audit::record(Severity severity, std::string event, std::map<std::string, std::string> fields)
{
    AuditEvent e;
    e.at = clock_.now();
    e.severity = severity;
    e.event = std::move(event);
    e.fields = std::move(fields);
    const auto stored = store_.append_audit(e);
    const auto level = severity == Severity::alert     ? core::LogLevel::error
                       : severity == Severity::warning ? core::LogLevel::warning
                       : severity == Severity::notice  ? core::LogLevel::notice
                                                       : core::LogLevel::info;
    core::log::write(level, format_audit_line(e));
    if (!stored)
        core::log::error("audit event could not be stored: " + stored.error().message);
    if (severity == Severity::alert && alert_)
        alert_(e);
    if (event_)
        event_(e);
}

} // namespace latchkey::directory
