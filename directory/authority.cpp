// SPDX-License-Identifier: Apache-2.0
// Who may run which administrative task.
#include "directory/authority.hpp"

#include <algorithm>

namespace latchkey::directory {

namespace {

using core::Errc;

core::Unexpected denied(std::string message)
{
    return core::fail(Errc::permission_denied, "permission denied: " + std::move(message));
}

} // namespace

std::string_view to_string(RootTaskBy by) noexcept
{
    return by == RootTaskBy::root ? "root" : "centralized_root_access";
}

Authority::Authority(Store& store, Directory& directory)
    : store_(store)
    , directory_(directory)
{
}

bool Authority::is_root(const AccountRecord&, const UserRecord& user) noexcept
{
    // The name is reserved (check_user_name): the only user called root is the account's root,
    // also the disabled one a resource account keeps after a switch back from cloud.
    return user.name == "root";
}

bool Authority::is_root_of(const Principal& p, const AccountRecord& account) const noexcept
{
    return account.kind == AccountKind::cloud && !p.signed_out && p.user &&
           p.user->account.id == account.id &&
           is_root(p.user->account, p.user->user);
}

core::Result<bool> Authority::holds(const UserRecord& user, Role role)
{
    LATCHKEY_TRY(roles, store_.roles_of(user.id));
    return std::any_of(roles.begin(), roles.end(), [&](const RoleRecord& r) {
        return r.role == role && !r.self_revoked_at;
    });
}

core::Result<bool> Authority::directory_admin(const Principal& p)
{
    if (p.signed_out)
        return false;
    if (!p.user)
        return true; // root on the admin socket counts as one
    if (p.user->account.kind != AccountKind::management)
        return false;
    return holds(p.user->user, Role::directory_admin);
}

core::Result<bool> Authority::account_admin(const Principal& p, const AccountRecord& account)
{
    LATCHKEY_TRY(dir_admin, directory_admin(p));
    if (dir_admin)
        return true;
    if (p.signed_out || !p.user || p.user->account.id != account.id)
        return false;
    if (is_root(p.user->account, p.user->user))
        return true;
    return holds(p.user->user, Role::account_admin);
}

std::string Authority::who(const Principal& p) const
{
    if (p.signed_out)
        return "this connection is not signed in";
    return p.user ? p.user->user.name + "@" + p.user->account.default_domain + " is not one"
                  : "you are not one";
}

std::string Authority::directory_admins_are()
{
    std::string mgmt = "the management account";
    if (auto dir = store_.directory(); dir && *dir)
        if (auto a = store_.account_by_id((*dir)->management_account_id); a && *a)
            mgmt += " " + (*a)->name;
    return "directory administrators (users of " + mgmt +
           " with the directory-admin role, and root on the admin socket)";
}

core::Status Authority::need_directory_admin(const Principal& p, std::string_view task)
{
    LATCHKEY_TRY(ok, directory_admin(p));
    if (ok)
        return {};
    return denied(std::string(task) + " is for " + directory_admins_are() + "; " + who(p));
}

core::Status Authority::need_account_admin(const Principal& p, const AccountRecord& account,
                                           std::string_view task)
{
    LATCHKEY_TRY(ok, account_admin(p, account));
    if (ok)
        return {};
    return denied(std::string(task) + " in account " + account.name +
                  " is for its administrators (users of " + account.name +
                  " with the account-admin role" +
                  (account.kind == AccountKind::cloud ? ", and its root user" : "") + ") and " +
                  directory_admins_are() + "; " + who(p));
}

core::Status Authority::need_user_admin(const Principal& p, const ResolvedUser& target,
                                        std::string_view task)
{
    if (is_root(target.account, target.user)) {
        if (is_root_of(p, target.account))
            return {};
        return denied(std::string(task) + " of the root user of " + target.account.name +
                      " is for root itself; its password is recovered with 'latchkeyctl account "
                      "root recover " + target.account.name +
                      "', and its credentials removed by a switch to a resource account or "
                      "'latchkeyctl account root remove-credentials'");
    }
    return need_account_admin(p, target.account, task);
}

core::Result<RootTaskBy> Authority::need_root_task(const Principal& p,
                                                   const AccountRecord& account,
                                                   std::string_view task)
{
    if (is_root_of(p, account))
        return RootTaskBy::root;
    LATCHKEY_TRY(dir, store_.directory());
    const bool centralized = dir && dir->root_access_centralized;
    const bool member = account.kind != AccountKind::management;
    if (centralized && member) {
        LATCHKEY_TRY(dir_admin, directory_admin(p));
        if (dir_admin)
            return RootTaskBy::centralized;
    }
    std::string root_path =
        account.kind == AccountKind::cloud
            ? "the root user of " + account.name + " ('latchkeyctl --as root@" +
                  account.default_domain + " ...')"
            : "the root user of " + account.name + ", which as a " +
                  std::string(account.kind == AccountKind::resource ? "resource" : "management") +
                  " account has none (a directory administrator can switch it to a cloud account)";
    std::string central =
        !member ? ""
        : centralized
            ? ", or a directory administrator (centralized root access is enabled)"
            : ", or a directory administrator once centralized root access is enabled "
              "('latchkeyctl directory root-access enable')";
    return denied(std::string(task) + " is a root-only task: only " + root_path + " can run it" +
                  central + "; " + who(p));
}

core::Status Authority::need_some_admin(const Principal& p, std::string_view task)
{
    LATCHKEY_TRY(dir_admin, directory_admin(p));
    if (dir_admin)
        return {};
    if (p.user && !p.signed_out) {
        LATCHKEY_TRY(admin, account_admin(p, p.user->account));
        if (admin)
            return {};
    }
    return denied(std::string(task) + " is for administrators: " + directory_admins_are() +
                  ", and account administrators; " + who(p));
}

} // namespace latchkey::directory
