// SPDX-License-Identifier: Apache-2.0
// The account lifecycle.
#include "directory/lifecycle.hpp"

#include <algorithm>

#include "directory/names.hpp"

namespace latchkey::directory {

namespace {

using core::Errc;

std::string kind_name(AccountKind k)
{
    return boost::describe::enum_to_string(k, "?");
}

} // namespace

Lifecycle::Lifecycle(Store& store, Directory& directory, Authority& authority, Audit& audit,
                     const core::Clock& clock, LifecycleLimits limits)
    : store_(store)
    , directory_(directory)
    , authority_(authority)
    , audit_(audit)
    , clock_(clock)
    , limits_(limits)
{
}

core::Result<proto::AccountInfo> Lifecycle::show(const AccountRecord& account)
{
    return directory_.show_account(account.name);
}

std::string Lifecycle::risk_warning(const AccountRecord& a)
{
    return "switching " + a.name +
           " to a cloud account enables its root user, which has full control of the account "
           "and is not bound by its administrators' roles. Root has no password until it is "
           "recovered with a code sent to the bound phone" +
           (a.phone ? " (" + *a.phone + ")" : std::string()) +
           ", and must enrol MFA at its first logon. Keep root's credentials safe, and switch "
           "back to a resource account as soon as the task that needs root is done. Nothing "
           "was changed: to go ahead, run 'latchkeyctl account switch " + a.name +
           " --to cloud --acknowledge-risk'";
}

core::Status Lifecycle::remove_credentials(const AccountRecord& account, const Principal& p,
                                           std::string_view reason)
{
    LATCHKEY_TRY(root, store_.user_by_name(account.id, "root"));
    if (!root)
        return {};
    LATCHKEY_TRY_STATUS(store_.clear_credentials(root->id));
    LATCHKEY_TRY_STATUS(directory_.end_user_sessions(*root, reason, Actor{p.actor}));
    return {};
}

core::Result<proto::AccountInfo> Lifecycle::switch_kind(const proto::AccountSwitch& req,
                                                        const Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(req.account));
    LATCHKEY_TRY_STATUS(authority_.need_directory_admin(p, "switching an account's kind"));
    if (a.kind == AccountKind::management)
        return core::fail(Errc::failed_precondition,
                          "the management account cannot be switched to another kind");
    if (req.to == AccountKind::management)
        return core::fail(Errc::invalid_argument,
                          "an account is switched to 'cloud' or 'resource'; a directory has "
                          "one management account");
    if (a.kind == req.to)
        return core::fail(Errc::failed_precondition,
                          "account " + a.name + " is a " + kind_name(a.kind) + " account already");
    if (req.to == AccountKind::cloud) {
        if (!a.phone)
            return core::fail(Errc::failed_precondition,
                              "account " + a.name +
                                  " has no bound phone: a resource account becomes a cloud "
                                  "account only with one, for root's password recovery; bind it "
                                  "with 'latchkeyctl account phone bind " + a.name + " NUMBER'");
        if (!req.acknowledge_risk)
            return core::fail(Errc::failed_precondition, risk_warning(a));
        LATCHKEY_TRY_STATUS(store_.set_account_kind(a.id, AccountKind::cloud));
        a.kind = AccountKind::cloud;
        LATCHKEY_TRY_STATUS(directory_.ensure_root_user(a));
    } else {
        // Seed 000: root is disabled, and its credentials go with it.
        LATCHKEY_TRY_STATUS(remove_credentials(a, p, "account_switch"));
        LATCHKEY_TRY_STATUS(store_.set_recovery_window(a.id, std::nullopt));
        LATCHKEY_TRY_STATUS(store_.set_account_kind(a.id, AccountKind::resource));
    }
    std::map<std::string, std::string> fields{
        {"actor", p.actor}, {"account", a.name}, {"to", kind_name(req.to)}};
    if (req.to == AccountKind::cloud)
        fields["risk_acknowledged"] = "yes"; // the only way there
    audit_.record(Severity::alert, "account.switch", std::move(fields));
    LATCHKEY_TRY(fresh, directory_.account(a.name));
    return show(fresh);
}

