// SPDX-License-Identifier: Apache-2.0
// One security key ceremony for the PAM module.
#include "hostkey/helper.hpp"

#include <boost/json.hpp>

#include "core/random.hpp"
#include "hostkey/ceremony.hpp"
#include "proto/wire.hpp"
#include "webauthn/client_data.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::hostkey {

namespace {

namespace json = boost::json;

constexpr std::size_t max_ids = 64;
constexpr std::size_t max_text = 512;

std::string b64url(std::string_view bytes)
{
    return core::base64_encode(bytes, true, false);
}

core::Unexpected bad(std::string what)
{
    return core::fail(core::Errc::protocol_malformed, "key.start: " + std::move(what));
}

/// The decoded ids of `ids`, after the bounds a ceremony must keep.
core::Result<std::vector<std::string>> decode_ids(const std::vector<std::string>& ids)
{
    if (ids.size() > max_ids)
        return bad("too many credential ids");
    std::vector<std::string> out;
    for (const auto& id : ids) {
        auto raw = webauthn::decode_base64url_strict(id);
        if (!raw || raw->empty() || raw->size() > 1023)
            return bad("a credential id is not base64url of 1 to 1023 bytes");
        out.push_back(std::move(*raw));
    }
    return out;
}

core::Status check(const proto::SecurityKeyCeremony& c)
{
    if (c.kind != "get" && c.kind != "create")
        return bad("kind is neither get nor create");
    for (const std::string* s : {&c.rp_id, &c.origin})
        if (s->empty() || s->size() > max_text)
            return bad("relying party id or origin missing or too long");
    for (const std::string* s : {&c.rp_name, &c.user_name, &c.display_name})
        if (s->size() > max_text)
            return bad("a name is too long");
    const auto challenge = webauthn::decode_base64url_strict(c.challenge);
    if (!challenge || challenge->size() < 16 || challenge->size() > 64)
        return bad("the challenge is not base64url of 16 to 64 bytes");
    if (c.timeout_s < 1 || c.timeout_s > 300)
        return bad("the timeout is not 1 to 300 seconds");
    if (c.kind == "create") {
        const auto handle = webauthn::decode_base64url_strict(c.user_handle);
        if (!handle || handle->empty() || handle->size() > 64 || c.user_name.empty())
            return bad("an enrolment needs a user handle of 1 to 64 bytes and a user name");
    }
    return {};
}

json::object response_json(std::string_view id, json::object response)
{
    const std::string encoded = b64url(id);
    return {{"id", encoded},
            {"rawId", encoded},
            {"type", "public-key"},
            {"authenticatorAttachment", "cross-platform"},
            {"clientExtensionResults", json::object{}},
            {"response", std::move(response)}};
}

/// Runs the ceremony on the open key; the response JSON, or the problem.
core::Result<std::string> run(const Device& key,
                              const proto::SecurityKeyCeremony& c,
                              std::vector<std::string> ids,
                              const core::Secret* pin)
{
    const std::string client_data = client_data_json(c);
    const std::string hash = webauthn::sha256(client_data);
    if (c.kind == "get") {
        LATCHKEY_TRY(a,
                     get_assertion(key, {c.rp_id, hash, std::move(ids), c.user_verification, pin}));
        json::object r{{"clientDataJSON", b64url(client_data)},
                       {"authenticatorData", b64url(a.authenticator_data)},
                       {"signature", b64url(a.signature)}};
        if (!a.user_handle.empty())
            r["userHandle"] = b64url(a.user_handle);
        return json::serialize(response_json(a.credential_id, std::move(r)));
    }
    CredentialRequest req;
    req.rp_id = c.rp_id;
    req.rp_name = c.rp_name.empty() ? c.rp_id : c.rp_name;
    req.user_id = *webauthn::decode_base64url_strict(c.user_handle);
    req.user_name = c.user_name;
    req.display_name = c.display_name.empty() ? c.user_name : c.display_name;
    req.client_data_hash = hash;
    req.exclude = std::move(ids);
    req.user_verification = c.user_verification || pin != nullptr;
    req.pin = pin;
    LATCHKEY_TRY(made, make_credential(key, req));
    json::object r{{"clientDataJSON", b64url(client_data)},
                   {"attestationObject", b64url(made.attestation_object)},
                   {"transports", json::array{"usb"}}};
    return json::serialize(response_json(made.credential_id, std::move(r)));
}

core::Status send(proto::Channel& module, const proto::FromKeyHelper& m)
{
    return module.send(proto::encode(m), proto::max_key_message);
}

core::Status done(proto::Channel& module, std::string response, std::string_view problem)
{
    return send(module, proto::KeyDone{{std::move(response), std::string(problem)}});
}

core::Status problem(proto::Channel& module, const core::Error& e)
{
    return done(module, {}, problem_name(problem_of(e)));
}

} // namespace

std::string client_data_json(const proto::SecurityKeyCeremony& c)
{
    return json::serialize(
        json::object{{"type", c.kind == "get" ? "webauthn.get" : "webauthn.create"},
                     {"challenge", c.challenge},
                     {"origin", c.origin},
                     {"crossOrigin", false}});
}

core::Status serve_ceremony(proto::Channel& module)
{
    LATCHKEY_TRY(text, module.receive(proto::max_key_message));
    LATCHKEY_TRY(first, proto::decode_to_key_helper(text));
    const auto* start = std::get_if<proto::KeyStart>(&first);
    if (start == nullptr)
        return core::fail(core::Errc::protocol_malformed, "expected key.start first");
    const proto::SecurityKeyCeremony& c = start->ceremony;
    LATCHKEY_TRY_STATUS(check(c));
    LATCHKEY_TRY(ids, decode_ids(c.allow));

    auto key = Device::open(start->device);
    if (!key)
        return problem(module, key.error());
    fido_dev_set_timeout(key->get(), static_cast<int>(c.timeout_s) * 1000);

    // A key with a PIN wants it for an enrolment whatever the ceremony asks (CTAP 2.0 keys
    // make no credential without it); for a sign-in, only when the user must be verified.
    std::optional<core::Secret> pin;
    if ((c.user_verification || c.kind == "create") && key->has_pin()) {
        int retries = -1;
        if (fido_dev_get_retry_count(key->get(), &retries) != FIDO_OK)
            retries = -1;
        LATCHKEY_TRY_STATUS(send(module, proto::KeyNeedPin{retries}));
        module.extend_deadline(); // a person types it
        LATCHKEY_TRY(reply, module.receive(proto::max_key_message));
        auto answer = proto::decode_to_key_helper(reply);
        core::wipe(reply.data(), reply.size());
        if (!answer)
            return core::fail(answer.error());
        auto* given = std::get_if<proto::KeyPin>(&*answer);
        if (given == nullptr)
            return core::fail(core::Errc::protocol_malformed, "expected key.pin");
        if (given->pin.empty())
            return done(module, {}, problem_name(Problem::pin_required));
        pin = std::move(given->pin);
    }
    LATCHKEY_TRY_STATUS(send(module, proto::KeyTouch{}));
    module.extend_deadline();
    auto response = run(*key, c, std::move(ids), pin ? &*pin : nullptr);
    if (!response)
        return problem(module, response.error());
    return done(module, std::move(*response), {});
}

} // namespace latchkey::hostkey
