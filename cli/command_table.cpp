// SPDX-License-Identifier: Apache-2.0
// The rows of latchkeyctl's command table: every command, its help, who may run it, what it takes.
#include "cli/command_table.hpp"

#include <algorithm>
#include <array>

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
};

constexpr std::string_view dir_admins = "directory administrators (users of the management account "
                                        "with the directory-admin role, and root on the admin socket)";
constexpr std::string_view account_admins =
    "the account's administrators (its account-admin users, and root of a cloud account) and "
    "directory administrators";
constexpr std::string_view root_task =
    "the account's root user (--as root@DOMAIN); directory administrators too while centralized "
    "root access is enabled";

} // namespace

std::string_view who_may_run(CommandId id) noexcept
{
    // A switch with no default: a new command does not build until it says who may run it.
    switch (id) {
    case CommandId::directory_init: return "root on the admin socket, once";
    case CommandId::directory_show:
    case CommandId::account_list:
    case CommandId::directory_root_access_show: return "any administrator";
    case CommandId::role_list:
        return "any administrator; an account administrator sees its own account's roles";
    case CommandId::directory_root_access_enable:
    case CommandId::directory_root_access_disable:
    case CommandId::account_create:
    case CommandId::account_alias_add:
    case CommandId::account_alias_remove:
    case CommandId::account_switch:
    case CommandId::account_root_remove_credentials:
    case CommandId::account_root_allow_recovery:
    case CommandId::audit:
    case CommandId::oidc_client_add:
    case CommandId::oidc_client_list:
    case CommandId::oidc_client_show:
    case CommandId::oidc_client_remove:
    case CommandId::oidc_rotate_keys: return dir_admins;
    case CommandId::account_phone_bind:
    case CommandId::account_phone_verify:
        return "directory administrators; for a cloud account also its root user";
    case CommandId::account_close:
    case CommandId::account_restore_admin:
    case CommandId::account_clear_logon_networks: return root_task;
    case CommandId::role_grant:
    case CommandId::role_revoke:
        return "directory-admin: directory administrators; account-admin: the account's "
               "administrators and directory administrators";
    case CommandId::account_show:
    case CommandId::account_root_recover:
    case CommandId::user_create:
    case CommandId::user_list:
    case CommandId::user_show:
    case CommandId::policy_show:
    case CommandId::policy_set:
    case CommandId::settings_show:
    case CommandId::settings_set:
    case CommandId::session_list:
    case CommandId::session_end:
    case CommandId::mfa_list:
    case CommandId::accesskey_list: return account_admins;
    case CommandId::user_delete:
    case CommandId::user_enable_logon:
    case CommandId::user_disable_logon:
    case CommandId::user_set_email:
    case CommandId::user_set_password:
    case CommandId::user_unlock:
    case CommandId::mfa_enroll:
    case CommandId::mfa_remove:
    case CommandId::mfa_recovery_codes:
    case CommandId::accesskey_create:
    case CommandId::accesskey_enable:
    case CommandId::accesskey_disable:
    case CommandId::accesskey_delete:
        return "the user's account administrators and directory administrators; for the root "
               "user, root itself";
    }
    return "directory administrators";
}

