// SPDX-License-Identifier: Apache-2.0
// Checks shared by registration and authentication.
#include "webauthn/checks.hpp"

#include <algorithm>

#include "core/secret.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

bool listed(const std::vector<std::string>& list, std::string_view s)
{
    return std::find(list.begin(), list.end(), s) != list.end();
}

} // namespace

core::Status
check_pending(const PendingCeremony& pending, PendingCeremony::Kind kind, core::TimePoint now)
{
    if (pending.kind != kind || pending.challenge.empty() || pending.rp_ids.empty())
        return refuse(Reason::internal, "the pending ceremony is not one of this kind");
    if (now >= pending.expires_at)
        return refuse(Reason::ceremony_expired, "the ceremony has expired");
    return {};
}

core::Result<ClientData> check_client_data(const PendingCeremony& pending,
                                           std::string_view client_data_json)
{
    LATCHKEY_TRY(c, parse_client_data(client_data_json));
    const std::string_view type =
        pending.kind == PendingCeremony::Kind::registration ? "webauthn.create" : "webauthn.get";
    if (c.type != type)
        return refuse(Reason::wrong_type, "clientDataJSON type is not " + std::string(type));
    if (!core::constant_time_equal(c.challenge, pending.challenge))
        return refuse(Reason::challenge_mismatch,
                      "clientDataJSON challenge is not this ceremony's");
    if (!listed(pending.origins, c.origin))
        return refuse(Reason::origin_not_allowed, "origin is not one of the relying party's");
    if (c.cross_origin && !pending.allow_cross_origin)
        return refuse(Reason::cross_origin_not_allowed, "the ceremony ran in a cross-origin frame");
    if (c.top_origin &&
        (!pending.allow_cross_origin || !listed(pending.top_origins, *c.top_origin)))
        return refuse(Reason::top_origin_not_allowed, "the top-level origin is not allowed");
    return c;
}

core::Result<std::string> check_authenticator_data(const PendingCeremony& pending,
                                                   const AuthenticatorData& data)
{
    const auto rp =
        std::find_if(pending.rp_ids.begin(), pending.rp_ids.end(), [&](const std::string& id) {
            return core::constant_time_equal(sha256(id), data.rp_id_hash);
        });
    if (rp == pending.rp_ids.end())
        return refuse(Reason::rp_id_mismatch, "rpIdHash is not the relying party's");
    if (pending.require_user_presence && !data.user_present())
        return refuse(Reason::user_not_present, "the user was not present");
    if (pending.user_verification == UserVerification::required && !data.user_verified())
        return refuse(Reason::user_not_verified, "the user was not verified");
    return *rp;
}

} // namespace latchkey::webauthn
