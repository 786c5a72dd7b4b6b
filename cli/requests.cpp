// SPDX-License-Identifier: Apache-2.0
// The request of each latchkeyctl command, from its operands, options and what the person typed.
#include "cli/requests.hpp"

#include <string>
#include <utility>
#include <vector>

#include "cli/time_arg.hpp"

namespace latchkey::cli {

namespace {

proto::UserRef user_ref(const ParsedCommand& cmd)
{
    return proto::UserRef{cmd.operands.at(0), cmd.value("--account")};
}

/// USER, when the command was given one (it may be left out).
std::optional<proto::UserRef> optional_user_ref(const ParsedCommand& cmd)
{
    if (cmd.operands.empty())
        return std::nullopt;
    return user_ref(cmd);
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

proto::AccountKind kind_option(const ParsedCommand& cmd, std::string_view option)
{
    return cmd.value(option) == "cloud" ? proto::AccountKind::cloud
                                        : proto::AccountKind::resource;
}

proto::Request user_set_unix(const ParsedCommand& cmd, proto::UnixAttribute attribute)
{
    proto::UserSetUnix r;
    r.ref = user_ref(cmd);
    r.attribute = attribute;
    if (cmd.operands.size() > 1)
        r.value = cmd.operands.at(1);
    return r;
}

} // namespace

proto::PasswordMode password_mode(const ParsedCommand& cmd)
{
    if (cmd.has("--keep"))
        return proto::PasswordMode::keep;
    if (cmd.has("--generate"))
        return proto::PasswordMode::generate;
    return proto::PasswordMode::custom;
}

namespace requests {

// ---- directory ---------------------------------------------------------------------------

proto::Request directory_init(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::DirectoryInit r;
    r.domain = cmd.value("--domain").value_or("");
    if (auto m = cmd.value("--management-account"))
        r.management_account = std::move(*m);
    return r;
}

proto::Request directory_show(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::DirectoryShow{};
}

proto::Request root_access_enable(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::RootAccessSet{true};
}

proto::Request root_access_disable(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::RootAccessSet{false};
}

proto::Request root_access_show(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::RootAccessShow{};
}

// ---- account -----------------------------------------------------------------------------

proto::Request account_create(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::AccountCreate r;
    r.name = cmd.operands.at(0);
    r.kind = kind_option(cmd, "--kind");
    return r;
}

proto::Request account_list(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::AccountList{};
}

proto::Request account_show(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountShow{cmd.operands.at(0)};
}

proto::Request alias_add(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountAlias{cmd.operands.at(0), cmd.operands.at(1), true};
}

proto::Request alias_remove(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountAlias{cmd.operands.at(0), cmd.operands.at(1), false};
}

proto::Request phone_bind(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::PhoneBind{cmd.operands.at(0), cmd.operands.at(1)};
}

proto::Request phone_verify(const ParsedCommand& cmd, core::TimePoint, Typed typed)
{
    proto::PhoneVerify r;
    r.account = cmd.operands.at(0);
    if (cmd.operands.size() > 1)
        r.code = core::Secret(cmd.operands.at(1));
    else if (typed.code)
        r.code = std::move(*typed.code);
    return r;
}

proto::Request account_switch(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountSwitch{cmd.operands.at(0), kind_option(cmd, "--to"),
                                cmd.has("--acknowledge-risk")};
}

proto::Request root_recover(const ParsedCommand& cmd, core::TimePoint, Typed typed)
{
    proto::RootRecover r;
    r.account = cmd.operands.at(0);
    // Without both, or with --send-only, the request asks for a code to be sent.
    if (!cmd.has("--send-only") && typed.code && typed.password) {
        r.code = std::move(typed.code);
        r.password = std::move(typed.password);
    }
    return r;
}

proto::Request root_remove_credentials(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::RootRemoveCredentials{cmd.operands.at(0)};
}

proto::Request root_allow_recovery(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::RootAllowRecovery{
        cmd.operands.at(0), parse_recovery_window(cmd.value("--for").value_or("")).value_or(0)};
}

proto::Request account_close(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountClose{cmd.operands.at(0)};
}

proto::Request account_restore_admin(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountRestoreAdmin{cmd.operands.at(0), cmd.operands.at(1)};
}

proto::Request account_clear_networks(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccountClearNetworks{cmd.operands.at(0)};
}

// ---- user --------------------------------------------------------------------------------

proto::Request user_create(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::UserCreate r;
    r.ref = user_ref(cmd);
    r.display_name = cmd.value("--display-name");
    r.console_logon = !cmd.has("--no-console-logon");
    r.email = cmd.value("--email");
    return r;
}

proto::Request user_list(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::UserList{cmd.value("--account")};
}

proto::Request user_show(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::UserShow{user_ref(cmd)};
}

proto::Request user_delete(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::UserDelete{user_ref(cmd)};
}

proto::Request user_enable_logon(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::UserSetLogon{user_ref(cmd), true};
}

proto::Request user_disable_logon(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::UserSetLogon{user_ref(cmd), false};
}

proto::Request user_set_email(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::UserSetEmail r;
    r.ref = user_ref(cmd);
    if (cmd.operands.size() > 1)
        r.email = cmd.operands.at(1);
    return r;
}

proto::Request user_set_shell(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return user_set_unix(cmd, proto::UnixAttribute::shell);
}

proto::Request user_set_home(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return user_set_unix(cmd, proto::UnixAttribute::home);
}

proto::Request user_set_password(const ParsedCommand& cmd, core::TimePoint, Typed typed)
{
    proto::UserSetPassword r;
    r.ref = user_ref(cmd);
    r.mode = password_mode(cmd);
    if (r.mode == proto::PasswordMode::custom)
        r.password = std::move(typed.password);
    if (cmd.has("--require-change"))
        r.require_change = true;
    else if (cmd.has("--no-require-change"))
        r.require_change = false;
    return r;
}

proto::Request user_unlock(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::UserUnlock{user_ref(cmd)};
}

// ---- role, policy, settings --------------------------------------------------------------

proto::Request role_grant(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::RoleGrant{user_ref(cmd), cmd.operands.at(1)};
}

proto::Request role_revoke(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::RoleRevoke{user_ref(cmd), cmd.operands.at(1)};
}

proto::Request role_list(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::RoleList{cmd.value("--account")};
}

proto::Request policy_show(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::PolicyShow{cmd.value("--account")};
}

proto::Request policy_set(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::PolicySet{cmd.value("--account"), assignments(cmd)};
}

proto::Request settings_show(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::SettingsShow{cmd.value("--account")};
}

proto::Request settings_set(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::SettingsSet{cmd.value("--account"), assignments(cmd)};
}

// ---- session, audit ----------------------------------------------------------------------

proto::Request session_list(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::SessionList r;
    if (!cmd.operands.empty())
        r.user = cmd.operands.front();
    return r;
}

proto::Request session_end(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::SessionEnd r;
    if (!cmd.operands.empty())
        r.id = cmd.operands.front();
    r.user = cmd.value("--user");
    return r;
}

proto::Request audit(const ParsedCommand& cmd, core::TimePoint now, Typed)
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

// ---- mfa ---------------------------------------------------------------------------------

proto::Request mfa_enroll(const ParsedCommand& cmd, core::TimePoint, Typed typed)
{
    proto::MfaEnroll r;
    r.ref = optional_user_ref(cmd);
    r.password = std::move(typed.password);
    return r;
}

proto::Request mfa_list(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::MfaList r;
    r.ref = optional_user_ref(cmd);
    return r;
}

proto::Request mfa_remove(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::MfaRemove{user_ref(cmd)};
}

proto::Request mfa_recovery_codes(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::MfaRecoveryCodes{user_ref(cmd)};
}

// ---- oidc --------------------------------------------------------------------------------

proto::Request oidc_client_add(const ParsedCommand& cmd, core::TimePoint, Typed)
{
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

proto::Request oidc_client_list(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::OidcClientList{};
}

proto::Request oidc_client_show(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::OidcClientShow{cmd.operands.at(0)};
}

proto::Request oidc_client_remove(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::OidcClientRemove{cmd.operands.at(0)};
}

proto::Request oidc_rotate_keys(const ParsedCommand&, core::TimePoint, Typed)
{
    return proto::OidcRotateKeys{};
}

// ---- accesskey ---------------------------------------------------------------------------

proto::Request accesskey_create(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccessKeyCreate{user_ref(cmd)};
}

proto::Request accesskey_list(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    proto::AccessKeyList r;
    r.ref = optional_user_ref(cmd);
    return r;
}

proto::Request accesskey_enable(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccessKeySetEnabled{cmd.operands.at(0), true};
}

proto::Request accesskey_disable(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccessKeySetEnabled{cmd.operands.at(0), false};
}

proto::Request accesskey_delete(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::AccessKeyDelete{cmd.operands.at(0)};
}

// ---- passkey -----------------------------------------------------------------------------

proto::Request passkey_list(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::PasskeyList{user_ref(cmd)};
}

proto::Request passkey_add_key(const ParsedCommand& cmd, core::TimePoint, Typed typed)
{
    proto::KeyEnrol r;
    r.ref = optional_user_ref(cmd);
    r.password = std::move(typed.password);
    return r;
}

proto::Request passkey_remove(const ParsedCommand& cmd, core::TimePoint, Typed)
{
    return proto::PasskeyRemove{user_ref(cmd), cmd.operands.at(1)};
}

} // namespace requests

} // namespace latchkey::cli
