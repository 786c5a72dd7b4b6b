// SPDX-License-Identifier: Apache-2.0
// Parsing and answering HTTP for the provider.
#include "oidc/web.hpp"

#include <boost/url/parse.hpp>

#include "core/random.hpp"

namespace latchkey::oidc {

namespace {

using core::Errc;

constexpr std::size_t max_params = 64;
constexpr std::size_t max_value = 4096;

bool has_control(std::string_view s)
{
    for (const char c : s)
        if (c == '\r' || c == '\n' || c == '\0')
            return true;
    return false;
}

/// Headers every answer carries: no caching of anything with tokens or forms, no framing, no
/// sniffing, no referrer leaking codes.
void secure(HttpResponse& r)
{
    r.set(http::field::cache_control, "no-store");
    r.set(http::field::pragma, "no-cache");
    r.set("X-Content-Type-Options", "nosniff");
    r.set("X-Frame-Options", "DENY");
    r.set("Referrer-Policy", "no-referrer");
}

} // namespace

/// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte; nullopt for a
/// '%' not followed by two hex digits.
std::optional<std::string> form_decode(std::string_view part)
{
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(part.size());
    for (std::size_t i = 0; i < part.size(); ++i) {
        const char c = part[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= part.size())
                return std::nullopt;
            const int hi = hex(part[i + 1]);
            const int lo = hex(part[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

core::Result<Params> parse_params(std::string_view encoded)
{
    Params out;
    while (!encoded.empty()) {
        const auto amp = encoded.find('&');
        const std::string_view pair = encoded.substr(0, amp);
        encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
        if (pair.empty())
            continue;
        const auto eq = pair.find('=');
        const auto k = form_decode(pair.substr(0, eq));
        const auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                                    : form_decode(pair.substr(eq + 1));
        if (!k || !v)
            return core::fail(Errc::invalid_argument, "malformed parameters");
        if (out.size() >= max_params || v->size() > max_value || k->size() > 64)
            return core::fail(Errc::invalid_argument, "too many or too long parameters");
        if (has_control(*k) || has_control(*v))
            return core::fail(Errc::invalid_argument,
                              "parameter '" + k->substr(0, 32) + "' holds a control character");
        if (!out.emplace(*k, *v).second)
            return core::fail(Errc::invalid_argument, "a parameter is given more than once");
    }
    return out;
}

core::Result<Target> parse_target(std::string_view target)
{
    const auto q = target.find('?');
    Target t;
    t.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
        LATCHKEY_TRY(params, parse_params(target.substr(q + 1)));
        t.query = std::move(params);
    }
    return t;
}

std::optional<std::string> cookie(const HttpRequest& request, std::string_view name)
{
    std::optional<std::string> found;
    const auto [first, last] = request.equal_range(http::field::cookie);
    for (auto field = first; field != last; ++field) {
        std::string_view rest = field->value();
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            std::string_view pair = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            while (!pair.empty() && pair.front() == ' ')
                pair.remove_prefix(1);
            const auto eq = pair.find('=');
            if (eq == std::string_view::npos || pair.substr(0, eq) != name)
                continue;
            if (found)
                return std::nullopt; // sent twice: trust neither
            found = std::string(pair.substr(eq + 1));
        }
    }
    return found;
}

namespace {

/// The credentials after "Authorization: <scheme> ", if the request uses that scheme.
std::optional<std::string_view> authorization(const HttpRequest& request, std::string_view scheme)
{
    const auto it = request.find(http::field::authorization);
    if (it == request.end())
        return std::nullopt;
    const std::string_view v = it->value();
    if (v.size() <= scheme.size() + 1 || v.substr(0, scheme.size()) != scheme ||
        v[scheme.size()] != ' ')
        return std::nullopt;
    return v.substr(scheme.size() + 1);
}

} // namespace

std::optional<BasicCredentials> basic_credentials(const HttpRequest& request)
{
    const auto value = authorization(request, "Basic");
    if (!value)
        return std::nullopt;
    const auto decoded = core::base64_decode(*value);
    if (!decoded)
        return std::nullopt;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    // RFC 6749 §2.3.1: both parts are form-encoded before base64.
    auto u = form_decode(std::string_view(*decoded).substr(0, colon));
    auto p = form_decode(std::string_view(*decoded).substr(colon + 1));
    if (!u || !p)
        return std::nullopt;
    BasicCredentials c{std::move(*u), std::move(*p)};
    if (has_control(c.user) || has_control(c.password))
        return std::nullopt;
    return c;
}

std::optional<std::string> bearer_token(const HttpRequest& request)
{
    const auto value = authorization(request, "Bearer");
    return value ? std::optional<std::string>(*value) : std::nullopt;
}

std::string html_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string form_encode(std::string_view v)
{
    // Form encoding (RFC 6749 §4.1.2): everything but unreserved characters as %XX, so that a
    // '+' in a state comes back as a '+', not a space.
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (const char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4U];
            out += hex[u & 0xFU];
        }
    }
    return out;
}

std::string with_params(std::string_view base, const Params& params)
{
    std::string out(base);
    char sep = out.find('?') == std::string::npos ? '?' : '&';
    if (!out.empty() && (out.back() == '?' || out.back() == '&'))
        sep = '\0';
    for (const auto& [k, v] : params) {
        if (sep != '\0')
            out += sep;
        out += form_encode(k) + "=" + form_encode(v);
        sep = '&';
    }
    return out;
}

HttpResponse text_response(const HttpRequest& request, http::status status,
                           std::string_view content_type, std::string body)
{
    HttpResponse r{status, request.version()};
    r.set(http::field::content_type, content_type);
    secure(r);
    r.keep_alive(request.keep_alive());
    r.body() = std::move(body);
    r.prepare_payload();
    return r;
}

HttpResponse json_response(const HttpRequest& request, http::status status,
                           const boost::json::value& body)
{
    return text_response(request, status, "application/json", boost::json::serialize(body));
}

HttpResponse oauth_error(const HttpRequest& request, http::status status, std::string_view error,
                         std::string_view description)
{
    boost::json::object o;
    o["error"] = error;
    o["error_description"] = description;
    auto r = json_response(request, status, o);
    if (status == http::status::unauthorized)
        r.set(http::field::www_authenticate, "Basic realm=\"latchkey\"");
    return r;
}

HttpResponse html_response(const HttpRequest& request, http::status status, std::string body)
{
    auto r = text_response(request, status, "text/html; charset=utf-8", std::move(body));
    // No script at all on these pages; styles from our own origin only. No form-action: browsers
    // apply it to the redirects after a form is posted, and the last one goes to the client.
    r.set("Content-Security-Policy",
          "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
          "base-uri 'none'");
    return r;
}

void allow_passkey_script(HttpResponse& r)
{
    r.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
          "img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
}

HttpResponse redirect(const HttpRequest& request, std::string_view location, http::status status)
{
    auto r = text_response(request, status, "text/plain; charset=utf-8", "");
    r.set(http::field::location, location);
    return r;
}

} // namespace latchkey::oidc