core::Result<proto::AccountInfo> Lifecycle::remove_root_credentials(const std::string& account,
                                                                    const Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(account));
    LATCHKEY_TRY_STATUS(
        authority_.need_directory_admin(p, "removing a member account's root credentials"));
    LATCHKEY_TRY(dir, store_.directory());
    if (!dir || !dir->root_access_centralized)
        return core::fail(Errc::failed_precondition,
                          "centralized root access is disabled: enable it with 'latchkeyctl "
                          "directory root-access enable' to remove members' root credentials");
    if (a.kind != AccountKind::cloud)
        return core::fail(Errc::failed_precondition,
                          a.name + " is a " + kind_name(a.kind) +
                              " account: it has no root user, hence no root credentials");
    LATCHKEY_TRY_STATUS(remove_credentials(a, p, "root_credentials_removed"));
    LATCHKEY_TRY_STATUS(store_.set_recovery_window(a.id, std::nullopt));
    audit_.record(Severity::alert, "root.remove_credentials",
                  {{"actor", p.actor}, {"account", a.name}});
    LATCHKEY_TRY(fresh, directory_.account(a.name));
    return show(fresh);
}

core::Result<proto::AccountInfo> Lifecycle::allow_recovery(const proto::RootAllowRecovery& req,
                                                           const Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(req.account));
    LATCHKEY_TRY_STATUS(authority_.need_directory_admin(p, "allowing root password recovery"));
    LATCHKEY_TRY(dir, store_.directory());
    if (!dir || !dir->root_access_centralized)
        return core::fail(Errc::failed_precondition,
                          "centralized root access is disabled: root password recovery is open "
                          "to the bound phone already");
    if (a.kind != AccountKind::cloud)
        return core::fail(Errc::failed_precondition,
                          a.name + " is a " + kind_name(a.kind) + " account and has no root user");
    const auto max = limits_.max_recovery_window.count();
    if (req.duration_s <= 0 || req.duration_s > max)
        return core::fail(Errc::invalid_argument,
                          "a recovery window lasts from 1 second to " +
                              std::to_string(max / 86400) + " days");
    const auto until = clock_.now() + std::chrono::seconds(req.duration_s);
    LATCHKEY_TRY_STATUS(store_.set_recovery_window(a.id, until));
    audit_.record(Severity::alert, "root.allow_recovery",
                  {{"actor", p.actor}, {"account", a.name},
                   {"until", std::to_string(core::to_unix(until))}});
    LATCHKEY_TRY(fresh, directory_.account(a.name));
    return show(fresh);
}

core::Result<proto::DirectoryInfo> Lifecycle::set_root_access(bool enabled, const Principal& p)
{
    LATCHKEY_TRY_STATUS(directory_.show());
    LATCHKEY_TRY_STATUS(authority_.need_directory_admin(
        p, enabled ? "enabling centralized root access" : "disabling centralized root access"));
    LATCHKEY_TRY_STATUS(store_.set_root_access_centralized(enabled));
    audit_.record(Severity::notice,
                  enabled ? "directory.root_access.enable" : "directory.root_access.disable",
                  {{"actor", p.actor}});
    return directory_.show();
}

core::Result<proto::RootAccessReply> Lifecycle::root_access()
{
    LATCHKEY_TRY(d, directory_.show());
    LATCHKEY_TRY(all, directory_.list_accounts());
    proto::RootAccessReply out;
    out.enabled = d.root_access_centralized;
    for (auto& a : all)
        if (a.kind != AccountKind::management)
            out.members.push_back(std::move(a));
    return out;
}

