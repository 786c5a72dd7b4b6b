// SPDX-License-Identifier: Apache-2.0
// Building each command's request, asking the person what it needs, calling latchkeyd, rendering.
#include "cli/commands.hpp"

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "cli/mfa_enroll.hpp"
#include "cli/password_input.hpp"
#include "cli/render.hpp"
#include "cli/root_recover.hpp"
#include "cli/sign_in.hpp"
#include "cli/time_arg.hpp"
#include "proto/client.hpp"

namespace latchkey::cli {

namespace {

proto::UserRef user_ref(const ParsedCommand& cmd)
{
    return proto::UserRef{cmd.operands.at(0), cmd.value("--account")};
}

std::vector<proto::Assignment> assignments(const ParsedCommand& cmd)
{
    std::vector<proto::Assignment> out;
    for (const auto& operand : cmd.operands) {
        const auto eq = operand.find('=');
        out.push_back({operand.substr(0, eq),
                       eq == std::string::npos ? std::string() : operand.substr(eq + 1)});
    }
    return out;
}

/// "a,b, c" -> {"a", "b", "c"}; absent or empty -> {}.
std::vector<std::string> comma_list(const std::optional<std::string>& value)
{
    std::vector<std::string> out;
    if (!value)
        return out;
    std::string item;
    for (std::size_t i = 0; i <= value->size(); ++i) {
        if (i == value->size() || (*value)[i] == ',') {
            while (!item.empty() && item.back() == ' ')
                item.pop_back();
            if (!item.empty())
                out.push_back(item);
            item.clear();
        } else if (!(item.empty() && (*value)[i] == ' ')) {
            item += (*value)[i];
        }
    }
    return out;
}

proto::PasswordMode password_mode(const ParsedCommand& cmd)
{
    if (cmd.has("--keep"))
        return proto::PasswordMode::keep;
    if (cmd.has("--generate"))
        return proto::PasswordMode::generate;
    return proto::PasswordMode::custom;
}

/// "alice", or "alice of account web" when --account names it.
std::string user_phrase(const ParsedCommand& cmd)
{
    std::string s = "'" + cmd.operands.at(0) + "'";
    if (const auto account = cmd.value("--account"))
        s += " of account '" + *account + "'";
    return s;
}

core::Status confirm_delete(const ParsedCommand& cmd)
{
    if (!stdin_is_terminal())
        return core::fail(core::Errc::failed_precondition,
                          "refusing to delete user " + user_phrase(cmd) +
                              " without confirmation: standard input is not a terminal "
                              "(add --yes to delete it)");
    std::string prompt = "Delete user " + cmd.operands.at(0);
    if (const auto account = cmd.value("--account"))
        prompt += " of account " + *account;
    LATCHKEY_TRY(answer, ask(prompt + "? [y/N] "));
    for (auto& c : answer)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back())) != 0)
        answer.pop_back();
    if (answer == "y" || answer == "yes")
        return {};
    return core::fail(core::Errc::failed_precondition,
                      "user " + user_phrase(cmd) + " was not deleted");
}

/// The new password of a custom reset: typed twice on a terminal (once, still without echo,
/// with --stdin), or one line from stdin.
core::Result<core::Secret> new_password(const ParsedCommand& cmd)
{
    return read_new_password(!cmd.has("--stdin"));
}

/// What the person gives a command before its request goes out.
struct Typed {
    std::optional<core::Secret> password;
    std::optional<core::Secret> code;
};

/// Asks what the command needs: confirmation of `user delete`, the new password of a custom
/// reset, the code of `account phone verify` without CODE.
core::Result<Typed> ask_for(const ParsedCommand& cmd)
{
    Typed typed;
    if (cmd.id == CommandId::user_delete && !cmd.has("--yes"))
        LATCHKEY_TRY_STATUS(confirm_delete(cmd));
    if (cmd.id == CommandId::user_set_password &&
        password_mode(cmd) == proto::PasswordMode::custom) {
        LATCHKEY_TRY(password, new_password(cmd));
        typed.password = std::move(password);
    }
    if (cmd.id == CommandId::account_phone_verify && cmd.operands.size() < 2) {
        LATCHKEY_TRY(code, read_verification_code());
        typed.code = std::move(code);
    }
    return typed;
}

proto::AccountKind kind_option(const ParsedCommand& cmd, std::string_view option)
{
    return cmd.value(option) == "cloud" ? proto::AccountKind::cloud
                                        : proto::AccountKind::resource;
}

/// `audit`: the filters given; parse_args() has already checked their form.
proto::AuditList audit_query(const ParsedCommand& cmd, core::TimePoint now)
{
    proto::AuditList r;
    r.severity = cmd.value("--severity");
    if (const auto since = cmd.value("--since"))
        if (const auto t = parse_time_arg(*since))
            r.since = t->unix_seconds(now);
    r.user = cmd.value("--user");
    if (const auto limit = cmd.value("--limit"))
        r.limit = parse_limit(*limit).value_or(r.limit);
    return r;
}

} // namespace

