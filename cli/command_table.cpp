// SPDX-License-Identifier: Apache-2.0
// The rows of latchkeyctl's command table: every command, its help, who may run it, what it takes.
#include "cli/command_table.hpp"

#include <algorithm>
#include <array>

#include "cli/args.hpp"
#include "cli/mfa_enroll.hpp"
#include "cli/questions.hpp"
#include "cli/requests.hpp"
#include "cli/root_recover.hpp"

namespace latchkey::cli {

namespace {

// Exclusive option groups of `user set-password`, and the steps of `account root recover`.
constexpr int password_mode_group = 1;
constexpr int require_change_group = 2;
constexpr int recover_step_group = 3;

/// The table below names options through these, so every field is set on purpose.
constexpr OptionSpec flag(std::string_view name, std::string_view help, int group = 0)
{
    return {name, "", help, group, false, ""};
}

constexpr OptionSpec valued(std::string_view name, std::string_view metavar, std::string_view help)
{
    return {name, metavar, help, 0, false, ""};
}

constexpr OptionSpec
required(std::string_view name, std::string_view metavar, std::string_view help)
{
    return {name, metavar, help, 0, true, ""};
}

constexpr OptionSpec choice(std::string_view name,
                            std::string_view metavar,
                            std::string_view help,
                            std::string_view choices)
{
    return {name, metavar, help, 0, false, choices};
}

constexpr OptionSpec required_choice(std::string_view name,
                                     std::string_view metavar,
                                     std::string_view help,
                                     std::string_view choices)
{
    return {name, metavar, help, 0, true, choices};
}

constexpr OperandSpec user_operand{"USER", "NAME in the account, or NAME@DOMAIN"};
constexpr OperandSpec account_operand{"ACCOUNT", "the account's name"};

constexpr OptionSpec account_option =
    valued("--account", "A", "the user's account (default: the host's account)");
constexpr OptionSpec policy_account_option =
    valued("--account", "A", "the account (default: the host's account)");

constexpr std::array groups{
    GroupSpec{"directory", "The directory and its management account."},
    GroupSpec{"directory root-access",
              "Centralized root access: directory administrators run the root-only tasks of "
              "member accounts."},
    GroupSpec{"account", "Member accounts of the directory: logon domains, phone, kind, root "
                         "user, root-only tasks."},
    GroupSpec{"account alias",
              "Domain aliases of an account: further domains its users log on with."},
    GroupSpec{"account phone",
              "The mobile phone bound to an account: verification codes for root recovery are "
              "sent to it."},
    GroupSpec{"account root", "The root user of a cloud account: recovery and credentials."},
    GroupSpec{"user", "Users of an account: creation, console logon and passwords."},
    GroupSpec{"role", "Administrators: the directory-admin and account-admin roles of users."},
    GroupSpec{"policy", "An account's password policy."},
    GroupSpec{"settings", "An account's security settings."},
    GroupSpec{"session",
              "Open sessions: logons through PAM, and browser sessions of the sign-in pages."},
    GroupSpec{"mfa", "Multi-factor authentication: TOTP devices and recovery codes."},
    GroupSpec{"oidc", "The OpenID Connect provider: its signing keys."},
    GroupSpec{"oidc client", "Relying parties of the OpenID Connect provider."},
    GroupSpec{"accesskey", "Access keys: a user's credentials for programs (client_credentials)."},
    GroupSpec{"passkey", "Passkeys: the WebAuthn credentials users register for themselves."},
};

// Who may run what: the phrases several rows share.
constexpr WhoMayRun any_admin{"any administrator"};
constexpr WhoMayRun dir_admins{"directory administrators (users of the management account with the "
                               "directory-admin role, and root on the admin socket)"};
constexpr WhoMayRun account_admins{"the account's administrators (its account-admin users, and "
                                   "root of a cloud account) and directory administrators"};
constexpr WhoMayRun user_admins{"the user's account administrators and directory administrators; "
                                "for the root user, root itself"};
constexpr WhoMayRun phone_admins{
    "directory administrators; for a cloud account also its root user"};
constexpr WhoMayRun role_admins{"directory-admin: directory administrators; account-admin: the "
                                "account's administrators and directory administrators"};
constexpr WhoMayRun root_task{"the account's root user (--as root@DOMAIN); directory "
                              "administrators too while centralized root access is enabled"};

// Rules across a command's operands and options, for the rows' `check`.

std::optional<std::string> one_session_or_user(const ParsedCommand& cmd, const GlobalOptions&)
{
    if (cmd.operands.empty() == !cmd.has("--user"))
        return "give a session ID or '--user USER', not both";
    return std::nullopt;
}

std::optional<std::string> keep_changes_something(const ParsedCommand& cmd, const GlobalOptions&)
{
    if (cmd.has("--keep") && !cmd.has("--require-change") && !cmd.has("--no-require-change"))
        return "'--keep' changes nothing without '--require-change' or '--no-require-change'";
    return std::nullopt;
}

std::optional<std::string> close_confirmed(const ParsedCommand& cmd, const GlobalOptions&)
{
    if (!cmd.has("--yes"))
        return "closing account '" + cmd.operands.at(0) +
               "' is final: nobody logs on to it again; add '--yes' to close it";
    return std::nullopt;
}

std::optional<std::string> enrol_self_without_as(const ParsedCommand& cmd,
                                                 const GlobalOptions& globals)
{
    if (cmd.operands.empty() && globals.as)
        return "'--as' signs in on the admin socket: give USER (without USER, '" +
               std::string(spec_of(cmd.id).path) + "' enrols yourself over the PAM socket)";
    return std::nullopt;
}

} // namespace

std::string_view who_may_run(CommandId id)
{
    return spec_of(id).who.text;
}

const std::vector<CommandSpec>& command_specs()
{
    static const std::vector<CommandSpec> specs{
        {.id = CommandId::directory_init,
         .path = "directory init",
         .summary = "Create the directory with its domain and management account.",
         .who = WhoMayRun{"root on the admin socket, once"},
         .options = {required("--domain", "D", "the directory's domain, e.g. example.internal"),
                     valued("--management-account", "NAME",
                            "name of the management account (default: management)")},
         .build = requests::directory_init},
        {.id = CommandId::directory_show,
         .path = "directory show",
         .summary = "Show the directory.",
         .who = any_admin,
         .build = requests::directory_show},
        {.id = CommandId::directory_root_access_enable,
         .path = "directory root-access enable",
         .summary =
             "Centralize root access: directory administrators run the root-only tasks of member "
             "accounts (close, restore-admin, clear-logon-networks) and may open a window for a "
             "root password recovery.",
         .who = dir_admins,
         .build = requests::root_access_enable},
        {.id = CommandId::directory_root_access_disable,
         .path = "directory root-access disable",
         .summary = "Stop centralized root access: root-only tasks are the root user's again.",
         .who = dir_admins,
         .build = requests::root_access_disable},
        {.id = CommandId::directory_root_access_show,
         .path = "directory root-access show",
         .summary =
             "Show whether root access is centralized, and the root user of each member account.",
         .who = any_admin,
         .build = requests::root_access_show},
        {.id = CommandId::account_create,
         .path = "account create",
         .summary = "Create a member account of the directory.",
         .who = dir_admins,
         .operands = {{"NAME",
                       "the account's name; its default domain is NAME.<directory domain>"}},
         .options = {choice("--kind", "KIND",
                            "resource (default: no root user) or cloud (root user enabled)",
                            "resource|cloud")},
         .build = requests::account_create},
        {.id = CommandId::account_list,
         .path = "account list",
         .summary = "List the accounts of the directory.",
         .who = any_admin,
         .build = requests::account_list},
        {.id = CommandId::account_show,
         .path = "account show",
         .summary = "Show an account.",
         .who = account_admins,
         .operands = {{"NAME", "the account's name"}},
         .build = requests::account_show},
        {.id = CommandId::account_alias_add,
         .path = "account alias add",
         .summary = "Add a domain alias to an account.",
         .who = dir_admins,
         .operands = {{"NAME", "the account's name"},
                      {"DOMAIN", "the alias, e.g. web.example.com"}},
         .build = requests::alias_add},
        {.id = CommandId::account_alias_remove,
         .path = "account alias remove",
         .summary = "Remove a domain alias from an account.",
         .who = dir_admins,
         .operands = {{"NAME", "the account's name"}, {"DOMAIN", "the alias to remove"}},
         .build = requests::alias_remove},
        {.id = CommandId::account_phone_bind,
         .path = "account phone bind",
         .summary =
             "Send a verification code to a mobile phone, to bind it to an account with 'account "
             "phone verify' (at most 100 codes an account a day).",
         .who = phone_admins,
         .operands = {account_operand,
                      {"NUMBER", "the mobile phone number in E.164 form, e.g. +15551234567"}},
         .build = requests::phone_bind},
        {.id = CommandId::account_phone_verify,
         .path = "account phone verify",
         .summary =
             "Bind the phone a code was sent to: asks for the code (without echo on a terminal, "
             "else one line of standard input) unless CODE is given.",
         .who = phone_admins,
         .operands = {account_operand, {"[CODE]", "the verification code sent"}},
         .build = requests::phone_verify,
         .ask = questions::phone_code},
        {.id = CommandId::account_switch,
         .path = "account switch",
         .summary =
             "Switch an account between resource (no root user) and cloud (root user enabled). To "
             "cloud needs a bound phone and --acknowledge-risk; to resource deletes root's "
             "credentials and ends its sessions.",
         .who = dir_admins,
         .operands = {account_operand},
         .options = {required_choice("--to", "KIND", "the kind to switch to: cloud or resource",
                                     "cloud|resource"),
                     flag("--acknowledge-risk",
                          "accept that an enabled root user raises the account's risk "
                          "(needed to switch to cloud)")},
         .build = requests::account_switch},
        {.id = CommandId::account_root_recover,
         .path = "account root recover",
         .summary =
             "Set the password of a cloud account's root user with a verification code sent to the "
             "bound phone: sends the code, asks for it and the new password (twice on a terminal; "
             "else the code and the password on two lines of standard input).",
         .who = account_admins,
         .operands = {account_operand},
         .options = {flag("--send-only", "only send the code", recover_step_group),
                     flag("--code", "do not send a code: use one sent before",
                          recover_step_group)},
         .build = requests::root_recover,
         .run = run_root_recover},
        {.id = CommandId::account_root_remove_credentials,
         .path = "account root remove-credentials",
         .summary =
             "Delete every credential of a cloud account's root user: password, MFA device, access "
             "keys.",
         .who = dir_admins,
         .operands = {account_operand},
         .build = requests::root_remove_credentials},
        {.id = CommandId::account_root_allow_recovery,
         .path = "account root allow-recovery",
         .summary =
             "Under centralized root access: let a cloud account's root password be recovered "
             "(account root recover) for a while.",
         .who = dir_admins,
         .operands = {account_operand},
         .options = {required("--for", "DURATION",
                              "how long: minutes, hours or days (30m, 2h, 1d), at most 7 days")},
         .build = requests::root_allow_recovery},
        {.id = CommandId::account_close,
         .path = "account close",
         .summary = "Close an account, for good: nobody logs on to it again. "
                    "A root-only task: the account's root user (--as root@DOMAIN), or directory "
                    "administrators under centralized root access.",
         .who = root_task,
         .operands = {account_operand},
         .options = {flag("--yes", "confirm that closing is final (required)")},
         .build = requests::account_close,
         .check = close_confirmed},
        {.id = CommandId::account_restore_admin,
         .path = "account restore-admin",
         .summary = "Give back the account-admin role a user revoked from itself. "
                    "A root-only task: the account's root user (--as root@DOMAIN), or directory "
                    "administrators under centralized root access.",
         .who = root_task,
         .operands = {account_operand,
                      {"USER", "the user: NAME in the account, or "
                               "NAME@DOMAIN"}},
         .build = requests::account_restore_admin},
        {.id = CommandId::account_clear_logon_networks,
         .path = "account clear-logon-networks",
         .summary = "Empty an account's allowed_networks setting, when it locks everyone out. "
                    "A root-only task: the account's root user (--as root@DOMAIN), or directory "
                    "administrators under centralized root access.",
         .who = root_task,
         .operands = {account_operand},
         .build = requests::account_clear_networks},
        {.id = CommandId::user_create,
         .path = "user create",
         .summary = "Create a user.",
         .who = account_admins,
         .operands = {user_operand},
         .options = {account_option,
                     valued("--display-name", "TEXT",
                            "the name people see (default: the user name)"),
                     valued("--email", "EMAIL", "the address the OpenID Connect email scope gives"),
                     flag("--no-console-logon",
                          "do not allow interactive logon (PAM, the OIDC page)")},
         .build = requests::user_create},
        {.id = CommandId::user_list,
         .path = "user list",
         .summary = "List users.",
         .who = account_admins,
         .options = {valued("--account", "A",
                            "only the users of this account (default: every account)")},
         .build = requests::user_list},
        {.id = CommandId::user_show,
         .path = "user show",
         .summary = "Show a user.",
         .who = account_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::user_show},
        {.id = CommandId::user_delete,
         .path = "user delete",
         .summary = "Delete a user; asks for confirmation unless --yes is given.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option, flag("--yes", "do not ask for confirmation")},
         .build = requests::user_delete,
         .ask = questions::confirm_user_delete},
        {.id = CommandId::user_enable_logon,
         .path = "user enable-logon",
         .summary = "Allow a user's console logon (PAM and the OIDC page).",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::user_enable_logon},
        {.id = CommandId::user_disable_logon,
         .path = "user disable-logon",
         .summary = "Refuse a user's console logon; access keys keep working.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::user_disable_logon},
        {.id = CommandId::user_set_email,
         .path = "user set-email",
         .summary =
             "Set the address the OpenID Connect email scope gives; without EMAIL, remove it.",
         .who = user_admins,
         .operands = {user_operand, {"[EMAIL]", "name@example.com"}},
         .options = {account_option},
         .build = requests::user_set_email},
        {.id = CommandId::user_set_shell,
         .path = "user set-shell",
         .summary = "Set a user's login shell at the hosts; without SHELL, back to [unix] shell.",
         .who = user_admins,
         .operands = {user_operand, {"[SHELL]", "/bin/zsh"}},
         .options = {account_option},
         .build = requests::user_set_shell},
        {.id = CommandId::user_set_home,
         .path = "user set-home",
         .summary = "Set a user's home directory at the hosts; without HOME, back to [unix] home.",
         .who = user_admins,
         .operands = {user_operand, {"[HOME]", "/srv/home/alice"}},
         .options = {account_option},
         .build = requests::user_set_home},
        {.id = CommandId::user_set_password,
         .path = "user set-password",
         .summary = "Reset a user's password: typed (default), generated, or kept.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option,
                     flag("--keep", "keep the current password (to change only --require-change)",
                          password_mode_group),
                     flag("--generate", "let the daemon generate a password; it is shown only once",
                          password_mode_group),
                     flag("--stdin", "read the new password as one line from standard input",
                          password_mode_group),
                     flag("--require-change", "the user must change the password at next logon",
                          require_change_group),
                     flag("--no-require-change", "the user need not change it at next logon",
                          require_change_group)},
         .build = requests::user_set_password,
         .check = keep_changes_something,
         .ask = questions::new_user_password},
        {.id = CommandId::user_unlock,
         .path = "user unlock",
         .summary = "Unlock a user locked out after too many failed logons.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::user_unlock},
        {.id = CommandId::role_grant,
         .path = "role grant",
         .summary =
             "Grant a user a role: directory-admin (users of the management account) administers "
             "the directory and every member account; account-admin administers the user's own "
             "account.",
         .who = role_admins,
         .operands = {user_operand, {"ROLE", "directory-admin or account-admin"}},
         .options = {account_option},
         .build = requests::role_grant},
        {.id = CommandId::role_revoke,
         .path = "role revoke",
         .summary = "Revoke a role from a user.",
         .who = role_admins,
         .operands = {user_operand, {"ROLE", "directory-admin or account-admin"}},
         .options = {account_option},
         .build = requests::role_revoke},
        {.id = CommandId::role_list,
         .path = "role list",
         .summary = "List the roles users hold, active or revoked by their holder (self-revoked).",
         .who =
             WhoMayRun{"any administrator; an account administrator sees its own account's roles"},
         .options = {valued("--account", "A",
                            "only the roles of this account's users (default: every "
                            "account)")},
         .build = requests::role_list},
        {.id = CommandId::policy_show,
         .path = "policy show",
         .summary = "Show an account's password policy.",
         .who = account_admins,
         .options = {policy_account_option},
         .build = requests::policy_show},
        {.id = CommandId::policy_set,
         .path = "policy set",
         .summary = "Change an account's password policy.",
         .who = account_admins,
         .operands =
             {{"KEY=VALUE...",
               "one or more changes, e.g. min_length=12; the keys are those 'policy show' prints"}},
         .options = {policy_account_option},
         .build = requests::policy_set},
        {.id = CommandId::settings_show,
         .path = "settings show",
         .summary = "Show an account's security settings.",
         .who = account_admins,
         .options = {policy_account_option},
         .build = requests::settings_show},
        {.id = CommandId::settings_set,
         .path = "settings set",
         .summary = "Change an account's security settings.",
         .who = account_admins,
         .operands = {{"KEY=VALUE...",
                       "one or more changes, e.g. mfa_required=yes; the keys are those "
                       "'settings show' prints"}},
         .options = {policy_account_option},
         .build = requests::settings_set},
        {.id = CommandId::session_list,
         .path = "session list",
         .summary =
             "List open sessions: logons through PAM that have not ended, and browser sessions "
             "(service oidc) of the sign-in pages.",
         .who = account_admins,
         .operands = {{"[USER]",
                       "only this user's sessions: NAME in the host's account, or NAME@DOMAIN"}},
         .build = requests::session_list},
        {.id = CommandId::session_end,
         .path = "session end",
         .summary =
             "End a session: a browser session signs out (its refresh tokens die, back-channel "
             "logout tells its clients); a PAM session is marked ended.",
         .who = account_admins,
         .operands = {{"[ID]", "the session's id, or the first 8 or more characters of it"}},
         .options = {valued("--user", "USER", "end every open session of this user instead")},
         .build = requests::session_end,
         .check = one_session_or_user},
        {.id = CommandId::audit,
         .path = "audit",
         .summary = "Show the audit trail, newest event first.",
         .who = dir_admins,
         .options = {choice("--severity", "LEVEL",
                            "only events at least this severe: info, notice, warning or alert",
                            "info|notice|warning|alert"),
                     valued("--since", "TIME",
                            "only events from TIME on: ISO-8601 UTC, a date, Unix seconds, or "
                            "-30m, -1h, -2d"),
                     valued("--user", "USER", "only events whose user field is USER"),
                     valued("--limit", "N", "at most N events, 1 to 10000 (default: 100)")},
         .build = requests::audit},
        {.id = CommandId::mfa_enroll,
         .path = "mfa enroll",
         .summary =
             "Enrol a TOTP authenticator app: shows a QR code, its key and otpauth URI, then asks "
             "for two consecutive codes and prints 10 single-use recovery codes. Without USER, "
             "enrols yourself over the PAM socket (asks your password; the account must allow "
             "users to manage their MFA devices). Without a terminal, prints the URI and reads the "
             "codes (and your password) from standard input, one a line.",
         .who = user_admins,
         .operands = {{"[USER]",
                       "NAME in the account, or NAME@DOMAIN; leave out to enrol yourself"}},
         .options = {account_option},
         .build = requests::mfa_enroll,
         .check = enrol_self_without_as,
         .run = run_mfa_enroll},
        {.id = CommandId::mfa_list,
         .path = "mfa list",
         .summary = "List MFA devices, with the recovery codes left.",
         .who = account_admins,
         .operands = {{"[USER]", "only this user's device: NAME in the account, or NAME@DOMAIN"}},
         .options = {account_option},
         .build = requests::mfa_list},
        {.id = CommandId::mfa_remove,
         .path = "mfa remove",
         .summary = "Remove a user's MFA device and its recovery codes.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::mfa_remove},
        {.id = CommandId::mfa_recovery_codes,
         .path = "mfa recovery-codes",
         .summary =
             "Make 10 new recovery codes for a user's MFA device (shown once); the old ones stop "
             "working.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::mfa_recovery_codes},
        {.id = CommandId::oidc_client_add,
         .path = "oidc client add",
         .summary =
             "Register a web application. A confidential client gets a secret, printed once.",
         .who = dir_admins,
         .operands = {{"ID", "the client_id: letters, digits, '-', '_', '.'"}},
         .options = {{"--redirect-uris", "URI,...",
                      "where sign-ins return: https, or http on localhost", 0, true, ""},
                     flag("--public", "no secret (a browser or native app); PKCE is then required"),
                     valued("--name", "NAME", "shown on the sign-in page (default: the id)"),
                     valued("--post-logout-uris", "URI,...",
                            "where RP-initiated logout may return"),
                     valued("--backchannel-logout-uri", "URI", "receives logout tokens"),
                     valued("--scopes", "SCOPE,...",
                            "allowed scopes (default: openid,profile,email,offline_access)"),
                     choice("--id-token-alg", "ALG", "ID-token signature (default RS256)",
                            "RS256|ES256|EdDSA"),
                     flag("--claims-in-id-token", "put the profile claims in the ID token too"),
                     flag("--consent", "ask the user's consent before the first sign-in")},
         .build = requests::oidc_client_add},
        {.id = CommandId::oidc_client_list,
         .path = "oidc client list",
         .summary = "List the registered clients.",
         .who = dir_admins,
         .build = requests::oidc_client_list},
        {.id = CommandId::oidc_client_show,
         .path = "oidc client show",
         .summary = "Show a client.",
         .who = dir_admins,
         .operands = {{"ID", "the client_id"}},
         .build = requests::oidc_client_show},
        {.id = CommandId::oidc_client_remove,
         .path = "oidc client remove",
         .summary = "Remove a client; its tokens stop working.",
         .who = dir_admins,
         .operands = {{"ID", "the client_id"}},
         .build = requests::oidc_client_remove},
        {.id = CommandId::accesskey_create,
         .path = "accesskey create",
         .summary =
             "Make an access key for a user; its secret is printed once. Password changes leave "
             "it working.",
         .who = user_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::accesskey_create},
        {.id = CommandId::accesskey_list,
         .path = "accesskey list",
         .summary = "List access keys.",
         .who = account_admins,
         .operands = {{"[USER]", "only this user's keys"}},
         .options = {account_option},
         .build = requests::accesskey_list},
        {.id = CommandId::accesskey_enable,
         .path = "accesskey enable",
         .summary = "Enable an access key.",
         .who = user_admins,
         .operands = {{"KEY_ID", "the key's id (LK...)"}},
         .build = requests::accesskey_enable},
        {.id = CommandId::accesskey_disable,
         .path = "accesskey disable",
         .summary =
             "Disable an access key: the token endpoint refuses it until it is enabled again.",
         .who = user_admins,
         .operands = {{"KEY_ID", "the key's id (LK...)"}},
         .build = requests::accesskey_disable},
        {.id = CommandId::accesskey_delete,
         .path = "accesskey delete",
         .summary = "Delete an access key for good.",
         .who = user_admins,
         .operands = {{"KEY_ID", "the key's id (LK...)"}},
         .build = requests::accesskey_delete},
        {.id = CommandId::passkey_list,
         .path = "passkey list",
         .summary = "List a user's passkeys: name, algorithm, authenticator model (AAGUID), "
                    "whether it is synced, when it was added and last used.",
         .who = account_admins,
         .operands = {user_operand},
         .options = {account_option},
         .build = requests::passkey_list},
        {.id = CommandId::passkey_remove,
         .path = "passkey remove",
         .summary = "Remove one of a user's passkeys (a lost key, a departed phone); it stops "
                    "working at once.",
         .who = user_admins,
         .operands = {user_operand, {"PASSKEY_ID", "the passkey's id, from `passkey list`"}},
         .options = {account_option},
         .build = requests::passkey_remove},
        {.id = CommandId::passkey_add_key,
         .path = "passkey add-key",
         .summary =
             "Enrol a FIDO2 security key plugged into this machine for logons at the hosts "
             "(console, sudo, screen lockers): asks for its PIN when it has one and for a touch. "
             "Without USER, enrols yourself over the PAM socket (asks your password; the account "
             "must allow users to manage their MFA devices). The key then logs the user on in "
             "place of the password, when the account allows passkey logon, or after it in "
             "place of a verification code.",
         .who = user_admins,
         .operands = {{"[USER]",
                       "NAME in the account, or NAME@DOMAIN; leave out to enrol yourself"}},
         .options = {account_option, valued("--name", "NAME", "what to call the key"),
                     valued("--device", "DEVICE",
                            "where the key is: usb (the first FIDO2 key plugged in), or "
                            "unix:PATH (a key behind a socket)")},
         .build = requests::passkey_add_key,
         .check = enrol_self_without_as,
         .run = run_passkey_add_key},
        {.id = CommandId::oidc_rotate_keys,
         .path = "oidc rotate-keys",
         .summary =
             "Make new signing keys now; the old ones stay published until their tokens expire.",
         .who = dir_admins,
         .build = requests::oidc_rotate_keys},
    };
    return specs;
}

const CommandSpec& spec_of(CommandId id)
{
    for (const auto& c : command_specs())
        if (c.id == id)
            return c;
    // Every CommandId has a row; reaching this is a bug in the table above.
    return command_specs().front();
}

std::span<const GroupSpec> group_specs() noexcept
{
    return groups;
}

const CommandSpec* find_command(std::string_view path)
{
    for (const auto& c : command_specs())
        if (c.path == path)
            return &c;
    return nullptr;
}

bool is_group(std::string_view path) noexcept
{
    return std::any_of(groups.begin(), groups.end(),
                       [&](const GroupSpec& g) { return g.path == path; });
}

} // namespace latchkey::cli
