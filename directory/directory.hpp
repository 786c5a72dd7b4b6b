// SPDX-License-Identifier: Apache-2.0
// Directory: the rules of the directory model (shared/DESIGN.md), over a Store.
//
// Every administrative change goes through here, whichever front door asked for it: names are
// validated, policies enforced, and each change audited. The Store only keeps records; this
// class decides. Passwords are set by credentials' Passwords, which hashes them: the directory
// knows no cryptography.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/audit.hpp"
#include "directory/model.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::directory {

/// Who asked, for the audit trail ("uid:0").
struct Actor {
    std::string name;
};

/// A user together with the account it belongs to.
struct ResolvedUser {
    AccountRecord account;
    UserRecord user;
};

class Directory {
public:
    Directory(Store& store, Audit& audit, const core::Clock& clock);

    /// The account this host is bound to: names without "@domain" are looked up there.
    void set_host_account(std::string name);

    /// How users appear at the hosts ([unix]): the range their uids come from (without one,
    /// users get no uid), default home and shell. Set once, before the first request.
    void set_unix(UnixSettings settings);
    const std::optional<UnixSettings>& unix_settings() const { return unix_; }
    /// The user's home directory and login shell at the hosts: its own, or the defaults.
    std::string home_of(const UserRecord& user) const;
    std::string shell_of(const UserRecord& user) const;
    /// Gives a uid to every user that has none (the users made before the range was set, or
    /// while it was full); returns how many. A root user never gets one.
    core::Result<std::size_t> assign_missing_uids();
    std::string host_account() const;

    core::Result<proto::DirectoryInfo> init(const proto::DirectoryInit& req, const Actor& actor);
    core::Result<proto::DirectoryInfo> show();

    core::Result<proto::AccountInfo> create_account(const proto::AccountCreate& req,
                                                    const Actor& actor);
    core::Result<std::vector<proto::AccountInfo>> list_accounts();
    core::Result<proto::AccountInfo> show_account(const std::string& name);
    core::Result<proto::AccountInfo> alias(const proto::AccountAlias& req, const Actor& actor);

    core::Result<proto::UserInfo> create_user(const proto::UserCreate& req, const Actor& actor);
    core::Result<std::vector<proto::UserInfo>> list_users(const std::optional<std::string>& account);
    core::Result<proto::UserInfo> show_user(const proto::UserRef& ref);
    core::Status delete_user(const proto::UserRef& ref, const Actor& actor);
    core::Result<proto::UserInfo> set_console_logon(const proto::UserRef& ref, bool enabled,
                                                    const Actor& actor);
    core::Result<proto::UserInfo> set_email(const proto::UserSetEmail& req, const Actor& actor);
    /// `user set-shell`, `user set-home`: checked paths (check_unix_path); none restores the
    /// default.
    core::Result<proto::UserInfo> set_unix(const proto::UserSetUnix& req, const Actor& actor);

    core::Result<proto::PolicyReply> policy(const std::optional<std::string>& account);
    core::Result<proto::PolicyReply> set_policy(const proto::PolicySet& req, const Actor& actor);
    core::Result<proto::SettingsReply> settings(const std::optional<std::string>& account);
    core::Result<proto::SettingsReply> set_settings(const proto::SettingsSet& req,
                                                    const Actor& actor);

    /// Finds a user from "name@domain", or "name" in `account` (default: the host's account).
    core::Result<ResolvedUser> resolve(const proto::UserRef& ref);
    /// The user with this id and its account (a session's, a passkey's). not_found when gone.
    core::Result<ResolvedUser> resolve_id(const std::string& user_id);
    /// The user with this uid and its account; nullopt when no user has it.
    core::Result<std::optional<ResolvedUser>> resolve_uid(std::uint32_t uid);
    /// The account a reference names, and the bare user name (which need not exist).
    core::Result<std::pair<AccountRecord, std::string>> locate(const proto::UserRef& ref);

    /// Lifts a lockout and forgets the failures that led to it.
    core::Result<proto::UserInfo> unlock(const proto::UserRef& ref, const Actor& actor);
    core::Result<std::vector<proto::SessionInfo>> sessions(const std::optional<std::string>& user);

    /// Told of every session ended here (an administrator, a password change, a sign-out), after
    /// it is closed in the store: the OIDC provider sends back-channel logouts. Set once, before
    /// any request is served.
    using SessionEndHook = std::function<void(const SessionRecord&, std::string_view reason)>;
    void on_session_end(SessionEndHook hook);
    /// `latchkeyctl session end`: one session by id, or every open session of a user.
    core::Result<std::vector<proto::SessionInfo>> end_sessions(const proto::SessionEnd& req,
                                                               const Actor& actor);
    /// Closes one open session (and its refresh tokens), audits and tells the hook; false when
    /// it was not open.
    core::Result<bool> end_session(const SessionRecord& session, std::string_view reason,
                                   const Actor& actor);
    core::Result<std::vector<proto::AuditInfo>> audit(const proto::AuditList& query);

    proto::UserInfo info(const AccountRecord& account, const UserRecord& user) const;

    proto::SessionInfo info(const SessionRecord& session);

    /// Ends every open session of the user; returns how many.
    core::Result<std::uint32_t> end_user_sessions(const UserRecord& user, std::string_view reason,
                                                  const Actor& actor);
    /// The named account, or the host's (nullopt); not_found names it.
    core::Result<AccountRecord> account(const std::optional<std::string>& name);
    /// The named account, refusing a closed one (failed_precondition), which takes no changes.
    core::Result<AccountRecord> open_account(const std::string& name);
    /// A cloud account has a root user (seed 000): created without a password when missing.
    core::Status ensure_root_user(const AccountRecord& account);

private:
    core::Result<DirectoryRecord> require_directory();
    core::Result<AccountRecord> account_named(const std::optional<std::string>& name);
    core::Result<proto::AccountInfo> info(const AccountRecord& account);

    Store& store_;
    Audit& audit_;
    const core::Clock& clock_;
    SessionEndHook session_end_;
    mutable std::mutex host_mutex_;
    std::string host_account_;
    std::optional<UnixSettings> unix_;
};

} // namespace latchkey::directory
