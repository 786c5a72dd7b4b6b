// SPDX-License-Identifier: Apache-2.0
// [webauthn] settings: the RP id and origins a browser will accept, derived and checked.
#include "daemon/webauthn_settings.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace latchkey::daemon {

namespace {

using core::Errc;

struct Origin {
    std::string scheme;
    std::string host; // lower case; IPv6 in brackets
};

/// "scheme://host[:port]" and nothing more (an origin has no path, query or user).
std::optional<Origin> parse_origin(std::string_view text)
{
    const auto sep = text.find("://");
    if (sep == std::string_view::npos)
        return std::nullopt;
    Origin o;
    o.scheme = std::string(text.substr(0, sep));
    std::string_view rest = text.substr(sep + 3);
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos)
        return std::nullopt;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        o.host = std::string(rest.substr(0, close + 1));
        rest.remove_prefix(close + 1);
    } else {
        const auto colon = rest.find(':');
        o.host = std::string(rest.substr(0, colon));
        rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon);
    }
    if (!rest.empty()) {
        if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6 ||
            !std::all_of(rest.begin() + 1, rest.end(),
                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            return std::nullopt;
    }
    if (o.host.empty() || (o.scheme != "http" && o.scheme != "https"))
        return std::nullopt;
    std::transform(o.host.begin(), o.host.end(), o.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return o;
}

/// A DNS name of letters, digits, hyphens and dots: what an RP id is (never an IP address).
bool is_domain(const std::string& s)
{
    if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.' ||
        s.find("..") != std::string::npos)
        return false;
    const bool chars = std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '.';
    });
    const bool all_numeric = std::all_of(
        s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) || c == '.'; });
    return chars && !all_numeric;
}

bool is_localhost(const std::string& host)
{
    return host == "localhost" ||
           (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0);
}

core::Unexpected invalid(const std::string& what)
{
    return core::fail(Errc::config_invalid, what);
}

webauthn::UserVerification user_verification(const Config& c)
{
    if (c.webauthn_user_verification == "required")
        return webauthn::UserVerification::required;
    if (c.webauthn_user_verification == "discouraged")
        return webauthn::UserVerification::discouraged;
    return webauthn::UserVerification::preferred;
}

} // namespace

core::Result<WebauthnSettings> webauthn_settings(const Config& c, std::string_view issuer)
{
    // The issuer's origin: an issuer may have a path ("https://example.org/sso").
    const auto scheme_end = issuer.find("://");
    if (scheme_end != std::string_view::npos)
        issuer = issuer.substr(0, issuer.find('/', scheme_end + 3));
    const auto issuer_origin = parse_origin(issuer);
    WebauthnSettings out;
    out.rp.name = c.webauthn_rp_name;
    out.rp.id = c.webauthn_rp_id;
    if (out.rp.id.empty()) {
        if (!issuer_origin)
            return invalid("webauthn.rp_id: the OIDC issuer " + std::string(issuer) +
                           " names no host to take the RP id from; set webauthn.rp_id");
        out.rp.id = issuer_origin->host;
    }
    std::transform(out.rp.id.begin(), out.rp.id.end(), out.rp.id.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (!is_domain(out.rp.id))
        return invalid("webauthn.rp_id: \"" + out.rp.id +
                       "\" is not a domain name; passkeys need one (an IP address is never an "
                       "RP id). Set webauthn.rp_id, or an [oidc] issuer with a host name");
    out.rp.origins = c.webauthn_origins;
    if (out.rp.origins.empty())
        out.rp.origins = {std::string(issuer)};
    for (const auto& text : out.rp.origins) {
        const auto o = parse_origin(text);
        if (!o)
            return invalid("webauthn.origins: \"" + text +
                           "\" is not an origin (scheme://host[:port], no path)");
        if (o->scheme == "http" && !is_localhost(o->host))
            return invalid("webauthn.origins: " + text +
                           " is plain http: browsers offer passkeys only to https pages (and to "
                           "http://localhost). Set [oidc] tls_certificate and tls_private_key, "
                           "or serve latchkey behind an https proxy and set [oidc] issuer");
        if (o->host != out.rp.id && !(o->host.size() > out.rp.id.size() &&
                                      o->host.compare(o->host.size() - out.rp.id.size() - 1,
                                                      std::string::npos, "." + out.rp.id) == 0))
            return invalid("webauthn.origins: the host of " + text + " is not the RP id \"" +
                           out.rp.id + "\" or a name below it");
    }
    out.user_verification = user_verification(c);
    out.timeout = std::chrono::seconds(c.webauthn_timeout_s);
    out.max_passkeys_per_user = c.webauthn_max_passkeys;
    return out;
}

core::Result<credentials::HostKeySettings> host_key_settings(const Config& c)
{
    credentials::HostKeySettings out;
    if (!c.webauthn_host_rp_id.empty()) {
        std::string id = c.webauthn_host_rp_id;
        std::transform(id.begin(), id.end(), id.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (!id.starts_with("pam:") || !is_domain(id.substr(4)))
            return invalid("webauthn.host_rp_id: \"" + c.webauthn_host_rp_id +
                           "\" is not \"pam:\" and a domain name, such as "
                           "\"pam:example.internal\"");
        out.rp_id = std::move(id);
    }
    out.rp_name = c.webauthn_rp_name;
    out.user_verification = user_verification(c);
    out.touch_timeout = std::chrono::seconds(c.webauthn_host_touch_timeout_s);
    out.max_per_user = c.webauthn_max_passkeys;
    out.answer_time = std::max(c.answer_timeout, out.touch_timeout);
    return out;
}

} // namespace latchkey::daemon
