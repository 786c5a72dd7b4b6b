// SPDX-License-Identifier: Apache-2.0
// clientDataJSON through Boost.JSON, with a size bound and a type check for every known member.
#include "webauthn/client_data.hpp"

#include <boost/json.hpp>

#include "core/random.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace json = boost::json;

namespace {

core::Unexpected malformed(std::string what)
{
    return core::fail(core::Error{Reason::malformed_client_data, std::move(what)});
}

bool is_base64url_char(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

core::Result<std::string> string_member(const json::object& o, std::string_view name)
{
    const auto* v = o.if_contains(name);
    if (v == nullptr || !v->is_string())
        return malformed("clientDataJSON member \"" + std::string(name) +
                         "\" is missing or not a string");
    return std::string(v->get_string());
}

} // namespace

std::optional<std::string> decode_base64url_strict(std::string_view text)
{
    for (const char c : text)
        if (!is_base64url_char(c))
            return std::nullopt;
    auto bytes = core::base64_decode(text);
    // Canonical: the unused bits of the last character are zero, so each byte string has one
    // encoding and a challenge compares equal only to itself.
    if (!bytes || core::base64_encode(*bytes, true, false) != text)
        return std::nullopt;
    return bytes;
}

core::Result<ClientData> parse_client_data(std::string_view text)
{
    if (text.size() > max_client_data_size)
        return core::fail(core::Error{Reason::too_large, "clientDataJSON is too large"});
    json::parse_options options;
    options.max_depth = 8;
    std::error_code ec;
    json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
    if (ec || !v.is_object())
        return malformed("clientDataJSON is not a JSON object");
    const auto& o = v.get_object();

    ClientData out;
    LATCHKEY_TRY(type, string_member(o, "type"));
    LATCHKEY_TRY(challenge, string_member(o, "challenge"));
    LATCHKEY_TRY(origin, string_member(o, "origin"));
    auto bytes = decode_base64url_strict(challenge);
    if (!bytes || bytes->empty())
        return malformed("clientDataJSON challenge is not base64url");
    out.type = std::move(type);
    out.challenge = std::move(*bytes);
    out.origin = std::move(origin);

    if (const auto* c = o.if_contains("crossOrigin"); c != nullptr && !c->is_null()) {
        if (!c->is_bool())
            return malformed("clientDataJSON crossOrigin is not a boolean");
        out.cross_origin = c->get_bool();
    }
    if (const auto* t = o.if_contains("topOrigin"); t != nullptr) {
        if (!t->is_string())
            return malformed("clientDataJSON topOrigin is not a string");
        out.top_origin = std::string(t->get_string());
    }
    if (const auto* tb = o.if_contains("tokenBinding"); tb != nullptr) {
        const auto* obj = tb->if_object();
        const auto* status = obj != nullptr ? obj->if_contains("status") : nullptr;
        if (status == nullptr || !status->is_string())
            return malformed("clientDataJSON tokenBinding has no status");
        if (status->get_string() == "present")
            return core::fail(
                core::Error{Reason::token_binding_unsupported, "Token Binding is not supported"});
        if (status->get_string() != "supported")
            return malformed("clientDataJSON tokenBinding status is unknown");
    }
    return out;
}

} // namespace latchkey::webauthn
