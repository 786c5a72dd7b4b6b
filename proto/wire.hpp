// SPDX-License-Identifier: Apache-2.0
// Frames and messages on the wire: u32 big-endian length, then one JSON object with a "type".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "proto/messages.hpp"

namespace latchkey::proto {

/// The JSON text of a message, {"type": "...", ...fields}.
std::string encode(const Request& r);
std::string encode(const Response& r);

/// Parses the JSON text of one message. Errors: protocol_malformed (not JSON, not an object,
/// a field of the wrong kind), protocol_unknown_message (a type this side does not know).
core::Result<Request> decode_request(std::string_view text);
core::Result<Response> decode_response(std::string_view text);

/// The message's JSON with every secret replaced by "<redacted>": safe for logs.
std::string to_log_string(const Request& r);
std::string to_log_string(const Response& r);

/// The type name of the message held ("user.create").
std::string_view type_name(const Request& r) noexcept;
std::string_view type_name(const Response& r) noexcept;

/// A Failure response from an error.
Response failure(const core::Error& e);

/// Prefixes a payload with its length. Fails with protocol_too_large above `max_size`.
core::Result<std::string> frame(std::string_view payload, std::size_t max_size);

/// Reads frames from a byte stream fed in arbitrary pieces.
class FrameReader {
public:
    explicit FrameReader(std::size_t max_size) noexcept
        : max_size_(max_size)
    {
    }

    /// Appends received bytes. Fails with protocol_too_large as soon as a header announces a
    /// frame above the bound, before its body is buffered.
    core::Status feed(std::string_view bytes);

    /// Takes the next complete payload out, if one is buffered.
    bool next(std::string& payload);

    /// Bytes still buffered that do not form a whole frame.
    [[nodiscard]] std::size_t pending() const noexcept { return buffer_.size(); }

    /// How many more bytes the next frame needs (header first); at least 1.
    [[nodiscard]] std::size_t wanted() const noexcept;

private:
    core::Status check_header() const;

    std::size_t max_size_;
    std::string buffer_;
};

} // namespace latchkey::proto
