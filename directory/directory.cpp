// SPDX-License-Identifier: Apache-2.0
// The directory model's rules.
#include "directory/directory.hpp"

#include <algorithm>
#include <map>

#include "core/log.hpp"
#include "core/random.hpp"
#include "directory/assign.hpp"
#include "directory/names.hpp"
#include "directory/password_policy.hpp"

namespace latchkey::directory {

namespace {

using core::Errc;

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    });
    return s;
}

} // namespace

Directory::Directory(Store& store, Audit& audit, const core::Clock& clock)
    : store_(store)
    , audit_(audit)
    , clock_(clock)
{
}

void Directory::set_unix(UnixSettings settings)
{
    unix_ = std::move(settings);
}

std::string Directory::home_of(const UserRecord& user) const
{
    if (user.home)
        return *user.home;
    return directory::home_of(unix_ ? unix_->home : UnixSettings{}.home, user.name);
}

std::string Directory::shell_of(const UserRecord& user) const
{
    return user.shell ? *user.shell : unix_ ? unix_->shell : UnixSettings{}.shell;
}

core::Result<std::size_t> Directory::assign_missing_uids()
{
    if (!unix_)
        return std::size_t{0};
    // A root user is never a Unix user: the host's own root owns the name and uid 0.
    LATCHKEY_TRY(users, store_.users_without_uid());
    std::size_t assigned = 0;
    for (const auto& u : users) {
        LATCHKEY_TRY(uid, store_.assign_uid(u.id, unix_->ids));
        audit_.record(Severity::notice, "user.uid",
                      {{"actor", "latchkeyd"}, {"user", u.name}, {"uid", std::to_string(uid)}});
        ++assigned;
    }
    return assigned;
}

void Directory::set_host_account(std::string name)
{
    const std::lock_guard lock(host_mutex_);
    host_account_ = std::move(name);
}

std::string Directory::host_account() const
{
    const std::lock_guard lock(host_mutex_);
    return host_account_;
}

core::Result<DirectoryRecord> Directory::require_directory()
{
    LATCHKEY_TRY(dir, store_.directory());
    if (!dir)
        return core::fail(Errc::failed_precondition,
                          "there is no directory yet: run 'latchkeyctl directory init --domain D'");
    return std::move(*dir);
}

core::Result<proto::DirectoryInfo> Directory::init(const proto::DirectoryInit& req,
                                                   const Actor& actor)
{
    const std::string domain = lower(req.domain);
    LATCHKEY_TRY_STATUS(check_domain(domain));
    LATCHKEY_TRY_STATUS(check_account_name(req.management_account));
    LATCHKEY_TRY(existing, store_.directory());
    if (existing)
        return core::fail(Errc::already_exists,
                          "the directory " + existing->domain + " already exists");
    const auto now = clock_.now();
    DirectoryRecord dir{core::uuid_v4(), domain, core::uuid_v4(), now};
    AccountRecord mgmt;
    mgmt.id = dir.management_account_id;
    mgmt.directory_id = dir.id;
    mgmt.name = req.management_account;
    mgmt.kind = AccountKind::management;
    mgmt.default_domain = req.management_account + "." + domain;
    mgmt.created_at = now;
    LATCHKEY_TRY_STATUS(store_.create_directory(dir, mgmt));
    audit_.record(Severity::notice, "directory.init",
                  {{"actor", actor.name}, {"domain", domain}, {"account", mgmt.name}});
    return show();
}

core::Result<proto::DirectoryInfo> Directory::show()
{
    LATCHKEY_TRY(dir, require_directory());
    LATCHKEY_TRY(mgmt, store_.account_by_id(dir.management_account_id));
    LATCHKEY_TRY(accounts, store_.accounts());
    proto::DirectoryInfo out;
    out.id = dir.id;
    out.domain = dir.domain;
    out.management_account = mgmt ? mgmt->name : "";
    out.created_at = core::to_unix(dir.created_at);
    out.accounts = static_cast<std::uint32_t>(accounts.size());
    out.root_access_centralized = dir.root_access_centralized;
    return out;
}