core::Result<proto::AccountInfo> Lifecycle::close(const std::string& account, const Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(account));
    if (a.kind == AccountKind::management)
        return core::fail(Errc::failed_precondition,
                          "the management account cannot be closed; it is the directory's");
    LATCHKEY_TRY(by, authority_.need_root_task(p, a, "closing an account"));
    LATCHKEY_TRY_STATUS(store_.set_closed(a.id, clock_.now()));
    LATCHKEY_TRY(users, store_.users(a.id));
    for (const auto& u : users)
        LATCHKEY_TRY_STATUS(directory_.end_user_sessions(u, "account_closed", Actor{p.actor}));
    audit_.record(Severity::alert, "account.close",
                  {{"actor", p.actor}, {"account", a.name}, {"by", std::string(to_string(by))}});
    LATCHKEY_TRY(fresh, directory_.account(a.name));
    return show(fresh);
}

core::Result<proto::Done> Lifecycle::restore_admin(const proto::AccountRestoreAdmin& req,
                                                   const Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(req.account));
    LATCHKEY_TRY(by, authority_.need_root_task(
                         p, a, "restoring an administrator who removed their own permissions"));
    LATCHKEY_TRY(who, directory_.resolve({req.user, a.name}));
    LATCHKEY_TRY(held, store_.roles_of(who.user.id));
    const auto it = std::find_if(held.begin(), held.end(), [](const RoleRecord& r) {
        return r.role == Role::account_admin && r.self_revoked_at;
    });
    if (it == held.end())
        return core::fail(Errc::failed_precondition,
                          who.user.name + " did not remove their own account-admin role; roles "
                                          "are granted with 'latchkeyctl role grant'");
    RoleRecord restored{who.user.id, Role::account_admin, clock_.now(), p.actor, std::nullopt};
    LATCHKEY_TRY_STATUS(store_.grant_role(restored));
    audit_.record(Severity::alert, "account.restore_admin",
                  {{"actor", p.actor}, {"account", a.name}, {"user", who.user.name},
                   {"by", std::string(to_string(by))}});
    return proto::Done{"restored the account-admin role of " + who.user.name + "@" +
                       a.default_domain};
}

core::Result<proto::SettingsReply> Lifecycle::clear_logon_networks(const std::string& account,
                                                                   const Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(account));
    LATCHKEY_TRY(by, authority_.need_root_task(
                         p, a, "removing a logon-network restriction (a privileged task)"));
    if (a.settings.allowed_networks.empty())
        return core::fail(Errc::failed_precondition,
                          "account " + a.name + " has no logon-network restriction to remove");
    SecuritySettings s = a.settings;
    std::string removed;
    for (const auto& n : s.allowed_networks)
        removed += (removed.empty() ? "" : ",") + n;
    s.allowed_networks.clear();
    LATCHKEY_TRY_STATUS(store_.set_settings(a.id, s));
    audit_.record(Severity::alert, "account.clear_logon_networks",
                  {{"actor", p.actor}, {"account", a.name}, {"removed", removed},
                   {"by", std::string(to_string(by))}});
    return proto::SettingsReply{a.name, s};
}

core::Result<proto::Done> Lifecycle::grant_role(const proto::RoleGrant& req, const Principal& p)
{
    const auto role = role_from_string(req.role);
    if (!role)
        return core::fail(Errc::invalid_argument, "a role is directory-admin or account-admin");
    LATCHKEY_TRY(who, directory_.resolve(req.ref));
    if (who.account.closed_at)
        return core::fail(Errc::failed_precondition, "account " + who.account.name + " is closed");
    if (Authority::is_root(who.account, who.user))
        return core::fail(Errc::invalid_argument,
                          "the root user holds no roles: it controls its account already");
    if (*role == Role::directory_admin) {
        LATCHKEY_TRY_STATUS(authority_.need_directory_admin(p, "granting directory-admin"));
        if (who.account.kind != AccountKind::management)
            return core::fail(Errc::invalid_argument,
                              "directory-admin is held by users of the management account; " +
                                  who.user.name + " is a user of " + who.account.name);
    } else {
        LATCHKEY_TRY_STATUS(
            authority_.need_account_admin(p, who.account, "granting account-admin"));
    }
    LATCHKEY_TRY(held, store_.roles_of(who.user.id));
    for (const auto& r : held) {
        if (r.role != *role)
            continue;
        if (!r.self_revoked_at)
            return core::fail(Errc::already_exists,
                              who.user.name + " holds " + req.role + " already");
        if (*role == Role::account_admin)
            return core::fail(Errc::permission_denied,
                              "permission denied: " + who.user.name +
                                  " removed their own account-admin role; restoring it is a "
                                  "root-only task: 'latchkeyctl account restore-admin " +
                                  who.account.name + " " + who.user.name + "'");
    }
    RoleRecord rec{who.user.id, *role, clock_.now(), p.actor, std::nullopt};
    LATCHKEY_TRY_STATUS(store_.grant_role(rec));
    audit_.record(Severity::notice, "role.grant",
                  {{"actor", p.actor}, {"account", who.account.name}, {"user", who.user.name},
                   {"role", req.role}});
    return proto::Done{"granted " + req.role + " to " + who.user.name + "@" +
                       who.account.default_domain};
}

