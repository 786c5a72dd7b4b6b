// SPDX-License-Identifier: Apache-2.0
// Security keys at the directory's hosts: a FIDO2 key plugged into the machine where the person
// sits (a console, sudo, a screen locker). The daemon makes each ceremony and checks its answer
// with webauthn/, as it does a browser's; pam_latchkey.so's helper runs it on the key
// (proto/security_key.hpp). The daemon never touches a device.
//
// The hosts are one relying party of their own, apart from the sign-in pages: its id is
// "pam:<directory domain>" and the origin its client data names "pam://<directory domain>", so
// a key registered at one host works at every host of the directory, and a web passkey's
// assertion can never pass for a host key's (nor the reverse).
//
//   host_assertion(party, keys, uv, now)  ──► a ceremony for the module + the pending one
//   host_registration(party, user, now)   ──► the same for an enrolment
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "directory/model.hpp"
#include "proto/security_key.hpp"
#include "webauthn/ceremony.hpp"

namespace latchkey::credentials {

/// [webauthn] host_* of the config.
struct HostKeySettings {
    std::string rp_id; ///< "" = "pam:" + the directory's domain
    std::string rp_name = "latchkey";
    webauthn::UserVerification user_verification = webauthn::UserVerification::preferred;
    /// How long the key waits for a touch; the pending ceremony lives longer (a PIN is typed
    /// first), up to answer_time.
    std::chrono::seconds touch_timeout{30};
    std::chrono::seconds answer_time{300};
    std::uint32_t max_per_user = 10; ///< passkeys of a user, web and host together
};

/// The hosts' relying party for a directory on `domain` ("example.internal").
webauthn::RelyingParty host_relying_party(const HostKeySettings& settings, std::string_view domain);

/// What a dialogue sends to the module, and keeps to check the module's answer with.
struct HostCeremony {
    proto::SecurityKeyCeremony ceremony;
    webauthn::PendingCeremony pending;
};

/// A sign-in with one of `keys`, the host keys of the user whose handle is `user_handle`.
/// `user_verification`: the key must verify its user (its PIN or its own verifier), and the
/// answer is refused without it.
HostCeremony host_assertion(const webauthn::RelyingParty& party,
                            const HostKeySettings& settings,
                            const std::vector<directory::PasskeyRecord>& keys,
                            const std::string& user_handle,
                            bool user_verification,
                            core::TimePoint now);

/// An enrolment of a new key for the user named `user_name` with `user_handle`, excluding
/// `existing` (the user's host keys, which the key should not register twice).
HostCeremony host_registration(const webauthn::RelyingParty& party,
                               const HostKeySettings& settings,
                               const std::string& user_name,
                               const std::string& display_name,
                               const std::string& user_handle,
                               const std::vector<directory::PasskeyRecord>& existing,
                               bool user_verification,
                               core::TimePoint now);

/// The user's passkeys for one relying party.
std::vector<directory::PasskeyRecord> keys_for(std::vector<directory::PasskeyRecord> all,
                                               directory::PasskeyParty party);

} // namespace latchkey::credentials
