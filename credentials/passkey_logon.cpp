// SPDX-License-Identifier: Apache-2.0
// Signing in with a passkey: the options of a passkey logon and the verdict on the browser's
// assertion, held to the rules of a password logon.
//
//   throttled source ──► deny
//   credential unknown, or not the named user's ──► deny (counts for the source)
//   root, closed, locked ──► deny;  allow_passkey_logon off ──► deny with why
//   webauthn::verify_authentication ──► refused: counts toward the lockout, audited with reason
//   counter stored (compare-and-set) ──► a racing copy of the key loses
//   console logon, networks, MFA (a passkey without user verification is one factor)
//   success: a logon id, method hwk|swk[+uv]
#include <algorithm>
#include <cctype>

#include "credentials/engine_context.hpp"
#include "webauthn/authentication.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::credentials {

using namespace engine;

namespace engine {

PasskeyCheck check_passkey(AuthEngine::Context& c,
                           const directory::PasskeyRecord& key,
                           const webauthn::PendingCeremony& pending,
                           const webauthn::AuthenticationResponse& response)
{
    PasskeyCheck out;
    const auto unavailable = [&](core::Error e) {
        out.outcome = PasskeyCheck::Outcome::unavailable;
        out.error = std::move(e);
        return out;
    };
    if (pending.kind != webauthn::PendingCeremony::Kind::authentication) {
        out.reason = "wrong_ceremony";
        return out;
    }
    auto handle = c.store.user_handle(key.user_id, core::random_string(webauthn::user_handle_size));
    if (!handle)
        return unavailable(handle.error());
    webauthn::StoredCredential credential;
    credential.id = key.credential_id;
    credential.public_key = key.public_key;
    credential.sign_count = key.sign_count;
    credential.user_handle = std::move(*handle);
    credential.backup_eligible = key.backup_eligible;
    const auto now = c.clock.now();
    auto verified = webauthn::verify_authentication(pending, response, credential, now);
    if (!verified) {
        if (verified.error().code.category() != webauthn::webauthn_category())
            return unavailable(verified.error());
        out.reason = std::string(webauthn::reason_name(webauthn::reason_of(verified.error())));
        return out;
    }
    out.key = std::string(verified->backup_eligible ? "swk" : "hwk") +
              (verified->user_verified ? "+uv" : "");
    out.user_verified = verified->user_verified;
    auto used =
        c.store.use_passkey(key.id, key.sign_count, verified->sign_count, verified->backed_up, now);
    if (!used)
        return unavailable(used.error());
    if (!*used) {
        // Another sign-in with this key (or a copy of it) stored its counter first.
        out.reason = "counter_race";
        return out;
    }
    out.outcome = PasskeyCheck::Outcome::verified;
    return out;
}

} // namespace engine

bool AuthEngine::offers_passkey(const std::string& typed)
{
    const auto located = ctx_->directory.locate({typed, std::nullopt});
    return located && !located->first.closed_at && located->first.settings.allow_passkey_logon;
}

core::Result<webauthn::Options> AuthEngine::begin_passkey_logon(const std::string& user,
                                                                const PasskeySettings& settings)
{
    Context& c = *ctx_;
    webauthn::AuthenticationRequest r;
    r.user_verification = settings.user_verification;
    r.timeout = settings.timeout;
    if (!user.empty()) {
        std::optional<directory::ResolvedUser> who;
        if (user.find('@') != std::string::npos)
            if (auto found = c.directory.resolve({user, std::nullopt}))
                who = std::move(*found);
        if (who && !who->account.closed_at) {
            LATCHKEY_TRY(all, c.store.passkeys(who->user.id));
            for (const auto& p : keys_for(std::move(all), directory::PasskeyParty::web))
                r.allow.push_back({p.credential_id, p.transports});
            if (!r.allow.empty()) {
                LATCHKEY_TRY(handle,
                             c.store.user_handle(who->user.id,
                                                 core::random_string(webauthn::user_handle_size)));
                r.user_handle = std::move(handle);
            }
        }
        if (r.allow.empty()) {
            // The same name always gets the same made-up credential, as if it had one key.
            const std::string made_up = webauthn::sha256(c.decoy_key + lowercase(user));
            r.allow.push_back({made_up.substr(0, 16), {"usb", "internal", "hybrid"}});
            r.user_handle = core::random_string(webauthn::user_handle_size); // matches no one
        }
    }
    return webauthn::begin_authentication(settings.rp, r, c.clock.now());
}

