// SPDX-License-Identifier: Apache-2.0
// One lookup: the daemon, else the cache.
#include "nss_module/lookup.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <grp.h>
#include <pwd.h>

#include "core/files.hpp"
#include "proto/client.hpp"
#include "proto/nss.hpp"

namespace latchkey::nss {

namespace {

constexpr std::size_t max_field = 1024;

bool sane_text(const std::string& s)
{
    return s.size() <= max_field && std::none_of(s.begin(), s.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u < 0x20 || u == 0x7f || c == ':';
           });
}

bool sane_name(const std::string& s)
{
    return !s.empty() && s.size() <= 32 && sane_text(s) && s.find(',') == std::string::npos &&
           s != "root";
}

bool sane_id(std::uint32_t id)
{
    return id >= proto::nss_min_id && id != static_cast<std::uint32_t>(-1);
}

bool sane(const proto::NssUser& u)
{
    return sane_name(u.name) && sane_id(u.uid) && sane_id(u.gid) && sane_text(u.gecos) &&
           sane_text(u.home) && sane_text(u.shell) && u.home.starts_with('/') &&
           u.shell.starts_with('/');
}

bool sane(const proto::NssGroup& g)
{
    return sane_name(g.name) && sane_id(g.gid) &&
           std::all_of(g.members.begin(), g.members.end(), sane_name);
}

/// The daemon's reply, or nullopt when it did not give one (then the cache answers).
std::optional<proto::NssReply> ask(const Sources& from, const proto::NssLookup& q)
{
    proto::ClientOptions options;
    options.socket_path = from.socket_path;
    options.timeout = from.timeout;
    options.trusted_server_uids = from.trusted_uids;
    if (options.trusted_server_uids.empty()) {
        options.trusted_server_uids.push_back(0);
        if (const auto uid = uid_in_file("/etc/passwd", "latchkey"))
            options.trusted_server_uids.push_back(*uid);
    }
    auto client = proto::Client::connect(options);
    if (!client)
        return std::nullopt;
    auto response = client->call(q);
    if (!response)
        return std::nullopt;
    if (auto* reply = std::get_if<proto::NssReply>(&*response))
        return std::move(*reply);
    return std::nullopt; // a failure of the daemon's (its store): the cache may still know
}

std::string cache_file(const Sources& from, std::string_view name)
{
    return from.cache_dir + "/" + std::string(name);
}

template <class Match>
Found<proto::NssUser> cached_user(const Sources& from, Match match)
{
    Found<proto::NssUser> out;
    const auto found = core::scan_entries<struct passwd>(
        cache_file(from, proto::nss_cache_passwd), ::fgetpwent_r, [&](const struct passwd& pw) {
            if (!match(pw))
                return false;
            out.entry = proto::NssUser{pw.pw_name,  pw.pw_uid, pw.pw_gid,
                                       pw.pw_gecos, pw.pw_dir, pw.pw_shell};
            return true;
        });
    out.status = !found ? Status::unavailable : *found ? Status::success : Status::not_found;
    return out;
}

template <class Match>
std::optional<bool> scan_groups(const Sources& from, Match match)
{
    return core::scan_entries<struct group>(cache_file(from, proto::nss_cache_group), ::fgetgrent_r,
                                            match);
}

proto::NssGroup group_of(const struct group& gr)
{
    proto::NssGroup g{gr.gr_name, gr.gr_gid, {}};
    for (char** m = gr.gr_mem; m != nullptr && *m != nullptr; ++m)
        g.members.emplace_back(*m);
    return g;
}

template <class Match>
Found<proto::NssGroup> cached_group(const Sources& from, Match match)
{
    Found<proto::NssGroup> out;
    const auto found = scan_groups(from, [&](const struct group& gr) {
        if (!match(gr))
            return false;
        out.entry = group_of(gr);
        return true;
    });
    out.status = !found ? Status::unavailable : *found ? Status::success : Status::not_found;
    return out;
}

/// An entry is used only when it is the one asked for and sane; anything else is not found.
template <class T, class Is>
Found<T> checked(Found<T> f, Is is_asked)
{
    if (f.status == Status::success && (!f.entry || !sane(*f.entry) || !is_asked(*f.entry)))
        return {Status::not_found, std::nullopt};
    return f;
}

template <class T>
Found<T> from_reply(std::optional<T> entry)
{
    if (!entry)
        return {Status::not_found, std::nullopt};
    return {Status::success, std::move(entry)};
}

/// latchkeyd's own lookups: neither its socket nor its cache.
bool off()
{
    return std::getenv(proto::nss_off_variable) != nullptr;
}

/// The one order of sources for an entry: nothing inside latchkeyd, nothing for a key that
/// cannot be ours, else the daemon's answer (`pick` takes the entry out of its reply), else the
/// cache's; either is believed only when `is_asked` and sane.
template <class T, class Pick, class Cached, class IsAsked>
Found<T> find_entry(const Sources& from,
                    bool key_ok,
                    const proto::NssLookup& q,
                    Pick pick,
                    Cached cached,
                    IsAsked is_asked)
{
    if (off())
        return {Status::unavailable, std::nullopt};
    if (!key_ok)
        return {Status::not_found, std::nullopt};
    if (auto reply = ask(from, q))
        return checked(from_reply(pick(*reply)), is_asked);
    return checked(cached(), is_asked);
}

std::optional<proto::NssUser> reply_user(proto::NssReply& r)
{
    return std::move(r.user);
}

std::optional<proto::NssGroup> reply_group(proto::NssReply& r)
{
    return std::move(r.group);
}

} // namespace