proto::Request build_request(const ParsedCommand& cmd,
                             core::TimePoint now,
                             std::optional<core::Secret> password,
                             std::optional<core::Secret> code)
{
    switch (cmd.id) {
    case CommandId::directory_init: {
        proto::DirectoryInit r;
        r.domain = cmd.value("--domain").value_or("");
        if (auto m = cmd.value("--management-account"))
            r.management_account = std::move(*m);
        return r;
    }
    case CommandId::directory_show:
        return proto::DirectoryShow{};
    case CommandId::account_create: {
        proto::AccountCreate r;
        r.name = cmd.operands.at(0);
        r.kind = kind_option(cmd, "--kind");
        return r;
    }
    case CommandId::account_list:
        return proto::AccountList{};
    case CommandId::account_show:
        return proto::AccountShow{cmd.operands.at(0)};
    case CommandId::account_alias_add:
    case CommandId::account_alias_remove:
        return proto::AccountAlias{cmd.operands.at(0), cmd.operands.at(1),
                                   cmd.id == CommandId::account_alias_add};
    case CommandId::user_create: {
        proto::UserCreate r;
        r.ref = user_ref(cmd);
        r.display_name = cmd.value("--display-name");
        r.console_logon = !cmd.has("--no-console-logon");
        r.email = cmd.value("--email");
        return r;
    }
    case CommandId::user_list:
        return proto::UserList{cmd.value("--account")};
    case CommandId::user_show:
        return proto::UserShow{user_ref(cmd)};
    case CommandId::user_delete:
        return proto::UserDelete{user_ref(cmd)};
    case CommandId::user_enable_logon:
    case CommandId::user_disable_logon:
        return proto::UserSetLogon{user_ref(cmd), cmd.id == CommandId::user_enable_logon};
    case CommandId::user_set_email: {
        proto::UserSetEmail r;
        r.ref = user_ref(cmd);
        if (cmd.operands.size() > 1)
            r.email = cmd.operands.at(1);
        return r;
    }
    case CommandId::user_set_password: {
        proto::UserSetPassword r;
        r.ref = user_ref(cmd);
        r.mode = password_mode(cmd);
        if (r.mode == proto::PasswordMode::custom)
            r.password = std::move(password);
        if (cmd.has("--require-change"))
            r.require_change = true;
        else if (cmd.has("--no-require-change"))
            r.require_change = false;
        return r;
    }
    case CommandId::policy_show:
        return proto::PolicyShow{cmd.value("--account")};
    case CommandId::policy_set:
        return proto::PolicySet{cmd.value("--account"), assignments(cmd)};
    case CommandId::settings_show:
        return proto::SettingsShow{cmd.value("--account")};
    case CommandId::settings_set:
        return proto::SettingsSet{cmd.value("--account"), assignments(cmd)};
    case CommandId::user_unlock:
        return proto::UserUnlock{user_ref(cmd)};
    case CommandId::session_list: {
        proto::SessionList r;
        if (!cmd.operands.empty())
            r.user = cmd.operands.front();
        return r;
    }
    case CommandId::session_end: {
        proto::SessionEnd r;
        if (!cmd.operands.empty())
            r.id = cmd.operands.front();
        r.user = cmd.value("--user");
        return r;
    }
    case CommandId::audit:
        return audit_query(cmd, now);
    case CommandId::mfa_enroll: {
        proto::MfaEnroll r;
        if (!cmd.operands.empty())
            r.ref = user_ref(cmd);
        r.password = std::move(password);
        return r;
    }
    case CommandId::mfa_list: {
        proto::MfaList r;
        if (!cmd.operands.empty())
            r.ref = user_ref(cmd);
        return r;
    }
    case CommandId::mfa_remove:
        return proto::MfaRemove{user_ref(cmd)};
    case CommandId::mfa_recovery_codes:
        return proto::MfaRecoveryCodes{user_ref(cmd)};
    case CommandId::oidc_client_add: {
        proto::OidcClientAdd r;
        r.client.id = cmd.operands.at(0);
        r.client.name = cmd.value("--name").value_or("");
        r.client.is_public = cmd.has("--public");
        r.client.redirect_uris = comma_list(cmd.value("--redirect-uris"));
        r.client.post_logout_redirect_uris = comma_list(cmd.value("--post-logout-uris"));
        r.client.backchannel_logout_uri = cmd.value("--backchannel-logout-uri");
        r.client.scopes = comma_list(cmd.value("--scopes"));
        r.client.id_token_alg = cmd.value("--id-token-alg").value_or("RS256");
        r.client.claims_in_id_token = cmd.has("--claims-in-id-token");
        r.client.require_consent = cmd.has("--consent");
        return r;
    }
    case CommandId::oidc_client_list:
        return proto::OidcClientList{};
    case CommandId::oidc_client_show:
        return proto::OidcClientShow{cmd.operands.at(0)};
    case CommandId::oidc_client_remove:
        return proto::OidcClientRemove{cmd.operands.at(0)};
    case CommandId::oidc_rotate_keys:
        return proto::OidcRotateKeys{};
    case CommandId::accesskey_create:
        return proto::AccessKeyCreate{user_ref(cmd)};
    case CommandId::accesskey_list: {
        proto::AccessKeyList r;
        if (!cmd.operands.empty())
            r.ref = user_ref(cmd);
        return r;
    }
    case CommandId::accesskey_enable:
    case CommandId::accesskey_disable:
        return proto::AccessKeySetEnabled{cmd.operands.at(0),
                                          cmd.id == CommandId::accesskey_enable};
    case CommandId::accesskey_delete:
        return proto::AccessKeyDelete{cmd.operands.at(0)};
    case CommandId::role_grant:
        return proto::RoleGrant{user_ref(cmd), cmd.operands.at(1)};
    case CommandId::role_revoke:
        return proto::RoleRevoke{user_ref(cmd), cmd.operands.at(1)};
    case CommandId::role_list:
        return proto::RoleList{cmd.value("--account")};
    case CommandId::account_phone_bind:
        return proto::PhoneBind{cmd.operands.at(0), cmd.operands.at(1)};
    case CommandId::account_phone_verify: {
        proto::PhoneVerify r;
        r.account = cmd.operands.at(0);
        if (cmd.operands.size() > 1)
            r.code = core::Secret(cmd.operands.at(1));
        else if (code)
            r.code = std::move(*code);
        return r;
    }
    case CommandId::account_switch:
        return proto::AccountSwitch{cmd.operands.at(0), kind_option(cmd, "--to"),
                                    cmd.has("--acknowledge-risk")};
    case CommandId::account_root_recover: {
        proto::RootRecover r;
        r.account = cmd.operands.at(0);
        if (!cmd.has("--send-only") && code && password) {
            r.code = std::move(code);
            r.password = std::move(password);
        }
        return r;
    }
    case CommandId::account_root_remove_credentials:
        return proto::RootRemoveCredentials{cmd.operands.at(0)};
    case CommandId::account_root_allow_recovery:
        return proto::RootAllowRecovery{
            cmd.operands.at(0), parse_recovery_window(cmd.value("--for").value_or("")).value_or(0)};
    case CommandId::directory_root_access_enable:
    case CommandId::directory_root_access_disable:
        return proto::RootAccessSet{cmd.id == CommandId::directory_root_access_enable};
    case CommandId::directory_root_access_show:
        return proto::RootAccessShow{};
    case CommandId::account_close:
        return proto::AccountClose{cmd.operands.at(0)};
    case CommandId::account_restore_admin:
        return proto::AccountRestoreAdmin{cmd.operands.at(0), cmd.operands.at(1)};
    case CommandId::account_clear_logon_networks:
        return proto::AccountClearNetworks{cmd.operands.at(0)};
    }
    return proto::DirectoryShow{}; // unreachable: the switch covers every CommandId
}