core::Result<proto::Done> Lifecycle::revoke_role(const proto::RoleRevoke& req, const Principal& p)
{
    const auto role = role_from_string(req.role);
    if (!role)
        return core::fail(Errc::invalid_argument, "a role is directory-admin or account-admin");
    LATCHKEY_TRY(who, directory_.resolve(req.ref));
    if (*role == Role::directory_admin)
        LATCHKEY_TRY_STATUS(authority_.need_directory_admin(p, "revoking directory-admin"));
    else
        LATCHKEY_TRY_STATUS(
            authority_.need_account_admin(p, who.account, "revoking account-admin"));
    const bool self = p.user && p.user->user.id == who.user.id;
    std::optional<core::TimePoint> self_at;
    if (self)
        self_at = clock_.now();
    if (auto st = store_.revoke_role(who.user.id, *role, self_at); !st) {
        if (st.error().is(Errc::not_found))
            return core::fail(Errc::not_found, who.user.name + " does not hold " + req.role);
        return core::fail(std::move(st).error());
    }
    audit_.record(self ? Severity::warning : Severity::notice, "role.revoke",
                  {{"actor", p.actor}, {"account", who.account.name}, {"user", who.user.name},
                   {"role", req.role}, {"self", self ? "yes" : "no"}});
    std::string text = "revoked " + req.role + " from " + who.user.name + "@" +
                       who.account.default_domain;
    if (self && *role == Role::account_admin)
        text += "; you removed your own role: only the account's root user (or a directory "
                "administrator under centralized root access) can restore it";
    return proto::Done{std::move(text)};
}

core::Result<std::vector<proto::RoleInfo>> Lifecycle::roles(const proto::RoleList& req,
                                                            const Principal& p)
{
    LATCHKEY_TRY_STATUS(authority_.need_some_admin(p, "listing roles"));
    std::optional<std::string> only;
    if (req.account) {
        LATCHKEY_TRY(a, directory_.account(*req.account));
        LATCHKEY_TRY_STATUS(authority_.need_account_admin(p, a, "listing roles"));
        only = a.id;
    } else {
        // An account administrator sees its own account's roles; the directory's are for
        // directory administrators.
        LATCHKEY_TRY(dir_admin, authority_.directory_admin(p));
        if (!dir_admin)
            only = p.user->account.id;
    }
    LATCHKEY_TRY(records, store_.roles(only));
    std::vector<proto::RoleInfo> out;
    for (const auto& r : records) {
        LATCHKEY_TRY(u, store_.user_by_id(r.user_id));
        if (!u)
            continue;
        LATCHKEY_TRY(a, store_.account_by_id(u->account_id));
        if (!a)
            continue;
        proto::RoleInfo i;
        i.user = u->name + "@" + a->default_domain;
        i.account = a->name;
        i.role = std::string(to_string(r.role));
        i.granted_at = core::to_unix(r.granted_at);
        i.granted_by = r.granted_by;
        if (r.self_revoked_at)
            i.self_revoked_at = core::to_unix(*r.self_revoked_at);
        out.push_back(std::move(i));
    }
    return out;
}

} // namespace latchkey::directory