Sources default_sources()
{
    Sources s;
    s.socket_path = proto::nss_socket_path;
    s.cache_dir = proto::nss_cache_dir;
    return s; // and the default timeout and trusted uids
}

std::optional<uid_t> uid_in_file(const std::string& passwd_path, const std::string& name)
{
    std::optional<uid_t> uid;
    core::scan_entries<struct passwd>(passwd_path, ::fgetpwent_r, [&](const struct passwd& pw) {
        if (name != pw.pw_name)
            return false;
        uid = pw.pw_uid;
        return true;
    });
    return uid;
}

Found<proto::NssUser> user_by_name(const Sources& from, const std::string& name)
{
    return find_entry<proto::NssUser>(
        from, sane_name(name), {proto::NssQuery::user_by_name, name, 0}, reply_user,
        [&] {
            return cached_user(from, [&](const struct passwd& pw) { return name == pw.pw_name; });
        },
        [&](const proto::NssUser& u) { return u.name == name; });
}

Found<proto::NssUser> user_by_uid(const Sources& from, std::uint32_t uid)
{
    return find_entry<proto::NssUser>(
        from, sane_id(uid), {proto::NssQuery::user_by_uid, {}, uid}, reply_user,
        [&] {
            return cached_user(from, [&](const struct passwd& pw) { return pw.pw_uid == uid; });
        },
        [&](const proto::NssUser& u) { return u.uid == uid; });
}

Found<proto::NssGroup> group_by_name(const Sources& from, const std::string& name)
{
    return find_entry<proto::NssGroup>(
        from, sane_name(name), {proto::NssQuery::group_by_name, name, 0}, reply_group,
        [&] {
            return cached_group(from, [&](const struct group& gr) { return name == gr.gr_name; });
        },
        [&](const proto::NssGroup& g) { return g.name == name; });
}

Found<proto::NssGroup> group_by_gid(const Sources& from, std::uint32_t gid)
{
    return find_entry<proto::NssGroup>(
        from, sane_id(gid), {proto::NssQuery::group_by_gid, {}, gid}, reply_group,
        [&] {
            return cached_group(from, [&](const struct group& gr) { return gr.gr_gid == gid; });
        },
        [&](const proto::NssGroup& g) { return g.gid == gid; });
}

Found<std::vector<std::uint32_t>> groups_of(const Sources& from, const std::string& user)
{
    if (off())
        return {Status::unavailable, std::nullopt};
    if (!sane_name(user))
        return {Status::not_found, std::nullopt};
    std::vector<std::uint32_t> gids;
    if (auto reply = ask(from, {proto::NssQuery::groups_of, user, 0})) {
        gids = std::move(reply->gids);
    } else {
        const auto found = scan_groups(from, [&](const struct group& gr) {
            for (char** m = gr.gr_mem; m != nullptr && *m != nullptr; ++m)
                if (user == *m)
                    gids.push_back(gr.gr_gid);
            return false; // every group
        });
        if (!found)
            return {Status::unavailable, std::nullopt};
    }
    std::erase_if(gids, [](std::uint32_t g) { return !sane_id(g); });
    if (gids.empty())
        return {Status::not_found, std::nullopt};
    return {Status::success, std::move(gids)};
}

} // namespace latchkey::nss