core::Result<proto::AccountInfo> Directory::info(const AccountRecord& a)
{
    LATCHKEY_TRY(users, store_.count_users(a.id));
    proto::AccountInfo out;
    out.id = a.id;
    out.name = a.name;
    out.kind = a.kind;
    out.default_domain = a.default_domain;
    out.aliases = a.aliases;
    out.users = users;
    out.created_at = core::to_unix(a.created_at);
    out.phone = a.phone;
    if (a.closed_at)
        out.closed_at = core::to_unix(*a.closed_at);
    LATCHKEY_TRY(sent, store_.codes_sent(a.id, utc_day(clock_.now())));
    out.codes_sent_today = sent;
    // A resource account keeps the disabled root's record (for its audit trail and sessions)
    // after a switch back: root is never counted among the users.
    LATCHKEY_TRY(r, store_.user_by_name(a.id, "root"));
    if (r && out.users > 0)
        --out.users;
    if (a.kind == AccountKind::cloud) {
        proto::RootInfo root;
        LATCHKEY_TRY(dir, store_.directory());
        if (r) {
            root.exists = true;
            root.has_password = !r->password_hash.empty();
            LATCHKEY_TRY(device, store_.mfa_device(r->id));
            root.has_mfa = device.has_value();
            LATCHKEY_TRY(keys, store_.access_keys(r->id));
            root.access_keys = static_cast<std::uint32_t>(keys.size());
        }
        const bool centralized = dir && dir->root_access_centralized;
        const bool window = a.recovery_open_until && clock_.now() < *a.recovery_open_until;
        root.recovery_open = !a.closed_at && a.phone && (!centralized || window);
        if (window)
            root.recovery_open_until = core::to_unix(*a.recovery_open_until);
        out.root = root;
    }
    return out;
}

core::Result<AccountRecord> Directory::open_account(const std::string& name)
{
    LATCHKEY_TRY(a, account(name));
    if (a.closed_at)
        return core::fail(Errc::failed_precondition, "account " + a.name + " is closed");
    return a;
}

core::Result<AccountRecord> Directory::account(const std::optional<std::string>& name)
{
    return account_named(name);
}

core::Status Directory::ensure_root_user(const AccountRecord& a)
{
    if (a.kind != AccountKind::cloud)
        return {};
    LATCHKEY_TRY(existing, store_.user_by_name(a.id, "root"));
    if (existing)
        return {};
    UserRecord root;
    root.id = core::uuid_v4();
    root.account_id = a.id;
    root.name = "root"; // reserved: check_user_name refuses it to everyone else
    root.display_name = "root";
    root.created_at = clock_.now();
    if (auto st = store_.create_user(root); !st && !st.error().is(Errc::already_exists))
        return st;
    return {};
}

core::Result<proto::AccountInfo> Directory::create_account(const proto::AccountCreate& req,
                                                           const Actor& actor)
{
    LATCHKEY_TRY(dir, require_directory());
    LATCHKEY_TRY_STATUS(check_account_name(req.name));
    if (req.kind == AccountKind::management)
        return core::fail(Errc::invalid_argument,
                          "a directory has exactly one management account; create a resource "
                          "or cloud account");
    AccountRecord a;
    a.id = core::uuid_v4();
    a.directory_id = dir.id;
    a.name = req.name;
    a.kind = req.kind;
    a.default_domain = req.name + "." + dir.domain;
    a.created_at = clock_.now();
    LATCHKEY_TRY_STATUS(store_.create_account(a));
    // A cloud account's root exists from the start, without credentials (seed 003: new member
    // accounts have none); its password is recovered with a code to the bound phone.
    LATCHKEY_TRY_STATUS(ensure_root_user(a));
    audit_.record(Severity::notice, "account.create",
                  {{"actor", actor.name},
                   {"account", a.name},
                   {"kind", boost::describe::enum_to_string(a.kind, "?")}});
    return info(a);
}

core::Result<std::vector<proto::AccountInfo>> Directory::list_accounts()
{
    LATCHKEY_TRY_STATUS(require_directory());
    LATCHKEY_TRY(accounts, store_.accounts());
    std::vector<proto::AccountInfo> out;
    for (const auto& a : accounts) {
        LATCHKEY_TRY(i, info(a));
        out.push_back(std::move(i));
    }
    return out;
}

core::Result<AccountRecord> Directory::account_named(const std::optional<std::string>& name)
{
    LATCHKEY_TRY_STATUS(require_directory());
    const std::string wanted = name ? *name : host_account();
    if (wanted.empty())
        return core::fail(Errc::invalid_argument,
                          "name the account (--account): this host is bound to no account");
    LATCHKEY_TRY(a, store_.account_by_name(wanted));
    if (!a)
        return core::fail(Errc::not_found, "there is no account named '" + wanted + "'");
    return std::move(*a);
}

core::Result<proto::AccountInfo> Directory::show_account(const std::string& name)
{
    LATCHKEY_TRY(a, account_named(name));
    return info(a);
}

