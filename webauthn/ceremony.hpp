// SPDX-License-Identifier: Apache-2.0
// Starting a ceremony (WebAuthn §5.4, §5.5): the options the browser gets, as JSON, and the
// pending ceremony the caller keeps until the response comes back.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/cose_key.hpp"

namespace latchkey::webauthn {

inline constexpr std::size_t challenge_size = 32;
inline constexpr std::size_t user_handle_size = 32;

enum class UserVerification : std::uint8_t { required, preferred, discouraged };
enum class ResidentKey : std::uint8_t { required, preferred, discouraged };
enum class Conveyance : std::uint8_t { none, indirect, direct, enterprise };

/// "required", "preferred", ... as the JSON of §5.4 spells them.
std::string_view to_string(UserVerification v) noexcept;
std::string_view to_string(ResidentKey v) noexcept;
std::string_view to_string(Conveyance v) noexcept;

/// Who the relying party is and where its pages live.
struct RelyingParty {
    std::string id;                   // "example.org": a registrable suffix of every origin
    std::string name;                 // shown by the authenticator
    std::vector<std::string> origins; // "https://login.example.org", compared exactly
    /// Whether a ceremony may run in a cross-origin iframe, and under which top origins.
    bool allow_cross_origin = false;
    std::vector<std::string> top_origins;
};

/// A credential the browser should exclude (registration) or may use (authentication).
struct CredentialDescriptor {
    std::string id; // raw bytes
    std::vector<std::string> transports;
};

struct RegistrationRequest {
    std::string user_name;         // the logon name, shown by the authenticator
    std::string user_display_name; // empty: the logon name
    std::string user_handle;       // opaque; empty: a new random one (never the logon name)
    std::vector<CredentialDescriptor> exclude;
    UserVerification user_verification = UserVerification::preferred;
    ResidentKey resident_key = ResidentKey::preferred;
    Conveyance attestation = Conveyance::none;
    std::vector<CoseAlgorithm> algorithms{CoseAlgorithm::es256, CoseAlgorithm::eddsa,
                                          CoseAlgorithm::rs256};
    std::chrono::seconds timeout{300};
};

struct AuthenticationRequest {
    /// The user's credentials when the user is known (passkey as a second step); empty for a
    /// discoverable ("usernameless") sign-in.
    std::vector<CredentialDescriptor> allow;
    std::string user_handle; // the known user's handle, if any
    UserVerification user_verification = UserVerification::preferred;
    std::chrono::seconds timeout{300};
};

/// What the caller stores between the options and the response: single use (delete it when
/// the response arrives, whatever the outcome) and valid until `expires_at`.
struct PendingCeremony {
    enum class Kind : std::uint8_t { registration, authentication };
    Kind kind = Kind::authentication;
    std::string challenge;           // raw bytes
    std::vector<std::string> rp_ids; // the first is the one in the options
    std::vector<std::string> origins;
    bool allow_cross_origin = false;
    std::vector<std::string> top_origins;
    UserVerification user_verification = UserVerification::preferred;
    bool require_user_presence = true;
    core::TimePoint expires_at;
    std::string user_handle; // registration: the new handle; else the known user
    std::vector<std::string> allowed_credentials; // authentication: raw ids; empty = any
    std::vector<CoseAlgorithm> algorithms;        // registration: what pubKeyCredParams offered
};

struct Options {
    std::string json; // for PublicKeyCredential.parse{Creation,Request}OptionsFromJSON
    PendingCeremony pending;
};

/// Options for navigator.credentials.create() (§5.4): a fresh 32-byte challenge; the user
/// handle given or a fresh random one. Nothing here can fail.
Options
begin_registration(const RelyingParty& rp, const RegistrationRequest& request, core::TimePoint now);

/// Options for navigator.credentials.get() (§5.5).
Options begin_authentication(const RelyingParty& rp,
                             const AuthenticationRequest& request,
                             core::TimePoint now);

/// A pending ceremony as JSON and back, for a caller that keeps it outside the process (the
/// sign-in pages keep theirs in the store, for any node to finish). Bytes are base64url.
boost::json::object to_json(const PendingCeremony& p);
/// protocol_malformed when a member is missing or of the wrong kind.
core::Result<PendingCeremony> pending_from_json(const boost::json::value& v);

} // namespace latchkey::webauthn
