// SPDX-License-Identifier: Apache-2.0
// Access keys.
#include "credentials/access_keys.hpp"

#include <array>

#include "core/random.hpp"

namespace latchkey::credentials {

namespace {

using core::Errc;

constexpr std::string_view id_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string new_key_id()
{
    std::string id = "LK";
    for (int i = 0; i < 20; ++i)
        id += id_alphabet[core::random_below(static_cast<std::uint32_t>(id_alphabet.size()))];
    return id;
}

core::Secret new_secret()
{
    std::array<unsigned char, 30> raw{};
    core::random_bytes(raw.data(), raw.size());
    const core::WipeOnExit wipe_raw(raw.data(), raw.size());
    std::string text = core::base64_encode(
        std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()), true, false);
    core::Secret s(text);
    core::wipe(text.data(), text.size());
    return s;
}

} // namespace

AccessKeys::AccessKeys(directory::Store& store,
                       directory::Directory& directory,
                       const SecretBox& box,
                       directory::Audit& audit,
                       const core::Clock& clock)
    : store_(store)
    , directory_(directory)
    , box_(box)
    , audit_(audit)
    , clock_(clock)
{
}

core::Result<std::string> AccessKeys::hash(const std::string& id, const core::Secret& secret) const
{
    LATCHKEY_TRY(mac, box_.mac(secret, "access-key:" + id));
    return core::base64_encode(mac, true, false);
}

core::Result<proto::AccessKeyInfo> AccessKeys::info(const directory::AccessKeyRecord& k)
{
    proto::AccessKeyInfo i;
    i.id = k.id;
    i.enabled = k.enabled;
    i.created_at = core::to_unix(k.created_at);
    if (k.last_used_at)
        i.last_used_at = core::to_unix(*k.last_used_at);
    LATCHKEY_TRY(user, store_.user_by_id(k.user_id));
    if (user) {
        LATCHKEY_TRY(account, store_.account_by_id(user->account_id));
        i.user = user->name + (account ? "@" + account->default_domain : std::string());
    }
    return i;
}

core::Result<proto::AccessKeyReply> AccessKeys::create(const proto::UserRef& ref,
                                                       const directory::Actor& actor)
{
    LATCHKEY_TRY(who, directory_.resolve(ref));
    LATCHKEY_TRY(existing, store_.access_keys(who.user.id));
    if (existing.size() >= max_access_keys_per_user)
        return core::fail(Errc::failed_precondition,
                          who.user.name + " already has " +
                              std::to_string(max_access_keys_per_user) +
                              " access keys; delete one first");
    directory::AccessKeyRecord k;
    k.id = new_key_id();
    k.user_id = who.user.id;
    core::Secret secret = new_secret();
    LATCHKEY_TRY(h, hash(k.id, secret));
    k.secret_hash = std::move(h);
    k.created_at = clock_.now();
    LATCHKEY_TRY_STATUS(store_.add_access_key(k));
    audit_.record(directory::Severity::notice, "accesskey.create",
                  {{"user", who.user.name},
                   {"account", who.account.name},
                   {"key_id", k.id},
                   {"actor", actor.name}});
    LATCHKEY_TRY(i, info(k));
    return proto::AccessKeyReply{std::move(i), std::move(secret)};
}

core::Result<std::vector<proto::AccessKeyInfo>>
AccessKeys::list(const std::optional<proto::UserRef>& ref)
{
    std::optional<std::string> user_id;
    if (ref) {
        LATCHKEY_TRY(who, directory_.resolve(*ref));
        user_id = who.user.id;
    }
    LATCHKEY_TRY(keys, store_.access_keys(user_id));
    std::vector<proto::AccessKeyInfo> out;
    for (const auto& k : keys) {
        LATCHKEY_TRY(i, info(k));
        out.push_back(std::move(i));
    }
    return out;
}

core::Result<proto::AccessKeyInfo>
AccessKeys::set_enabled(const std::string& id, bool enabled, const directory::Actor& actor)
{
    LATCHKEY_TRY_STATUS(store_.set_access_key_enabled(id, enabled));
    LATCHKEY_TRY(k, store_.access_key(id));
    if (!k)
        return core::fail(Errc::not_found, "no access key '" + id + "'");
    audit_.record(directory::Severity::notice, enabled ? "accesskey.enable" : "accesskey.disable",
                  {{"key_id", id}, {"actor", actor.name}});
    return info(*k);
}

core::Status AccessKeys::remove(const std::string& id, const directory::Actor& actor)
{
    LATCHKEY_TRY_STATUS(store_.delete_access_key(id));
    audit_.record(directory::Severity::notice, "accesskey.delete",
                  {{"key_id", id}, {"actor", actor.name}});
    return {};
}

core::Result<std::optional<directory::ResolvedUser>>
AccessKeys::authenticate(const std::string& id, const core::Secret& secret)
{
    if (id.size() != 22 || id.rfind("LK", 0) != 0 || secret.empty() || secret.size() > 256)
        return std::optional<directory::ResolvedUser>{};
    LATCHKEY_TRY(k, store_.access_key(id));
    // Hash even for an unknown key: the same work either way.
    LATCHKEY_TRY(h, hash(id, secret));
    if (!k || !k->enabled || !core::constant_time_equal(h, k->secret_hash))
        return std::optional<directory::ResolvedUser>{};
    LATCHKEY_TRY(user, store_.user_by_id(k->user_id));
    if (!user)
        return std::optional<directory::ResolvedUser>{};
    LATCHKEY_TRY(account, store_.account_by_id(user->account_id));
    if (!account)
        return std::optional<directory::ResolvedUser>{};
    (void)store_.touch_access_key(id, clock_.now());
    return std::optional<directory::ResolvedUser>{
        directory::ResolvedUser{std::move(*account), std::move(*user)}};
}

} // namespace latchkey::credentials
