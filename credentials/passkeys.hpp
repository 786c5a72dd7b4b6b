// SPDX-License-Identifier: Apache-2.0
// Passkeys in the directory: what administrators see of them and may do with them, and what a
// user does with their own on the account page (register, rename, remove). The checks of the
// ceremonies are webauthn/'s; signing in with a passkey is the AuthEngine's.
//
//   begin_registration(who) ──► options for navigator.credentials.create() + pending ceremony
//   finish_registration(who, pending, response) ──► verified, stored, audited passkey.register
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"
#include "webauthn/ceremony.hpp"

namespace latchkey::credentials {

/// The relying party latchkey is for passkeys and the rules of its ceremonies ([webauthn] of the
/// config; the RP id and origins come from the OpenID Connect issuer unless given).
struct PasskeySettings {
    webauthn::RelyingParty rp;
    webauthn::UserVerification user_verification = webauthn::UserVerification::preferred;
    std::chrono::seconds timeout{300};
    std::uint32_t max_passkeys_per_user = 10;
};

/// The longest name a user may give a passkey.
inline constexpr std::size_t max_passkey_name = 64;

class Passkeys {
public:
    Passkeys(directory::Store& store, directory::Directory& directory, directory::Audit& audit);

    /// The user's passkeys, oldest first. Errors: not_found (no such user).
    core::Result<std::vector<proto::PasskeyInfo>> list(const proto::UserRef& ref);

    /// Removes one of the user's passkeys and audits `passkey.remove`. Errors: not_found (no such
    /// user, or no such passkey of this user).
    core::Status
    remove(const proto::UserRef& ref, const std::string& id, const directory::Actor& actor);

    // ---- the user's own passkeys (the account page) ---------------------------------------

    /// Options to register a new passkey for `who`: the user's handle (made the first time),
    /// the passkeys the authenticator should not register twice, and the settings' rules.
    /// Errors: policy_violation when the user has the most passkeys allowed already.
    core::Result<webauthn::Options> begin_registration(const directory::ResolvedUser& who,
                                                       const PasskeySettings& settings,
                                                       core::TimePoint now);

    /// Verifies the browser's RegistrationResponseJSON against `pending`, stores the passkey
    /// for `party` under `name` (trimmed; empty: a name from what the key is) and audits
    /// passkey.register.
    /// Errors: the library's reason (webauthn category) for a response that fails a check,
    /// already_exists for a credential registered already, invalid_argument for a bad name,
    /// policy_violation at the limit. A refusal is audited as passkey.register.deny.
    core::Result<proto::PasskeyInfo>
    finish_registration(const directory::ResolvedUser& who,
                        const webauthn::PendingCeremony& pending,
                        std::string_view response_json,
                        std::string_view name,
                        const PasskeySettings& settings,
                        core::TimePoint now,
                        directory::PasskeyParty party = directory::PasskeyParty::web);

    /// Renames one of the user's own passkeys (audited passkey.rename).
    core::Status rename(const directory::ResolvedUser& who, const std::string& id,
                        std::string_view name);

    /// Removes one of the user's own passkeys (audited passkey.remove), unless it is the last
    /// way in: a user without a password keeps their last passkey (failed_precondition).
    core::Status remove_own(const directory::ResolvedUser& who, const std::string& id);

    /// A passkey name as given: trimmed, 1 to max_passkey_name bytes of valid UTF-8 without
    /// control characters. nullopt when it is none of that.
    static std::optional<std::string> clean_name(std::string_view name);

    /// What administrators see of a stored passkey.
    static proto::PasskeyInfo info(const directory::PasskeyRecord& p,
                                   const std::string& logon_name);

private:
    directory::Store& store_;
    directory::Directory& directory_;
    directory::Audit& audit_;
};

} // namespace latchkey::credentials
