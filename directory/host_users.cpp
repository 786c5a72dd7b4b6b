// SPDX-License-Identifier: Apache-2.0
// The directory's users as Unix users of the host.
#include "directory/host_users.hpp"

#include <algorithm>

#include "directory/names.hpp"

namespace latchkey::directory {

struct HostUsers::Scope {
    AccountRecord account;
    UnixSettings settings;
    std::shared_ptr<const LocalNames> local;
    std::optional<std::uint32_t> sudo_gid;

    [[nodiscard]] bool in_range(std::uint32_t id) const
    {
        return id >= settings.ids.min && id <= settings.ids.max;
    }
};

std::string gecos_of(std::string_view display_name)
{
    std::string out;
    for (const char c : display_name) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u < 0x20 || u == 0x7f || c == ':' || c == ',' ? ' ' : c);
    }
    return out;
}

HostUsers::HostUsers(Store& store, const Directory& directory, LocalNamesSource local)
    : store_(store)
    , directory_(directory)
    , local_(std::move(local))
{
}

core::Status HostUsers::prepare()
{
    const auto& settings = directory_.unix_settings();
    if (!settings)
        return {};
    LATCHKEY_TRY(gid, store_.assign_gid(settings->sudo_group, settings->ids));
    sudo_gid_ = gid;
    return {};
}

core::Result<std::optional<HostUsers::Scope>> HostUsers::scope()
{
    const auto& settings = directory_.unix_settings();
    const std::string host = directory_.host_account();
    if (!settings || host.empty())
        return std::optional<Scope>{};
    LATCHKEY_TRY(account, store_.account_by_name(host));
    if (!account)
        return std::optional<Scope>{};
    auto local = local_ ? local_() : nullptr;
    if (!local)
        local = std::make_shared<const LocalNames>();
    return std::optional<Scope>{Scope{std::move(*account), *settings, std::move(local), sudo_gid_}};
}

std::optional<proto::NssUser> HostUsers::entry(const Scope& s, const UserRecord& u) const
{
    // Root of a cloud account is no Unix user: the host's own root owns the name and uid 0.
    if (u.account_id != s.account.id || !u.uid || u.name == "root" || !s.in_range(*u.uid) ||
        s.local->users.contains(u.name) || s.local->uids.contains(*u.uid))
        return std::nullopt;
    return proto::NssUser{u.name,         *u.uid, *u.uid, gecos_of(u.display_name),
                          directory_.home_of(u), directory_.shell_of(u)};
}

core::Result<std::optional<proto::NssUser>> HostUsers::user_named(const Scope& s,
                                                                 const std::string& name)
{
    if (!check_user_name(name))
        return std::optional<proto::NssUser>{};
    LATCHKEY_TRY(u, store_.user_by_name(s.account.id, name));
    return u ? entry(s, *u) : std::nullopt;
}

core::Result<std::optional<proto::NssUser>> HostUsers::user_numbered(const Scope& s,
                                                                    std::uint32_t uid)
{
    if (!s.in_range(uid))
        return std::optional<proto::NssUser>{};
    LATCHKEY_TRY(u, store_.user_by_uid(uid));
    return u ? entry(s, *u) : std::nullopt;
}

core::Result<std::vector<std::string>> HostUsers::administrators(const Scope& s)
{
    LATCHKEY_TRY(roles, store_.roles(s.account.id));
    std::vector<std::string> names;
    for (const auto& r : roles) {
        // A role its holder revoked from itself is inactive (seed 003).
        const bool admin = r.role == Role::account_admin ||
                           (r.role == Role::directory_admin &&
                            s.account.kind == proto::AccountKind::management);
        if (!admin || r.self_revoked_at)
            continue;
        LATCHKEY_TRY(u, store_.user_by_id(r.user_id));
        if (!u)
            continue;
        if (auto e = entry(s, *u))
            names.push_back(std::move(e->name));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

core::Result<std::optional<proto::NssGroup>> HostUsers::sudo_group(const Scope& s)
{
    if (!s.sudo_gid || !s.in_range(*s.sudo_gid) || s.local->groups.contains(s.settings.sudo_group) ||
        s.local->gids.contains(*s.sudo_gid))
        return std::optional<proto::NssGroup>{};
    LATCHKEY_TRY(members, administrators(s));
    return std::optional<proto::NssGroup>{
        proto::NssGroup{s.settings.sudo_group, *s.sudo_gid, std::move(members)}};
}

std::optional<proto::NssGroup> HostUsers::own_group(const Scope& s,
                                                   const std::optional<proto::NssUser>& u)
{
    // Answered only when the host's files hold neither its name nor its number as a group.
    if (!u || s.local->groups.contains(u->name) || s.local->gids.contains(u->gid))
        return std::nullopt;
    return proto::NssGroup{u->name, u->gid, {}};
}

core::Result<proto::NssReply> HostUsers::lookup(const proto::NssLookup& q)
{
    proto::NssReply reply;
    LATCHKEY_TRY(found, scope());
    if (!found)
        return reply;
    const Scope& s = *found;
    switch (q.query) {
    case proto::NssQuery::user_by_name: {
        LATCHKEY_TRY(u, user_named(s, q.name));
        reply.user = std::move(u);
        break;
    }
    case proto::NssQuery::user_by_uid: {
        LATCHKEY_TRY(u, user_numbered(s, q.id));
        reply.user = std::move(u);
        break;
    }
    case proto::NssQuery::group_by_name: {
        if (q.name == s.settings.sudo_group) {
            LATCHKEY_TRY(g, sudo_group(s));
            reply.group = std::move(g);
            break;
        }
        LATCHKEY_TRY(u, user_named(s, q.name));
        reply.group = own_group(s, u);
        break;
    }
    case proto::NssQuery::group_by_gid: {
        if (s.sudo_gid && q.id == *s.sudo_gid) {
            LATCHKEY_TRY(g, sudo_group(s));
            reply.group = std::move(g);
            break;
        }
        LATCHKEY_TRY(u, user_numbered(s, q.id));
        reply.group = own_group(s, u);
        break;
    }
    case proto::NssQuery::groups_of: {
        // The groups besides the user's own (its primary group, which the caller has).
        LATCHKEY_TRY(u, user_named(s, q.name));
        if (!u)
            break;
        LATCHKEY_TRY(g, sudo_group(s));
        if (g && std::binary_search(g->members.begin(), g->members.end(), u->name))
            reply.gids.push_back(g->gid);
        break;
    }
    }
    return reply;
}

core::Result<HostEntries> HostUsers::entries()
{
    HostEntries out;
    LATCHKEY_TRY(found, scope());
    if (!found)
        return out;
    const Scope& s = *found;
    LATCHKEY_TRY(users, store_.users(s.account.id));
    for (const auto& u : users) {
        auto e = entry(s, u);
        if (!e)
            continue;
        if (auto g = own_group(s, e))
            out.groups.push_back(std::move(*g));
        out.users.push_back(std::move(*e));
    }
    LATCHKEY_TRY(sudo, sudo_group(s));
    if (sudo)
        out.groups.push_back(std::move(*sudo));
    const auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
    std::sort(out.users.begin(), out.users.end(), by_name);
    std::sort(out.groups.begin(), out.groups.end(), by_name);
    return out;
}

} // namespace latchkey::directory