const std::vector<CommandSpec>& command_specs()
{
    static const std::vector<CommandSpec> specs{
        {CommandId::directory_init,
         "directory init",
         "Create the directory with its domain and management account.",
         {},
         {required("--domain", "D", "the directory's domain, e.g. example.internal"),
          valued("--management-account", "NAME",
                 "name of the management account (default: management)")}},
        {CommandId::directory_show, "directory show", "Show the directory.", {}, {}},
        {CommandId::directory_root_access_enable,
         "directory root-access enable",
         "Centralize root access: directory administrators run the root-only tasks of member "
         "accounts (close, restore-admin, clear-logon-networks) and may open a window for a "
         "root password recovery.",
         {},
         {}},
        {CommandId::directory_root_access_disable,
         "directory root-access disable",
         "Stop centralized root access: root-only tasks are the root user's again.",
         {},
         {}},
        {CommandId::directory_root_access_show,
         "directory root-access show",
         "Show whether root access is centralized, and the root user of each member account.",
         {},
         {}},
        {CommandId::account_create,
         "account create",
         "Create a member account of the directory.",
         {{"NAME", "the account's name; its default domain is NAME.<directory domain>"}},
         {choice("--kind", "KIND", "resource (default: no root user) or cloud (root user enabled)",
                 "resource|cloud")}},
        {CommandId::account_list, "account list", "List the accounts of the directory.", {}, {}},
        {CommandId::account_show,
         "account show",
         "Show an account.",
         {{"NAME", "the account's name"}},
         {}},
        {CommandId::account_alias_add,
         "account alias add",
         "Add a domain alias to an account.",
         {{"NAME", "the account's name"}, {"DOMAIN", "the alias, e.g. web.example.com"}},
         {}},
        {CommandId::account_alias_remove,
         "account alias remove",
         "Remove a domain alias from an account.",
         {{"NAME", "the account's name"}, {"DOMAIN", "the alias to remove"}},
         {}},
        {CommandId::account_phone_bind,
         "account phone bind",
         "Send a verification code to a mobile phone, to bind it to an account with 'account "
         "phone verify' (at most 100 codes an account a day).",
         {{"ACCOUNT", "the account's name"},
          {"NUMBER", "the mobile phone number in E.164 form, e.g. +15551234567"}},
         {}},
        {CommandId::account_phone_verify,
         "account phone verify",
         "Bind the phone a code was sent to: asks for the code (without echo on a terminal, "
         "else one line of standard input) unless CODE is given.",
         {{"ACCOUNT", "the account's name"}, {"[CODE]", "the verification code sent"}},
         {}},
        {CommandId::account_switch,
         "account switch",
         "Switch an account between resource (no root user) and cloud (root user enabled). To "
         "cloud needs a bound phone and --acknowledge-risk; to resource deletes root's "
         "credentials and ends its sessions.",
         {{"ACCOUNT", "the account's name"}},
         {required_choice("--to", "KIND", "the kind to switch to: cloud or resource",
                          "cloud|resource"),
          flag("--acknowledge-risk", "accept that an enabled root user raises the account's risk "
                                     "(needed to switch to cloud)")}},
        {CommandId::account_root_recover,
         "account root recover",
         "Set the password of a cloud account's root user with a verification code sent to the "
         "bound phone: sends the code, asks for it and the new password (twice on a terminal; "
         "else the code and the password on two lines of standard input).",
         {{"ACCOUNT", "the account's name"}},
         {flag("--send-only", "only send the code", recover_step_group),
          flag("--code", "do not send a code: use one sent before", recover_step_group)}},
        {CommandId::account_root_remove_credentials,
         "account root remove-credentials",
         "Delete every credential of a cloud account's root user: password, MFA device, access "
         "keys.",
         {{"ACCOUNT", "the account's name"}},
         {}},
        {CommandId::account_root_allow_recovery,
         "account root allow-recovery",
         "Under centralized root access: let a cloud account's root password be recovered "
         "(account root recover) for a while.",
         {{"ACCOUNT", "the account's name"}},
         {required("--for", "DURATION",
                   "how long: minutes, hours or days (30m, 2h, 1d), at most 7 days")}},
        {CommandId::account_close,
         "account close",
         "Close an account, for good: nobody logs on to it again. "
         "A root-only task: the account's root user (--as root@DOMAIN), or directory "
         "administrators under centralized root access.",
         {{"ACCOUNT", "the account's name"}},
         {flag("--yes", "confirm that closing is final (required)")}},
        {CommandId::account_restore_admin,
         "account restore-admin",
         "Give back the account-admin role a user revoked from itself. "
         "A root-only task: the account's root user (--as root@DOMAIN), or directory "
         "administrators under centralized root access.",
         {{"ACCOUNT", "the account's name"}, {"USER", "the user: NAME in the account, or "
                                                     "NAME@DOMAIN"}},
         {}},
        {CommandId::account_clear_logon_networks,
         "account clear-logon-networks",
         "Empty an account's allowed_networks setting, when it locks everyone out. "
         "A root-only task: the account's root user (--as root@DOMAIN), or directory "
         "administrators under centralized root access.",
         {{"ACCOUNT", "the account's name"}},
         {}},
        {CommandId::user_create,
         "user create",
         "Create a user.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option, valued("--display-name", "TEXT", "the name people see (default: the user name)"),
          valued("--email", "EMAIL", "the address the OpenID Connect email scope gives"),
          flag("--no-console-logon", "do not allow interactive logon (PAM, the OIDC page)")}},
        {CommandId::user_list,
         "user list",
         "List users.",
         {},
         {valued("--account", "A", "only the users of this account (default: every account)")}},
        {CommandId::user_show,
         "user show",
         "Show a user.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::user_delete,
         "user delete",
         "Delete a user; asks for confirmation unless --yes is given.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option, flag("--yes", "do not ask for confirmation")}},
        {CommandId::user_enable_logon,
         "user enable-logon",
         "Allow a user's console logon (PAM and the OIDC page).",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::user_disable_logon,
         "user disable-logon",
         "Refuse a user's console logon; access keys keep working.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::user_set_email,
         "user set-email",
         "Set the address the OpenID Connect email scope gives; without EMAIL, remove it.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}, {"[EMAIL]", "name@example.com"}},
         {account_option}},
        {CommandId::user_set_password,
         "user set-password",
         "Reset a user's password: typed (default), generated, or kept.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option,
          flag("--keep", "keep the current password (to change only --require-change)",
               password_mode_group),
          flag("--generate", "let the daemon generate a password; it is shown only once",
               password_mode_group),
          flag("--stdin", "read the new password as one line from standard input",
               password_mode_group),
          flag("--require-change", "the user must change the password at next logon",
               require_change_group),
          flag("--no-require-change", "the user need not change it at next logon",
               require_change_group)}},
        {CommandId::user_unlock,
         "user unlock",
         "Unlock a user locked out after too many failed logons.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::role_grant,
         "role grant",
         "Grant a user a role: directory-admin (users of the management account) administers "
         "the directory and every member account; account-admin administers the user's own "
         "account.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"},
          {"ROLE", "directory-admin or account-admin"}},
         {account_option}},
        {CommandId::role_revoke,
         "role revoke",
         "Revoke a role from a user.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"},
          {"ROLE", "directory-admin or account-admin"}},
         {account_option}},
        {CommandId::role_list,
         "role list",
         "List the roles users hold, active or revoked by their holder (self-revoked).",
         {},
         {valued("--account", "A", "only the roles of this account's users (default: every "
                                   "account)")}},
        {CommandId::policy_show,
         "policy show",
         "Show an account's password policy.",
         {},
         {policy_account_option}},
        {CommandId::policy_set,
         "policy set",
         "Change an account's password policy.",
         {{"KEY=VALUE...",
           "one or more changes, e.g. min_length=12; the keys are those 'policy show' prints"}},
         {policy_account_option}},
        {CommandId::settings_show,
         "settings show",
         "Show an account's security settings.",
         {},
         {policy_account_option}},
        {CommandId::settings_set,
         "settings set",
         "Change an account's security settings.",
         {{"KEY=VALUE...", "one or more changes, e.g. mfa_required=yes; the keys are those "
                           "'settings show' prints"}},
         {policy_account_option}},
        {CommandId::session_list,
         "session list",
         "List open sessions: logons through PAM that have not ended, and browser sessions "
         "(service oidc) of the sign-in pages.",
         {{"[USER]", "only this user's sessions: NAME in the host's account, or NAME@DOMAIN"}},
         {}},
        {CommandId::session_end,
         "session end",
         "End a session: a browser session signs out (its refresh tokens die, back-channel "
         "logout tells its clients); a PAM session is marked ended.",
         {{"[ID]", "the session's id, or the first 8 or more characters of it"}},
         {valued("--user", "USER", "end every open session of this user instead")}},
        {CommandId::audit,
         "audit",
         "Show the audit trail, newest event first.",
         {},
         {choice("--severity", "LEVEL",
                 "only events at least this severe: info, notice, warning or alert",
                 "info|notice|warning|alert"),
          valued("--since", "TIME",
                 "only events from TIME on: ISO-8601 UTC, a date, Unix seconds, or -30m, -1h, -2d"),
          valued("--user", "USER", "only events whose user field is USER"),
          valued("--limit", "N", "at most N events, 1 to 10000 (default: 100)")}},
        {CommandId::mfa_enroll,
         "mfa enroll",
         "Enrol a TOTP authenticator app: shows a QR code, its key and otpauth URI, then asks "
         "for two consecutive codes and prints 10 single-use recovery codes. Without USER, "
         "enrols yourself over the PAM socket (asks your password; the account must allow "
         "users to manage their MFA devices). Without a terminal, prints the URI and reads the "
         "codes (and your password) from standard input, one a line.",
         {{"[USER]", "NAME in the account, or NAME@DOMAIN; leave out to enrol yourself"}},
         {account_option}},
        {CommandId::mfa_list,
         "mfa list",
         "List MFA devices, with the recovery codes left.",
         {{"[USER]", "only this user's device: NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::mfa_remove,
         "mfa remove",
         "Remove a user's MFA device and its recovery codes.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::mfa_recovery_codes,
         "mfa recovery-codes",
         "Make 10 new recovery codes for a user's MFA device (shown once); the old ones stop "
         "working.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::oidc_client_add,
         "oidc client add",
         "Register a web application. A confidential client gets a secret, printed once.",
         {{"ID", "the client_id: letters, digits, '-', '_', '.'"}},
         {{"--redirect-uris", "URI,...", "where sign-ins return: https, or http on localhost",
           0, true, ""},
          flag("--public", "no secret (a browser or native app); PKCE is then required"),
          valued("--name", "NAME", "shown on the sign-in page (default: the id)"),
          valued("--post-logout-uris", "URI,...", "where RP-initiated logout may return"),
          valued("--backchannel-logout-uri", "URI", "receives logout tokens"),
          valued("--scopes", "SCOPE,...",
                 "allowed scopes (default: openid,profile,email,offline_access)"),
          choice("--id-token-alg", "ALG", "ID-token signature (default RS256)",
                 "RS256|ES256|EdDSA"),
          flag("--claims-in-id-token", "put the profile claims in the ID token too"),
          flag("--consent", "ask the user's consent before the first sign-in")}},
        {CommandId::oidc_client_list, "oidc client list", "List the registered clients.", {}, {}},
        {CommandId::oidc_client_show,
         "oidc client show",
         "Show a client.",
         {{"ID", "the client_id"}},
         {}},
        {CommandId::oidc_client_remove,
         "oidc client remove",
         "Remove a client; its tokens stop working.",
         {{"ID", "the client_id"}},
         {}},
        {CommandId::accesskey_create,
         "accesskey create",
         "Make an access key for a user; its secret is printed once. Password changes leave "
         "it working.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::accesskey_list,
         "accesskey list",
         "List access keys.",
         {{"[USER]", "only this user's keys"}},
         {account_option}},
        {CommandId::accesskey_enable, "accesskey enable", "Enable an access key.",
         {{"KEY_ID", "the key's id (LK...)"}}, {}},
        {CommandId::accesskey_disable, "accesskey disable",
         "Disable an access key: the token endpoint refuses it until it is enabled again.",
         {{"KEY_ID", "the key's id (LK...)"}}, {}},
        {CommandId::accesskey_delete, "accesskey delete", "Delete an access key for good.",
         {{"KEY_ID", "the key's id (LK...)"}}, {}},
        {CommandId::oidc_rotate_keys,
         "oidc rotate-keys",
         "Make new signing keys now; the old ones stay published until their tokens expire.",
         {},
         {}},
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