core::Result<proto::AccountInfo> Directory::alias(const proto::AccountAlias& req,
                                                  const Actor& actor)
{
    LATCHKEY_TRY(a, account_named(req.account));
    const std::string domain = lower(req.domain);
    LATCHKEY_TRY_STATUS(check_domain(domain));
    if (domain == a.default_domain)
        return core::fail(Errc::invalid_argument,
                          domain + " is the default domain of " + a.name +
                              "; it cannot be added or removed as an alias");
    if (req.add)
        LATCHKEY_TRY_STATUS(store_.add_alias(a.id, domain));
    else if (auto removed = store_.remove_alias(a.id, domain); !removed)
        return core::fail(removed.error().is(Errc::not_found)
                              ? core::Error{Errc::not_found,
                                            domain + " is not an alias of account " + a.name}
                              : std::move(removed).error());
    audit_.record(Severity::notice, req.add ? "account.alias.add" : "account.alias.remove",
                  {{"actor", actor.name}, {"account", a.name}, {"domain", domain}});
    return show_account(a.name);
}

core::Result<std::pair<AccountRecord, std::string>> Directory::locate(
    const proto::UserRef& ref)
{
    std::string name = ref.user;
    const auto at = name.find('@');
    if (at == std::string::npos) {
        LATCHKEY_TRY(a, account_named(ref.account));
        return std::pair{std::move(a), std::move(name)};
    }
    const std::string domain = lower(name.substr(at + 1));
    name.resize(at);
    LATCHKEY_TRY_STATUS(require_directory());
    LATCHKEY_TRY(a, store_.account_by_domain(domain));
    if (!a)
        return core::fail(Errc::not_found,
                          "no account has the logon domain '" + domain.substr(0, 253) + "'");
    if (ref.account && *ref.account != a->name)
        return core::fail(Errc::invalid_argument,
                          "'" + domain + "' belongs to account " + a->name + ", not " +
                              *ref.account);
    return std::pair{std::move(*a), std::move(name)};
}

core::Result<ResolvedUser> Directory::resolve(const proto::UserRef& ref)
{
    LATCHKEY_TRY(located, locate(ref));
    auto& [account, name] = located;
    if (name.empty() || name.size() > 32)
        return core::fail(Errc::invalid_argument, "a user name is 1-32 characters");
    LATCHKEY_TRY(u, store_.user_by_name(account.id, name));
    if (!u)
        return core::fail(Errc::not_found,
                          "there is no user '" + name + "' in account " + account.name);
    return ResolvedUser{std::move(account), std::move(*u)};
}

core::Result<ResolvedUser> Directory::resolve_id(const std::string& user_id)
{
    LATCHKEY_TRY(u, store_.user_by_id(user_id));
    if (!u)
        return core::fail(Errc::not_found, "there is no such user");
    LATCHKEY_TRY(a, store_.account_by_id(u->account_id));
    if (!a)
        return core::fail(Errc::not_found, "the user's account is gone");
    return ResolvedUser{std::move(*a), std::move(*u)};
}

core::Result<std::optional<ResolvedUser>> Directory::resolve_uid(std::uint32_t uid)
{
    LATCHKEY_TRY(u, store_.user_by_uid(uid));
    if (!u)
        return std::optional<ResolvedUser>{};
    LATCHKEY_TRY(a, store_.account_by_id(u->account_id));
    if (!a)
        return std::optional<ResolvedUser>{};
    return std::optional<ResolvedUser>{ResolvedUser{std::move(*a), std::move(*u)}};
}

proto::UserInfo Directory::info(const AccountRecord& a, const UserRecord& u) const
{
    proto::UserInfo out;
    out.id = u.id;
    out.account = a.name;
    out.name = u.name;
    out.logon_name = u.name + "@" + a.default_domain;
    out.display_name = u.display_name;
    out.email = u.email;
    out.console_logon = u.console_logon;
    out.has_password = !u.password_hash.empty();
    if (u.password_set_at) {
        out.password_set_at = core::to_unix(*u.password_set_at);
        if (const auto e = password_expires_at(a.policy, *u.password_set_at))
            out.password_expires_at = core::to_unix(*e);
    }
    out.require_change = u.require_change;
    if (u.locked_until && *u.locked_until > clock_.now())
        out.locked_until = core::to_unix(*u.locked_until);
    out.created_at = core::to_unix(u.created_at);
    out.uid = u.uid;
    if (u.uid) {
        out.home = home_of(u);
        out.shell = shell_of(u);
    }
    return out;
}

