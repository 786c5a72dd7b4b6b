// SPDX-License-Identifier: Apache-2.0
// http_post: a small, bounded HTTP(S) client on Beast, one POST at a time (webhooks, logout).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace latchkey::notify {

/// What a server may answer: its body is read (up to this much) only to finish the exchange.
inline constexpr std::size_t max_http_answer_body = 16 * 1024;

/// POSTs `body` to `url` (http or https) with `Content-Type: content_type` and returns the
/// HTTP status the server answered, whatever it is. HTTPS verifies the server's certificate
/// against the system trust store and its host name, and sends SNI. The whole exchange (resolve,
/// connect, handshake, request, answer) takes at most about `timeout` plus a second; it blocks
/// the calling thread. Errors: invalid_argument for a URL that is not http(s) or has no host;
/// io_failed for the network, TLS, a timeout or a malformed or too large answer. Messages never
/// contain the body, nor the URL's path or query (they may hold a webhook's token).
core::Result<unsigned> http_post(const std::string& url, std::string_view content_type,
                                 const std::string& body, std::chrono::milliseconds timeout);

/// Whether http_post would accept `url`: invalid_argument (saying why) if not. For config checks.
core::Status check_http_url(const std::string& url);

} // namespace latchkey::notify