PasskeyVerdict AuthEngine::passkey_logon(const LogonRequest& request,
                                         const webauthn::PendingCeremony& pending,
                                         const webauthn::AuthenticationResponse& response,
                                         const Caller& caller)
{
    Context& c = *ctx_;
    std::optional<directory::ResolvedUser> who;
    std::string method; // the session's, once the assertion is verified
    const auto audit = [&](directory::Severity severity, const std::string& event,
                           std::string reason, std::map<std::string, std::string> extra) {
        extra["method"] = "passkey";
        if (!method.empty())
            extra["key"] = method;
        if (who)
            extra["account"] = who->account.name;
        c.record(severity, event, caller, request.service, who ? who->user.name : request.user,
                 request.rhost, std::move(reason), std::move(extra));
    };
    const auto deny = [&](std::string reason, std::string_view message,
                          std::map<std::string, std::string> extra = {}) {
        audit(directory::Severity::warning, "auth.deny", std::move(reason), std::move(extra));
        PasskeyVerdict v;
        v.verdict = {Outcome::denied, std::string(message), std::nullopt};
        return v;
    };
    const auto unavailable = [&](const std::string& what, const core::Error& e) {
        core::log::error(what + " failed: " + e.message);
        PasskeyVerdict v;
        v.verdict = {Outcome::unavailable, "latchkey cannot check credentials right now",
                     std::nullopt};
        return v;
    };

    if (const auto until = c.throttled(request))
        return deny("source_throttled", throttled_message(*until));
    if (pending.kind != webauthn::PendingCeremony::Kind::authentication)
        return deny("wrong_ceremony", passkey_refused);
    auto stored = c.store.passkey_by_credential(response.id);
    if (!stored)
        return unavailable("reading a passkey", stored.error());
    if (!*stored) {
        c.count_source_failure(request);
        return deny("unknown_credential", passkey_refused);
    }
    const directory::PasskeyRecord& key = **stored;
    if (key.relying_party != directory::PasskeyParty::web) {
        c.count_source_failure(request);
        return deny("host_key_on_the_web", passkey_refused, {{"passkey", key.id}});
    }
    auto owner = c.directory.resolve_id(key.user_id);
    if (!owner) {
        if (!owner.error().is(core::Errc::not_found))
            return unavailable("reading a passkey's user", owner.error());
        c.count_source_failure(request);
        return deny("unknown_credential", passkey_refused);
    }
    who = std::move(*owner);
    if (!request.user.empty()) {
        // The name typed must be the key's user: no signing in as bob with alice's key.
        auto named = c.directory.resolve({request.user, std::nullopt});
        if (!named || named->user.id != who->user.id) {
            c.count_source_failure(request);
            return deny("credential_of_another_user", passkey_refused, {{"passkey", key.id}});
        }
    }
    const std::string logon_name = who->user.name + "@" + who->account.default_domain;
    if (const auto why = root_refusal(c.directory, c.store, logon_name))
        return deny(why->reason, why->message);
    if (who->account.closed_at || c.locked_now(*who))
        return deny(who->account.closed_at ? "account_closed" : "locked", passkey_refused);
    if (!who->account.settings.allow_passkey_logon)
        return deny("passkey_logon_not_allowed",
                    "Passkey logon is not allowed for this account; use your password.");
    const auto checked = check_passkey(c, key, pending, response);
    if (checked.outcome == PasskeyCheck::Outcome::unavailable)
        return unavailable("checking a passkey", checked.error);
    if (checked.outcome == PasskeyCheck::Outcome::refused) {
        c.count_failure(*who, caller, request.service);
        c.count_source_failure(request);
        return deny(checked.reason, passkey_refused, {{"passkey", key.id}});
    }
    method = checked.key;
    if (!who->user.console_logon)
        return deny("logon_disabled", "Console logon is disabled for this user.");
    if (!network_allowed(who->account, request.rhost))
        return deny("network_not_allowed",
                    "Logon from this network is not allowed for this account.");
    if (Mfa::required(who->account, who->user) && !checked.user_verified)
        return deny("mfa_required",
                    "This account requires multi-factor authentication: use a passkey with "
                    "its PIN or biometrics, or sign in with your password and code.");
    if (!c.settle_success(*who))
        return deny("locked", "The account is locked after too many failed logons; an "
                              "administrator can unlock it.");
    const std::string id = c.remember_logon(*who, request.service, request.rhost, method);
    audit(directory::Severity::info, "auth.allow", "", {{"logon_id", id}, {"passkey", key.id}});
    PasskeyVerdict v;
    v.verdict = {Outcome::success, "", id};
    v.method = std::move(method);
    v.who = std::move(who);
    return v;
}

} // namespace latchkey::credentials
