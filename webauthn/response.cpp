// SPDX-License-Identifier: Apache-2.0
// RegistrationResponseJSON and AuthenticationResponseJSON through Boost.JSON.
#include "webauthn/response.hpp"

#include <boost/json.hpp>

#include "core/random.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace json = boost::json;

namespace {

constexpr std::size_t max_transports = 8;
constexpr std::size_t max_transport_length = 32;

core::Unexpected malformed(std::string what)
{
    return core::fail(core::Error{Reason::malformed_response, std::move(what)});
}

core::Result<json::object> parse_object(std::string_view text)
{
    if (text.size() > max_response_json_size)
        return core::fail(core::Error{Reason::too_large, "credential response is too large"});
    json::parse_options options;
    options.max_depth = 8;
    std::error_code ec;
    json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
    if (ec || !v.is_object())
        return core::fail(
            core::Error{Reason::malformed_json, "credential response is not a JSON object"});
    return std::move(v.get_object());
}

core::Result<std::string> binary(const json::object& o, std::string_view name, bool allow_empty)
{
    const auto* v = o.if_contains(name);
    if (v == nullptr || !v->is_string())
        return malformed("\"" + std::string(name) + "\" is missing or not a string");
    auto bytes = core::base64_decode(v->get_string());
    if (!bytes || (!allow_empty && bytes->empty()))
        return malformed("\"" + std::string(name) + "\" is not base64url");
    return std::move(*bytes);
}

std::optional<std::string> optional_string(const json::object& o, std::string_view name)
{
    const auto* v = o.if_contains(name);
    if (v == nullptr || !v->is_string())
        return std::nullopt;
    return std::string(v->get_string());
}

// The members every PublicKeyCredential JSON has: id, rawId, type and response.
core::Result<const json::object*> credential_parts(const json::object& o, std::string& id)
{
    LATCHKEY_TRY(raw_id, binary(o, "rawId", false));
    if (o.contains("id")) {
        LATCHKEY_TRY(given, binary(o, "id", false));
        if (given != raw_id)
            return malformed("\"id\" and \"rawId\" differ");
    }
    if (const auto* t = o.if_contains("type");
        t != nullptr && (!t->is_string() || t->get_string() != "public-key"))
        return malformed("\"type\" is not \"public-key\"");
    const auto* response = o.if_contains("response");
    if (response == nullptr || !response->is_object())
        return malformed("\"response\" is missing");
    id = std::move(raw_id);
    return &response->get_object();
}

} // namespace

core::Result<RegistrationResponse> parse_registration_response(std::string_view text)
{
    LATCHKEY_TRY(o, parse_object(text));
    RegistrationResponse out;
    LATCHKEY_TRY(response, credential_parts(o, out.id));
    LATCHKEY_TRY(client_data, binary(*response, "clientDataJSON", false));
    LATCHKEY_TRY(attestation, binary(*response, "attestationObject", false));
    out.client_data_json = std::move(client_data);
    out.attestation_object = std::move(attestation);
    if (const auto* t = response->if_contains("transports"); t != nullptr) {
        const auto* list = t->if_array();
        if (list == nullptr || list->size() > max_transports)
            return malformed("\"transports\" is not a short list");
        for (const auto& item : *list) {
            if (!item.is_string() || item.get_string().empty() ||
                item.get_string().size() > max_transport_length)
                return malformed("\"transports\" holds something other than a name");
            out.transports.emplace_back(item.get_string());
        }
    }
    out.authenticator_attachment = optional_string(o, "authenticatorAttachment");
    return out;
}

core::Result<AuthenticationResponse> parse_authentication_response(std::string_view text)
{
    LATCHKEY_TRY(o, parse_object(text));
    AuthenticationResponse out;
    LATCHKEY_TRY(response, credential_parts(o, out.id));
    LATCHKEY_TRY(client_data, binary(*response, "clientDataJSON", false));
    LATCHKEY_TRY(auth_data, binary(*response, "authenticatorData", false));
    LATCHKEY_TRY(signature, binary(*response, "signature", false));
    out.client_data_json = std::move(client_data);
    out.authenticator_data = std::move(auth_data);
    out.signature = std::move(signature);
    if (const auto* h = response->if_contains("userHandle"); h != nullptr && !h->is_null()) {
        LATCHKEY_TRY(handle, binary(*response, "userHandle", true));
        if (!handle.empty())
            out.user_handle = std::move(handle);
    }
    out.authenticator_attachment = optional_string(o, "authenticatorAttachment");
    return out;
}

} // namespace latchkey::webauthn