core::Result<proto::UserInfo> Directory::create_user(const proto::UserCreate& req,
                                                     const Actor& actor)
{
    LATCHKEY_TRY(located, locate(req.ref));
    auto& [account, name] = located;
    if (account.closed_at)
        return core::fail(Errc::failed_precondition, "account " + account.name + " is closed");
    LATCHKEY_TRY_STATUS(check_user_name(name));
    const std::string display = req.display_name ? *req.display_name : name;
    LATCHKEY_TRY_STATUS(check_display_name(display));
    if (req.email)
        LATCHKEY_TRY_STATUS(check_email(*req.email));
    if (unix_ && name == unix_->sudo_group)
        return core::fail(Errc::invalid_argument,
                          "'" + name + "' names the hosts' group of administrators ([unix] "
                          "sudo_group): choose another user name");
    UserRecord u;
    u.id = core::uuid_v4();
    u.account_id = account.id;
    u.name = name;
    u.display_name = display;
    u.console_logon = req.console_logon;
    u.email = req.email;
    u.created_at = clock_.now();
    LATCHKEY_TRY_STATUS(store_.create_user(u));
    std::map<std::string, std::string> fields{
        {"actor", actor.name}, {"account", account.name}, {"user", name}};
    if (unix_) {
        // The user exists from here on; without a uid it is no Unix user yet, which the next
        // start (or a wider range) mends.
        if (auto uid = store_.assign_uid(u.id, unix_->ids)) {
            u.uid = *uid;
            fields["uid"] = std::to_string(*uid);
        } else {
            core::log::warning("user " + name + " has no uid: " + uid.error().message);
        }
    }
    audit_.record(Severity::notice, "user.create", std::move(fields));
    return info(account, u);
}

core::Result<std::vector<proto::UserInfo>> Directory::list_users(
    const std::optional<std::string>& account)
{
    LATCHKEY_TRY_STATUS(require_directory());
    LATCHKEY_TRY(accounts, store_.accounts());
    std::optional<std::string> only;
    if (account) {
        LATCHKEY_TRY(a, account_named(account));
        only = a.id;
    }
    LATCHKEY_TRY(users, store_.users(only));
    std::vector<proto::UserInfo> out;
    for (const auto& u : users) {
        const auto a = std::find_if(accounts.begin(), accounts.end(),
                                    [&](const AccountRecord& r) { return r.id == u.account_id; });
        // The root user of an account is not one of its users (seed 003): `account show`
        // reports it. The name is reserved, so a user named root is the root user.
        if (a != accounts.end() && u.name != "root")
            out.push_back(info(*a, u));
    }
    return out;
}

core::Result<proto::UserInfo> Directory::show_user(const proto::UserRef& ref)
{
    LATCHKEY_TRY(r, resolve(ref));
    return info(r.account, r.user);
}

core::Status Directory::delete_user(const proto::UserRef& ref, const Actor& actor)
{
    LATCHKEY_TRY(r, resolve(ref));
    LATCHKEY_TRY_STATUS(store_.delete_user(r.user.id));
    audit_.record(Severity::notice, "user.delete",
                  {{"actor", actor.name}, {"account", r.account.name}, {"user", r.user.name}});
    return {};
}

core::Result<proto::UserInfo> Directory::set_console_logon(const proto::UserRef& ref,
                                                           bool enabled, const Actor& actor)
{
    LATCHKEY_TRY(r, resolve(ref));
    LATCHKEY_TRY_STATUS(store_.set_console_logon(r.user.id, enabled));
    r.user.console_logon = enabled;
    audit_.record(Severity::notice, enabled ? "user.logon.enable" : "user.logon.disable",
                  {{"actor", actor.name}, {"account", r.account.name}, {"user", r.user.name}});
    return info(r.account, r.user);
}

core::Result<proto::UserInfo> Directory::set_email(const proto::UserSetEmail& req,
                                                   const Actor& actor)
{
    LATCHKEY_TRY(r, resolve(req.ref));
    if (req.email)
        LATCHKEY_TRY_STATUS(check_email(*req.email));
    LATCHKEY_TRY_STATUS(store_.set_email(r.user.id, req.email));
    r.user.email = req.email;
    audit_.record(Severity::notice, req.email ? "user.email.set" : "user.email.remove",
                  {{"actor", actor.name}, {"account", r.account.name}, {"user", r.user.name}});
    return info(r.account, r.user);
}

