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

/// The reply for people: a table for lists, a block for one thing, a line for Done. A generated
/// password is written exactly once, on its own line, after a note that it is shown only once.
void render_human(const proto::Response& reply, std::ostream& out);

/// The reply as one line of JSON (its fields, without the "type" key), secrets included.
void render_json(const proto::Response& reply, std::ostream& out);

} // namespace latchkey::cli
