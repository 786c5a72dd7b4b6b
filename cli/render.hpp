// SPDX-License-Identifier: Apache-2.0
// How latchkeyctl shows the daemon's replies: tables and key: value blocks for people, or JSON.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/messages.hpp"

namespace latchkey::cli {

using Row = std::vector<std::string>;
using Field = std::pair<std::string, std::string>;

/// Columns aligned two spaces apart under a header line, no trailing blanks. Widths count
/// UTF-8 characters, not bytes. Rows shorter than the header are padded with empty cells.
std::string format_table(const Row& header, const std::vector<Row>& rows);

/// "key:   value" lines, values aligned one column after the longest key.
std::string format_block(const std::vector<Field>& fields);

/// Unix seconds as ISO-8601 UTC: "2026-11-23T11:50:59Z".
std::string format_time(std::int64_t unix_seconds);

std::string_view yes_no(bool b) noexcept;

/// `s` with the characters that could forge a line or drive a terminal (C0 and C1 controls, DEL)
/// escaped: "\n", "\t", "\x1b", "\u009b". User names, hosts and ttys reach the session list and
/// the audit trail from whoever typed at a login prompt.
std::string printable(std::string_view s);

/// One audit event for people, without a newline:
///   2026-11-23T11:50:59Z  alert    auth.deny  service=sshd user=root reason=root_disabled
/// The severity takes the width of the longest ("warning"), the event name `event_width`
/// characters, so that the fields of several lines line up. Fields keep the daemon's order; a
/// value that is empty or holds a blank, '"', '=', '\\' or a control character is quoted, with
/// '"' and '\\' escaped, so every line splits back into its fields.
std::string format_audit_line(const proto::AuditInfo& e, std::size_t event_width = 0);

/// The reply for people: a table for lists, a block for one thing, a line for Done, audit events
/// one per line, newest first. A generated password is written exactly once, on its own line,
/// after a note that it is shown only once.
void render_human(const proto::Response& reply, std::ostream& out);

/// The reply as one line of JSON (its fields, without the "type" key), secrets included.
void render_json(const proto::Response& reply, std::ostream& out);

} // namespace latchkey::cli
