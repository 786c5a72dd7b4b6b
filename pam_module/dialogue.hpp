// SPDX-License-Identifier: Apache-2.0
// What each pam_sm_* does, against three interfaces: Host (libpam), Prompter (the person) and
// Channel (latchkeyd), so that every hook can be tested with fakes.
#pragma once

#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "pam_module/options.hpp"
#include "proto/client.hpp"
#include "proto/key_helper.hpp"
#include "proto/messages.hpp"

namespace latchkey::pam {

class Host;
class Prompter;

/// Module data and PAM environment names; docs/pam.md lists them.
inline constexpr std::string_view logon_id_data = "latchkey_logon_id";
inline constexpr std::string_view session_id_data = "latchkey_session_id";
/// sshd authenticates in a child process and copies only the PAM environment back, so the
/// logon id travels to the session hooks this way too (and is removed before the session).
inline constexpr std::string_view logon_id_env = "LATCHKEY_LOGON_ID";
/// Set by pam_systemd when it runs before us.
inline constexpr std::string_view logind_session_env = "XDG_SESSION_ID";

/// The daemon, one request and one response at a time.
class Channel {
public:
    virtual ~Channel() = default;

    /// Sends one request and waits for its response, within the deadline that remains.
    virtual core::Result<proto::Response> call(const proto::Request& request) = 0;

    /// The person has just answered: the daemon gets a whole timeout again for its next reply.
    virtual void extend_deadline() = 0;

protected:
    Channel() = default;
    Channel(const Channel&) = default;
    Channel& operator=(const Channel&) = default;
};

/// The PAM socket. Connects on the first call, so that pam_get_user() (which may prompt) comes
/// before the deadline starts; trusts only a server running as root or the `latchkey` user.
class SocketChannel final : public Channel {
public:
    explicit SocketChannel(const Options& options);

    core::Result<proto::Response> call(const proto::Request& request) override;
    void extend_deadline() override;

private:
    proto::ClientOptions options_;
    std::optional<proto::Client> client_;
};

/// One pam_sm_* call: its flags and options, and what it talks to.
struct Call {
    const Options& options;
    int flags = 0; ///< the pam_sm_* flags (PAM_SILENT, PAM_PRELIM_CHECK...)
    Host& host;
    Prompter& person;
    Channel& daemon;
    proto::SecurityKeys* keys = nullptr; ///< for security_key prompts; none: every key is absent
};

// Each hook returns its PAM code (through to_pam()) and logs a failure once, at LOG_ERR.

/// pam_sm_authenticate: AuthBegin, then the daemon's prompts until its verdict. On success the
/// logon id goes into module data and the PAM environment for the session hooks.
int authenticate(const Call& call);

/// pam_sm_acct_mgmt: AccountCheck.
int check_account(const Call& call);

/// pam_sm_chauthtok. PAM_PRELIM_CHECK: is latchkeyd there (and, with ignore_unknown_user,
/// does it know the user)? PAM_UPDATE_AUTHTOK: PasswordChangeBegin and its dialogue.
int change_authtok(const Call& call);

/// pam_sm_open_session: SessionOpen; keeps the session id for close_session.
int open_session(const Call& call);

/// pam_sm_close_session: SessionClose.
int close_session(const Call& call);

} // namespace latchkey::pam
