// SPDX-License-Identifier: Apache-2.0
// Sign-ins in progress, kept in the store between the browser's requests (issue 17): the next
// request of a sign-in may come to any node of the directory. A sign-in is saved as JSON (its
// authorization request, where its dialogue stands, the passkey ceremony its page offers),
// sealed by the SecretBox under the hash of its id, and taken out of the store while a request
// works on it, so that two requests never both go on with one sign-in. An authenticator app
// being set up on the account page is kept the same way, by its browser session, and a passkey
// being added there by its user.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/secret.hpp"
#include "oidc/provider_state.hpp"
#include "proto/codec.hpp"

namespace latchkey::oidc {

// What of an AuthRequest is saved with its sign-in: all but the client, which is read again.
BOOST_DESCRIBE_STRUCT(AuthRequest,
                      (),
                      (redirect_uri,
                       scopes,
                       state,
                       nonce,
                       code_challenge,
                       prompt,
                       max_age,
                       login_hint,
                       hinted_sub,
                       acr_values))

namespace {

/// A LoginTx as saved: the dialogue as AuthEngine::resume() takes it, the session asking for
/// consent by its id, the passkey ceremony as webauthn::to_json gives it.
struct SavedSignIn {
    std::optional<AuthRequest> auth; ///< without its client: that is read again by client_id
    std::optional<std::string> client_id;
    std::string csrf;
    std::optional<std::string> fixed_domain;
    std::string user;
    std::optional<core::Secret> dialogue;
    proto::AuthReply step;
    bool asked_code = false;
    bool changing_password = false;
    std::optional<std::string> consent_for;
    std::optional<std::string> passkey;
    std::string passkey_options;
    std::string then;
    std::string method;
    std::int64_t created = 0;
    std::optional<std::string> redirect;
};
BOOST_DESCRIBE_STRUCT(SavedSignIn,
                      (),
                      (auth,
                       client_id,
                       csrf,
                       fixed_domain,
                       user,
                       dialogue,
                       step,
                       asked_code,
                       changing_password,
                       consent_for,
                       passkey,
                       passkey_options,
                       then,
                       method,
                       created,
                       redirect))

} // namespace

using namespace detail;

std::optional<std::string> Provider::State::new_tx(LoginTx& tx)
{
    const auto live = store.count_pending(directory::PendingKind::sign_in, clock.now());
    if (!live) {
        core::log::error("oidc: counting sign-ins: " + live.error().message);
        return std::nullopt;
    }
    if (*live >= static_cast<std::int64_t>(max_logons_in_progress))
        return std::nullopt;
    tx.csrf = random_token();
    tx.created = clock.now();
    return random_token();
}

bool Provider::State::keep_tx(const std::string& id, const LoginTx& tx)
{
    SavedSignIn s;
    if (tx.auth) {
        s.auth = *tx.auth;
        s.client_id = tx.auth->client.id;
    }
    s.csrf = tx.csrf;
    s.fixed_domain = tx.fixed_domain;
    s.user = tx.user;
    if (tx.dialogue) {
        s.dialogue = tx.dialogue->save();
        if (!s.dialogue) {
            core::log::error("oidc: a sign-in's dialogue cannot be kept between requests");
            return false;
        }
    }
    s.step = tx.step;
    s.asked_code = tx.asked_code;
    s.changing_password = tx.changing_password;
    if (tx.consent_for)
        s.consent_for = tx.consent_for->id;
    if (tx.passkey)
        s.passkey = boost::json::serialize(webauthn::to_json(*tx.passkey));
    s.passkey_options = tx.passkey_options;
    s.then = tx.then;
    s.method = tx.method;
    s.created = core::to_unix(tx.created);
    s.redirect = tx.redirect;

    std::string text = boost::json::serialize(proto::to_json(s));
    const core::Secret plain(text);
    core::wipe(text.data(), text.size());
    return keep_sealed(directory::PendingKind::sign_in, token_key(id), plain,
                       tx.created + cfg.logon_lifetime);
}

core::Result<std::optional<LoginTx>> Provider::State::take_tx(const std::string& id)
{
    using Taken = std::optional<LoginTx>;
    if (id.empty() || id.size() > 64)
        return Taken{};
    LATCHKEY_TRY(plain, take_sealed(directory::PendingKind::sign_in, token_key(id)));
    if (!plain)
        return Taken{};
    auto tx = restore_tx(*plain);
    if (!tx && !tx.error().is_store()) {
        // Not one this version can go on with (or its dialogue cannot go on): start again.
        core::log::warning("oidc: a kept sign-in cannot go on: " + tx.error().message);
        return Taken{};
    }
    return tx;
}

core::Result<std::optional<LoginTx>> Provider::State::restore_tx(const core::Secret& plain)
{
    using Taken = std::optional<LoginTx>;
    boost::json::parse_options options;
    options.max_depth = 32;
    std::error_code ec;
    const auto json = boost::json::parse(
        boost::json::string_view(plain.view().data(), plain.view().size()), ec, {}, options);
    SavedSignIn s;
    if (ec)
        return core::fail(core::Errc::protocol_malformed, "a kept sign-in is not JSON");
    LATCHKEY_TRY_STATUS(proto::from_json(json, s, "sign-in"));

    LoginTx tx;
    if (s.auth) {
        LATCHKEY_TRY(client, clients.find(s.client_id.value_or("")));
        if (!client)
            return Taken{}; // the client was removed meanwhile: nothing to sign in to
        tx.auth = std::move(s.auth);
        tx.auth->client = std::move(*client);
    }
    tx.csrf = std::move(s.csrf);
    tx.fixed_domain = std::move(s.fixed_domain);
    tx.user = std::move(s.user);
    if (s.dialogue) {
        auto dialogue = engine.resume(*s.dialogue);
        if (!dialogue) {
            if (dialogue.error().is(core::Errc::not_found))
                return Taken{}; // its user or device is gone: start again
            return core::fail(std::move(dialogue).error());
        }
        tx.dialogue = std::move(*dialogue);
    }
    tx.step = std::move(s.step);
    tx.asked_code = s.asked_code;
    tx.changing_password = s.changing_password;
    if (s.consent_for) {
        LATCHKEY_TRY(session, store.session(*s.consent_for));
        if (!session)
            return Taken{};
        tx.consent_for = std::move(*session);
    }
    if (s.passkey) {
        const auto v = boost::json::parse(*s.passkey, ec, {}, options);
        if (ec)
            return core::fail(core::Errc::protocol_malformed, "a kept passkey offer is not JSON");
        LATCHKEY_TRY(pending, webauthn::pending_from_json(v));
        tx.passkey = std::move(pending);
    }
    tx.passkey_options = std::move(s.passkey_options);
    tx.then = std::move(s.then);
    tx.method = std::move(s.method);
    tx.created = core::from_unix(s.created);
    tx.redirect = std::move(s.redirect);
    return Taken{std::move(tx)};
}

bool Provider::State::keep_enrolment(const std::string& session_id,
                                     const credentials::PendingEnrolment& pending)
{
    return keep_sealed(directory::PendingKind::app_enrolment, token_key(session_id),
                       credentials::save_enrolment(pending), pending.started + cfg.logon_lifetime);
}

namespace {

/// A passkey being added on the account page, as kept: the id its page holds, and the ceremony.
struct SavedRegistration {
    std::string id;
    std::string ceremony; ///< webauthn::to_json, as text
};
BOOST_DESCRIBE_STRUCT(SavedRegistration, (), (id, ceremony))

} // namespace

std::optional<std::string>
Provider::State::keep_registration(const std::string& user_id,
                                   const webauthn::PendingCeremony& pending)
{
    SavedRegistration saved{random_token(), boost::json::serialize(webauthn::to_json(pending))};
    const core::Secret plain(boost::json::serialize(proto::to_json(saved)));
    if (!keep_sealed(directory::PendingKind::passkey_registration, token_key(user_id), plain,
                     pending.expires_at))
        return std::nullopt;
    return saved.id;
}

core::Result<std::optional<webauthn::PendingCeremony>>
Provider::State::take_registration(const std::string& user_id, const std::string& ceremony_id)
{
    using Taken = std::optional<webauthn::PendingCeremony>;
    const std::string key = token_key(user_id);
    LATCHKEY_TRY(plain, take_sealed(directory::PendingKind::passkey_registration, key));
    if (!plain)
        return Taken{};
    std::error_code ec;
    const auto v = boost::json::parse(
        boost::json::string_view(plain->view().data(), plain->view().size()), ec);
    SavedRegistration saved;
    if (ec || !proto::from_json(v, saved, "registration"))
        return Taken{};
    if (!core::constant_time_equal(ceremony_id, saved.id)) {
        // An older page's answer: the newer ceremony stays for its own page.
        const auto left = webauthn::pending_from_json(boost::json::parse(saved.ceremony, ec));
        if (!ec && left)
            keep_sealed(directory::PendingKind::passkey_registration, key, *plain,
                        left->expires_at);
        return Taken{};
    }
    const auto ceremony = boost::json::parse(saved.ceremony, ec);
    if (ec)
        return Taken{};
    auto pending = webauthn::pending_from_json(ceremony);
    if (!pending)
        return Taken{};
    return Taken{std::move(*pending)};
}

bool Provider::State::keep_sealed(directory::PendingKind kind,
                                  const std::string& key,
                                  const core::Secret& plain,
                                  core::TimePoint until)
{
    // Bound to its kind and key: no other record's data opens in its place.
    auto sealed = box.seal(plain, std::string(to_string(kind)) + ":" + key);
    if (!sealed) {
        core::log::error("oidc: sealing " + std::string(to_string(kind)) + ": " +
                         sealed.error().message);
        return false;
    }
    if (auto st = store.put_pending({kind, key, std::move(*sealed), until}); !st) {
        core::log::error("oidc: keeping " + std::string(to_string(kind)) + ": " +
                         st.error().message);
        return false;
    }
    return true;
}

core::Result<std::optional<core::Secret>> Provider::State::take_sealed(directory::PendingKind kind,
                                                                       const std::string& key)
{
    using Taken = std::optional<core::Secret>;
    LATCHKEY_TRY(record, store.take_pending(kind, key, clock.now()));
    if (!record)
        return Taken{};
    auto plain = box.open_sealed(record->data, std::string(to_string(kind)) + ":" + key);
    if (!plain) {
        core::log::warning("oidc: kept " + std::string(to_string(kind)) +
                           " does not open: " + plain.error().message);
        return Taken{};
    }
    return Taken{std::move(*plain)};
}

} // namespace latchkey::oidc
