// SPDX-License-Identifier: Apache-2.0
// Small pieces of the web front door: query and form parsing with limits, cookies, Basic
// authentication, HTML escaping, and responses (JSON, HTML, redirects) with the security
// headers every page gets.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/result.hpp"
#include "oidc/http_server.hpp"

namespace latchkey::oidc {

/// Parameters of a query string or an application/x-www-form-urlencoded body. A parameter
/// given twice, a bad %-escape, a CR/LF/NUL in a value, more than 64 parameters or a value
/// over 4 KiB is an error (RFC 6749 §3.1: parameters must not be repeated).
using Params = std::map<std::string, std::string, std::less<>>;
std::optional<std::string> form_decode(std::string_view part);
/// Every byte but the unreserved characters as %XX.
std::string form_encode(std::string_view value);
core::Result<Params> parse_params(std::string_view encoded);

/// The request's target path without the query, and its query parameters.
struct Target {
    std::string path;
    Params query;
};
core::Result<Target> parse_target(std::string_view target);

/// The named cookie of the request, if it was sent once.
std::optional<std::string> cookie(const HttpRequest& request, std::string_view name);

/// client_id and secret of an "Authorization: Basic" header (RFC 6749 §2.3.1 form-encoding).
struct BasicCredentials {
    std::string user;
    std::string password;
};
std::optional<BasicCredentials> basic_credentials(const HttpRequest& request);

/// The bearer token of an "Authorization: Bearer" header.
std::optional<std::string> bearer_token(const HttpRequest& request);

std::string html_escape(std::string_view text);

/// `base` with the parameters appended to its query (for redirects back to a client).
std::string with_params(std::string_view base, const Params& params);

HttpResponse json_response(const HttpRequest& request, http::status status,
                           const boost::json::value& body);
/// An OAuth error body {"error", "error_description"} (RFC 6749 §5.2).
HttpResponse oauth_error(const HttpRequest& request, http::status status, std::string_view error,
                         std::string_view description);
HttpResponse html_response(const HttpRequest& request, http::status status, std::string body);
/// Lets a page run /static/passkey.js and reach our own origin with fetch(): the only script
/// latchkey's pages have.
void allow_passkey_script(HttpResponse& response);
HttpResponse redirect(const HttpRequest& request, std::string_view location,
                      http::status status = http::status::found);
HttpResponse text_response(const HttpRequest& request, http::status status,
                           std::string_view content_type, std::string body);

} // namespace latchkey::oidc
