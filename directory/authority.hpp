// SPDX-License-Identifier: Apache-2.0
// Authority: who may run which administrative task (shared/DESIGN.md, seed 003).
//
//   principal on the admin socket
//     ├─ the host's administrator (root, the daemon's user, the latchkey-admin group)
//     │     counts as a directory administrator
//     └─ a directory user signed in with `latchkeyctl --as` (password and MFA): its roles only
//           directory-admin   a user of the management account: the directory and every member
//           account-admin     its own account
//           root              of a cloud account: that account, and its root-only tasks
//
// Root-only tasks (close an account, restore an administrator who removed their own
// permissions) and privileged tasks (clear a logon-network restriction) are the account's
// root's; while centralized root access is enabled, directory administrators may run them on
// member accounts too. Every refusal names who can.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "directory/directory.hpp"
#include "directory/model.hpp"
#include "directory/store.hpp"

namespace latchkey::directory {

/// Who is asking on the admin socket.
struct Principal {
    std::string actor;                 ///< for the audit: "uid:0", or the user's logon name
    std::optional<ResolvedUser> user;  ///< signed in as this user; nullopt: the host's administrator
    bool signed_out = false;           ///< a sign-in is in progress or failed: no rights at all
};

/// How a root-only task was allowed: by the account's root, or by a directory administrator
/// under centralized root access.
enum class RootTaskBy : std::uint8_t { root, centralized };

std::string_view to_string(RootTaskBy by) noexcept;

class Authority {
public:
    Authority(Store& store, Directory& directory);

    /// The root user of an account (enabled on cloud accounts, disabled on the others).
    static bool is_root(const AccountRecord& account, const UserRecord& user) noexcept;
    bool is_root_of(const Principal& p, const AccountRecord& account) const noexcept;

    core::Result<bool> directory_admin(const Principal& p);
    /// Directory administrators, the account's account-admin users and its root.
    core::Result<bool> account_admin(const Principal& p, const AccountRecord& account);

    /// `task` reads "binding a phone": the refusal is "permission denied: binding a phone is
    /// for directory administrators (...)".
    core::Status need_directory_admin(const Principal& p, std::string_view task);
    core::Status need_account_admin(const Principal& p, const AccountRecord& account,
                                    std::string_view task);
    /// An administrator's change to a user: the account's administrators; for the root user,
    /// only root itself (its credentials are managed with `latchkeyctl account root`).
    core::Status need_user_admin(const Principal& p, const ResolvedUser& target,
                                 std::string_view task);
    /// A root-only or privileged task on `account`.
    core::Result<RootTaskBy> need_root_task(const Principal& p, const AccountRecord& account,
                                            std::string_view task);
    /// Any administrator at all: a directory administrator, or an account administrator (of its
    /// own account; listing roles and showing the directory).
    core::Status need_some_admin(const Principal& p, std::string_view task);

private:
    core::Result<bool> holds(const UserRecord& user, Role role);
    std::string who(const Principal& p) const;
    std::string directory_admins_are();

    Store& store_;
    Directory& directory_;
};

} // namespace latchkey::directory