core::Result<proto::UserInfo> Directory::set_unix(const proto::UserSetUnix& req,
                                                  const Actor& actor)
{
    LATCHKEY_TRY(r, resolve(req.ref));
    const bool shell = req.attribute == proto::UnixAttribute::shell;
    if (req.value)
        LATCHKEY_TRY_STATUS(check_unix_path(*req.value, shell ? "the shell" : "the home directory"));
    if (r.user.name == "root")
        return core::fail(Errc::failed_precondition,
                          "the root user is no Unix user of the hosts (their own root is)");
    LATCHKEY_TRY_STATUS(shell ? store_.set_shell(r.user.id, req.value)
                              : store_.set_home(r.user.id, req.value));
    (shell ? r.user.shell : r.user.home) = req.value;
    std::map<std::string, std::string> fields{
        {"actor", actor.name}, {"account", r.account.name}, {"user", r.user.name}};
    fields[shell ? "shell" : "home"] = shell ? shell_of(r.user) : home_of(r.user);
    audit_.record(Severity::notice, shell ? "user.shell" : "user.home", std::move(fields));
    return info(r.account, r.user);
}

core::Result<proto::UserInfo> Directory::unlock(const proto::UserRef& ref, const Actor& actor)
{
    LATCHKEY_TRY(r, resolve(ref));
    LATCHKEY_TRY_STATUS(store_.set_locked_until(r.user.id, std::nullopt));
    LATCHKEY_TRY_STATUS(store_.clear_failures(r.user.id));
    r.user.locked_until.reset();
    audit_.record(Severity::notice, "user.unlock",
                  {{"actor", actor.name}, {"account", r.account.name}, {"user", r.user.name}});
    return info(r.account, r.user);
}

proto::SessionInfo Directory::info(const SessionRecord& s)
{
    proto::SessionInfo i;
    i.id = s.id;
    i.user = "?";
    if (auto u = store_.user_by_id(s.user_id); u && *u) {
        auto a = store_.account_by_id((*u)->account_id);
        i.user = (*u)->name + "@" + (a && *a ? (*a)->default_domain : std::string("?"));
    }
    i.service = s.service;
    i.tty = s.tty;
    i.rhost = s.rhost;
    i.pid = s.pid;
    i.logind_session = s.logind_session;
    i.logon_id = s.logon_id;
    i.method = s.method;
    i.opened_at = core::to_unix(s.opened_at);
    i.kind = std::string(to_string(s.kind));
    if (s.expires_at)
        i.expires_at = core::to_unix(*s.expires_at);
    return i;
}

core::Result<std::vector<proto::SessionInfo>> Directory::sessions(
    const std::optional<std::string>& user)
{
    std::optional<std::string> only;
    if (user) {
        LATCHKEY_TRY(r, resolve({*user, std::nullopt}));
        only = r.user.id;
    }
    LATCHKEY_TRY(open, store_.open_sessions(only, clock_.now()));
    std::vector<proto::SessionInfo> out;
    out.reserve(open.size());
    for (const auto& s : open)
        out.push_back(info(s));
    return out;
}

void Directory::on_session_end(SessionEndHook hook)
{
    session_end_ = std::move(hook);
}

core::Result<bool> Directory::end_session(const SessionRecord& session, std::string_view reason,
                                          const Actor& actor)
{
    LATCHKEY_TRY(closed, store_.close_session(session.id, clock_.now()));
    if (!closed)
        return false;
    const proto::SessionInfo i = info(session);
    audit_.record(Severity::notice, "session.end",
                  {{"actor", actor.name},
                   {"session", session.id},
                   {"user", i.user},
                   {"kind", i.kind},
                   {"service", session.service},
                   {"reason", std::string(reason)}});
    if (session_end_)
        session_end_(session, reason);
    return true;
}

core::Result<std::uint32_t> Directory::end_user_sessions(const UserRecord& user,
                                                         std::string_view reason,
                                                         const Actor& actor)
{
    LATCHKEY_TRY(open, store_.open_sessions(user.id, clock_.now()));
    std::uint32_t ended = 0;
    for (const auto& s : open) {
        LATCHKEY_TRY(closed, end_session(s, reason, actor));
        ended += closed ? 1 : 0;
    }
    return ended;
}