core::Error to_error(const proto::Failure& f)
{
    std::string message = f.message;
    if (message.empty())
        message = f.error.empty()
                      ? "latchkeyd refused the request (code " + std::to_string(f.code) + ")"
                      : "latchkeyd refused the request: " + f.error;
    return core::Error{std::error_code(f.code, core::latchkey_category()), std::move(message)};
}

core::Status show_reply(const proto::Response& reply, bool json, std::ostream& out)
{
    if (json)
        render_json(reply, out);
    if (const auto* failure = std::get_if<proto::Failure>(&reply))
        return core::fail(to_error(*failure));
    if (!json)
        render_human(reply, out);
    return {};
}

core::Status run(const Invocation& inv, std::ostream& out, core::TimePoint now)
{
    switch (inv.action) {
    case Action::help:
        out << help_text(inv.help_topic);
        return {};
    case Action::version:
        out << version_text();
        return {};
    case Action::run:
        break;
    }

    const ParsedCommand& cmd = inv.command;
    if (cmd.id == CommandId::mfa_enroll)
        return run_mfa_enroll(inv, out, now);
    if (cmd.id == CommandId::account_root_recover)
        return run_root_recover(inv, out, now);

    // Everything asked of the person comes before the request, and before connecting (the
    // client's deadline starts then) unless --as signs in first: its answers come first, on the
    // terminal and on standard input, and the deadline restarts after the command's own.
    std::optional<proto::Client> client;
    if (inv.globals.as) {
        LATCHKEY_TRY(connected, connect_admin(inv, out));
        client.emplace(std::move(connected));
    }
    LATCHKEY_TRY(typed, ask_for(cmd));
    const proto::Request request =
        build_request(cmd, now, std::move(typed.password), std::move(typed.code));
    if (client) {
        client->extend_deadline();
    } else {
        LATCHKEY_TRY(connected, connect_admin(inv, out));
        client.emplace(std::move(connected));
    }
    LATCHKEY_TRY(reply, client->call(request));
    return show_reply(reply, inv.globals.json, out);
}

} // namespace latchkey::cli