core::Result<std::vector<proto::SessionInfo>> Directory::end_sessions(const proto::SessionEnd& req,
                                                                      const Actor& actor)
{
    if (req.id.has_value() == req.user.has_value())
        return core::fail(Errc::invalid_argument, "name a session id or a user (--user), not both");
    std::vector<SessionRecord> targets;
    if (req.id) {
        // The whole id, or a prefix of at least the 8 characters `session list` shows.
        LATCHKEY_TRY(open, store_.open_sessions(std::nullopt, clock_.now()));
        for (auto& s : open)
            if (s.id == *req.id || (req.id->size() >= 8 && s.id.rfind(*req.id, 0) == 0))
                targets.push_back(std::move(s));
        if (targets.empty())
            return core::fail(Errc::not_found, "no open session has the id '" +
                                                   req.id->substr(0, 64) +
                                                   "'; `latchkeyctl session list` shows them");
        if (targets.size() > 1)
            return core::fail(Errc::invalid_argument,
                              "several open sessions start with '" + *req.id +
                                  "'; give more of the id");
    } else {
        LATCHKEY_TRY(r, resolve({*req.user, std::nullopt}));
        LATCHKEY_TRY(open, store_.open_sessions(r.user.id, clock_.now()));
        targets = std::move(open);
    }
    std::vector<proto::SessionInfo> out;
    for (const auto& s : targets) {
        LATCHKEY_TRY(closed, end_session(s, "admin", actor));
        if (closed)
            out.push_back(info(s));
    }
    return out;
}

core::Result<std::vector<proto::AuditInfo>> Directory::audit(const proto::AuditList& query)
{
    AuditQuery q;
    if (query.severity) {
        q.min_severity = severity_from_string(*query.severity);
        if (!q.min_severity)
            return core::fail(Errc::invalid_argument,
                              "severity must be one of info, notice, warning, alert");
    }
    if (query.since)
        q.since = core::from_unix(*query.since);
    q.user = query.user;
    q.limit = std::clamp<std::uint32_t>(query.limit, 1, 10000);
    LATCHKEY_TRY(events, store_.audit(q));
    std::vector<proto::AuditInfo> out;
    out.reserve(events.size());
    for (auto& e : events) {
        proto::AuditInfo i;
        i.seq = e.seq;
        i.at = core::to_unix(e.at);
        i.severity = std::string(to_string(e.severity));
        i.event = e.event;
        for (auto& [k, v] : e.fields)
            i.fields.push_back({k, v});
        out.push_back(std::move(i));
    }
    return out;
}

core::Result<proto::PolicyReply> Directory::policy(const std::optional<std::string>& account)
{
    LATCHKEY_TRY(a, account_named(account));
    return proto::PolicyReply{a.name, a.policy};
}

core::Result<proto::PolicyReply> Directory::set_policy(const proto::PolicySet& req,
                                                       const Actor& actor)
{
    LATCHKEY_TRY(a, account_named(req.account));
    if (req.changes.empty())
        return core::fail(Errc::invalid_argument, "nothing to set: give KEY=VALUE pairs");
    PasswordPolicy p = a.policy;
    std::map<std::string, std::string> fields{{"actor", actor.name}, {"account", a.name}};
    for (const auto& c : req.changes) {
        LATCHKEY_TRY_STATUS(assign(p, c.key, c.value));
        fields[c.key] = c.value;
    }
    LATCHKEY_TRY_STATUS(validate(p));
    LATCHKEY_TRY_STATUS(store_.set_policy(a.id, p));
    audit_.record(Severity::notice, "policy.set", std::move(fields));
    return proto::PolicyReply{a.name, p};
}

core::Result<proto::SettingsReply> Directory::settings(const std::optional<std::string>& account)
{
    LATCHKEY_TRY(a, account_named(account));
    return proto::SettingsReply{a.name, a.settings};
}

core::Result<proto::SettingsReply> Directory::set_settings(const proto::SettingsSet& req,
                                                           const Actor& actor)
{
    LATCHKEY_TRY(a, account_named(req.account));
    if (req.changes.empty())
        return core::fail(Errc::invalid_argument, "nothing to set: give KEY=VALUE pairs");
    SecuritySettings s = a.settings;
    std::map<std::string, std::string> fields{{"actor", actor.name}, {"account", a.name}};
    for (const auto& c : req.changes) {
        LATCHKEY_TRY_STATUS(assign(s, c.key, c.value));
        fields[c.key] = c.value;
    }
    LATCHKEY_TRY_STATUS(validate(s));
    LATCHKEY_TRY_STATUS(store_.set_settings(a.id, s));
    audit_.record(Severity::notice, "settings.set", std::move(fields));
    return proto::SettingsReply{a.name, s};
}

} // namespace latchkey::directory
