// SPDX-License-Identifier: Apache-2.0
// Tables, key: value blocks and JSON lines for latchkeyctl's output.
#include "cli/render.hpp"

#include <algorithm>
#include <type_traits>

#include <boost/describe.hpp>
#include <boost/mp11/algorithm.hpp>

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "proto/codec.hpp"
#include "proto/nss.hpp"

namespace latchkey::cli {

namespace {

constexpr std::string_view none = "-";

/// Enough of a session id to tell open sessions apart; --json has the whole id.
constexpr std::size_t short_id_length = 8;

/// The longest severity, "warning": audit lines keep their event names in one column.
constexpr std::size_t severity_width = 7;

/// Characters on screen, roughly: UTF-8 continuation bytes do not count.
std::size_t display_width(std::string_view s)
{
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

std::string or_none(const std::string& s)
{
    return s.empty() ? std::string(none) : s;
}

std::string joined(const std::vector<std::string>& items, std::string_view when_empty)
{
    if (items.empty())
        return std::string(when_empty);
    std::string out;
    for (const auto& item : items) {
        if (!out.empty())
            out += ", ";
        out += item;
    }
    return out;
}

std::string optional_text(const std::optional<std::string>& s)
{
    return s && !s->empty() ? printable(*s) : std::string(none);
}

void pad_to(std::string& s, std::size_t width)
{
    const std::size_t w = display_width(s);
    if (w < width)
        s.append(width - w, ' ');
}

/// An audit field value, quoted when a reader splitting at blanks and '=' would misread it.
std::string audit_value(std::string_view v)
{
    const bool quote =
        v.empty() || v.find_first_of(" \"=\\") != std::string_view::npos || printable(v) != v;
    if (!quote)
        return std::string(v);
    std::string out = "\"";
    for (const char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return printable(out) + '"';
}

std::string optional_time(const std::optional<std::int64_t>& t, std::string_view when_absent)
{
    return t ? format_time(*t) : std::string(when_absent);
}

std::string_view kind_name(proto::AccountKind k)
{
    return boost::describe::enum_to_string(k, "unknown");
}

/// "21600 (6h)", "90 (1h30m)".
std::string duration_note(std::uint32_t s)
{
    const std::uint32_t h = s / 3600;
    const std::uint32_t m = s % 3600 / 60;
    const std::uint32_t rest = s % 60;
    std::string note;
    if (h > 0)
        note += std::to_string(h) + "h";
    if (m > 0)
        note += std::to_string(m) + "m";
    if (rest > 0 || note.empty())
        note += std::to_string(rest) + "s";
    return std::to_string(s) + " (" + note + ")";
}

/// A policy or settings value as shown; zeros that mean "no limit" say so.
template <class V>
std::string setting_value(std::string_view key, const V& v)
{
    if constexpr (std::is_same_v<V, bool>) {
        return std::string(yes_no(v));
    } else if constexpr (std::is_enum_v<V>) {
        return boost::describe::enum_to_string(v, "unknown");
    } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
        return joined(v, key == "allowed_networks" ? "anywhere" : none);
    } else if constexpr (std::is_integral_v<V>) {
        if (key == "session_duration_s")
            return duration_note(static_cast<std::uint32_t>(v));
        if (v == 0 && key == "max_age_days")
            return "0 (passwords do not expire)";
        if (v == 0 && key == "max_failed_per_hour")
            return "0 (no lockout)";
        return std::to_string(v);
    } else {
        static_assert(std::is_same_v<V, std::string>, "add a rendering for this field");
        return or_none(v);
    }
}

/// Every field of a policy or settings struct, named by its key for `policy set` / `settings set`.
template <class T>
void append_settings(std::vector<Field>& fields, const T& s)
{
    using Ds = boost::describe::describe_members<T, boost::describe::mod_public>;
    boost::mp11::mp_for_each<Ds>(
        [&](auto d) { fields.emplace_back(d.name, setting_value(d.name, s.*d.pointer)); });
}

std::string_view enabled_disabled(bool b) noexcept
{
    return b ? "enabled" : "disabled";
}

std::vector<Field> directory_fields(const proto::DirectoryInfo& d)
{
    return {{"domain", d.domain},
            {"management account", d.management_account},
            {"accounts", std::to_string(d.accounts)},
            {"centralized root access", std::string(enabled_disabled(d.root_access_centralized))},
            {"created", format_time(d.created_at)},
            {"id", d.id}};
}

std::vector<Field> account_fields(const proto::AccountInfo& a)
{
    std::vector<Field> fields{{"name", a.name},
                              {"kind", std::string(kind_name(a.kind))},
                              {"default domain", a.default_domain},
                              {"aliases", joined(a.aliases, none)},
                              {"users", std::to_string(a.users)},
                              {"phone", optional_text(a.phone)},
                              {"verification codes today", std::to_string(a.codes_sent_today) +
                                                               " of " +
                                                               std::to_string(a.codes_per_day)}};
    if (a.closed_at)
        fields.emplace_back("closed", format_time(*a.closed_at));
    fields.emplace_back("created", format_time(a.created_at));
    fields.emplace_back("id", a.id);
    return fields;
}

/// "yes", "no", with the end of a recovery window when there is one.
std::string recovery_text(const proto::RootInfo& r)
{
    std::string text(yes_no(r.recovery_open));
    if (r.recovery_open_until)
        text += " (window until " + format_time(*r.recovery_open_until) + ")";
    return text;
}

/// The root user of a cloud account, indented under a "root:" line.
std::string root_section(const proto::RootInfo& r)
{
    const std::string block =
        format_block({{"exists", std::string(yes_no(r.exists))},
                      {"password", std::string(yes_no(r.has_password))},
                      {"mfa", std::string(yes_no(r.has_mfa))},
                      {"access keys", std::to_string(r.access_keys)},
                      {"recovery open", recovery_text(r)}});
    std::string out = "root:\n";
    std::size_t start = 0;
    while (start < block.size()) {
        const auto end = block.find('\n', start);
        out += "  " + block.substr(start, end - start + 1);
        start = end + 1;
    }
    return out;
}

std::vector<Field> user_fields(const proto::UserInfo& u)
{
    std::vector<Field> fields{{"logon name", u.logon_name},
                              {"name", u.name},
                              {"account", u.account},
                              {"display name", or_none(u.display_name)},
                              {"email", u.email ? *u.email : std::string(none)},
                              {"console logon", std::string(yes_no(u.console_logon))},
                              {"has password", std::string(yes_no(u.has_password))},
                              {"password set", optional_time(u.password_set_at, none)},
                              {"password expires", optional_time(u.password_expires_at, "never")},
                              {"change at next logon", std::string(yes_no(u.require_change))}};
    if (u.locked_until)
        fields.emplace_back("locked until", format_time(*u.locked_until));
    if (u.passkeys) {
        std::vector<std::string> passkeys;
        for (const auto& p : *u.passkeys)
            passkeys.push_back(printable(p.name) + " (" + p.algorithm + ", " + p.id + ")");
        fields.emplace_back("passkeys", joined(passkeys, none));
    }
    fields.emplace_back("uid", u.uid ? std::to_string(*u.uid) : std::string(none));
    if (u.home)
        fields.emplace_back("home", printable(*u.home));
    if (u.shell)
        fields.emplace_back("shell", printable(*u.shell));
    fields.emplace_back("created", format_time(u.created_at));
    fields.emplace_back("id", u.id);
    return fields;
}

void render(const proto::HelloReply& r, std::ostream& out)
{
    out << "latchkeyd " << r.server << " (protocol " << r.version << ")\n";
}

void render(const proto::Failure& r, std::ostream& out)
{
    out << "error: " << (r.message.empty() ? r.error : r.message) << "\n";
}

void render(const proto::Done& r, std::ostream& out)
{
    out << (r.message.empty() ? "Done." : r.message) << "\n";
}

void render(const proto::DirectoryReply& r, std::ostream& out)
{
    out << format_block(directory_fields(r.directory));
}

void render(const proto::AccountReply& r, std::ostream& out)
{
    out << format_block(account_fields(r.account));
    if (r.account.root)
        out << root_section(*r.account.root);
}

void render(const proto::AccountListReply& r, std::ostream& out)
{
    if (r.accounts.empty()) {
        out << "No accounts.\n";
        return;
    }
    // A CLOSED column only when an account is closed: most lists have none.
    const bool any_closed = std::any_of(r.accounts.begin(), r.accounts.end(),
                                        [](const auto& a) { return a.closed_at.has_value(); });
    std::vector<Row> rows;
    for (const auto& a : r.accounts) {
        Row row{a.name,          std::string(kind_name(a.kind)), a.default_domain,
                joined(a.aliases, none), std::to_string(a.users), optional_text(a.phone),
                format_time(a.created_at)};
        if (any_closed)
            row.push_back(optional_time(a.closed_at, none));
        rows.push_back(std::move(row));
    }
    Row header{"NAME", "KIND", "DEFAULT DOMAIN", "ALIASES", "USERS", "PHONE", "CREATED"};
    if (any_closed)
        header.emplace_back("CLOSED");
    out << format_table(header, rows);
}

/// An NSS socket answer (latchkeyctl does not ask for one): as getent prints it.
void render(const proto::NssReply& r, std::ostream& out)
{
    const auto line = [&](const std::string& text) {
        out << printable(std::string_view(text).substr(0, text.size() - 1)) << "\n";
    };
    if (r.user)
        line(proto::passwd_line(*r.user));
    if (r.group)
        line(proto::group_line(*r.group));
    for (const auto gid : r.gids)
        out << gid << "\n";
}

void render(const proto::RootAccessReply& r, std::ostream& out)
{
    out << "centralized root access: " << enabled_disabled(r.enabled) << "\n";
    if (r.members.empty()) {
        out << "\nNo member accounts.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& a : r.members) {
        Row row{a.name, std::string(kind_name(a.kind))};
        if (a.root) {
            const auto& root = *a.root;
            std::string recovery = "no";
            if (root.recovery_open)
                recovery = root.recovery_open_until
                               ? "open until " + format_time(*root.recovery_open_until)
                               : "open";
            row.insert(row.end(), {std::string(yes_no(root.exists)),
                                   std::string(yes_no(root.has_password)),
                                   std::string(yes_no(root.has_mfa)), recovery});
        } else {
            row.insert(row.end(), 4, std::string(none)); // no root user at all
        }
        rows.push_back(std::move(row));
    }
    out << "\n"
        << format_table({"ACCOUNT", "KIND", "ROOT", "PASSWORD", "MFA", "RECOVERY"}, rows);
}

void render(const proto::RoleListReply& r, std::ostream& out)
{
    if (r.roles.empty()) {
        out << "No roles.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& role : r.roles)
        rows.push_back({printable(role.user), printable(role.role),
                        role.self_revoked_at ? "self-revoked" : "active",
                        printable(or_none(role.granted_by)), format_time(role.granted_at)});
    out << format_table({"USER", "ROLE", "STATE", "GRANTED BY", "GRANTED"}, rows);
}

void render(const proto::UserReply& r, std::ostream& out)
{
    out << format_block(user_fields(r.user));
    if (r.generated_password) {
        out << "\nGenerated password for " << r.user.logon_name
            << " (shown only once; pass it on through a secure channel):\n";
        const std::string_view password = r.generated_password->view();
        out.write(password.data(), static_cast<std::streamsize>(password.size()));
        out << "\n";
    }
}

void render(const proto::UserListReply& r, std::ostream& out)
{
    if (r.users.empty()) {
        out << "No users.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& u : r.users)
        rows.push_back({u.logon_name, or_none(u.display_name), std::string(yes_no(u.console_logon)),
                        std::string(yes_no(u.has_password)), std::string(yes_no(u.require_change)),
                        std::string(yes_no(u.locked_until.has_value())),
                        format_time(u.created_at)});
    out << format_table({"LOGON NAME", "DISPLAY NAME", "CONSOLE LOGON", "PASSWORD",
                         "CHANGE AT LOGON", "LOCKED", "CREATED"},
                        rows);
}

void render(const proto::PolicyReply& r, std::ostream& out)
{
    std::vector<Field> fields{{"account", r.account}};
    append_settings(fields, r.policy);
    out << format_block(fields);
}

void render(const proto::SettingsReply& r, std::ostream& out)
{
    std::vector<Field> fields{{"account", r.account}};
    append_settings(fields, r.settings);
    out << format_block(fields);
}

void render(const proto::SessionListReply& r, std::ostream& out)
{
    if (r.sessions.empty()) {
        out << "No open sessions.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& s : r.sessions)
        rows.push_back({printable(s.id.substr(0, short_id_length)), printable(or_none(s.user)),
                        printable(s.service), optional_text(s.tty), optional_text(s.rhost),
                        s.pid > 0 ? std::to_string(s.pid) : std::string(none),
                        optional_text(s.method), format_time(s.opened_at)});
    out << format_table({"ID", "USER", "SERVICE", "TTY", "RHOST", "PID", "METHOD", "OPENED"}, rows);
}

void render(const proto::AuditListReply& r, std::ostream& out)
{
    if (r.events.empty()) {
        out << "No audit events.\n";
        return;
    }
    // Newest first whatever order the daemon sent: seq is the order events were recorded in,
    // which the wall clock of `at` need not follow.
    std::vector<const proto::AuditInfo*> events;
    events.reserve(r.events.size());
    std::size_t event_width = 0;
    for (const auto& e : r.events) {
        events.push_back(&e);
        event_width = std::max(event_width, display_width(printable(e.event)));
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const auto* a, const auto* b) { return a->seq > b->seq; });
    for (const auto* e : events)
        out << format_audit_line(*e, event_width) << "\n";
}

void write_secret(std::ostream& out, const core::Secret& s)
{
    out.write(s.view().data(), static_cast<std::streamsize>(s.view().size()));
}

void render(const proto::MfaChallenge& c, std::ostream& out)
{
    out << "Enrolling a TOTP authenticator app for " << printable(c.user) << ".\n"
        << "Scan this QR code with the app, or enter the key by hand (time-based, " << c.digits
        << " digits, every " << c.period_s << " seconds).\n\n";
    for (const auto& line : c.qr) {
        write_secret(out, line);
        out << "\n";
    }
    out << "\nKey: ";
    write_secret(out, c.key);
    out << "\nURI: ";
    write_secret(out, c.uri);
    out << "\n\nThe key is shown only now.\n";
}

void render_recovery_codes(const std::vector<core::Secret>& codes, std::ostream& out)
{
    for (const auto& code : codes) {
        out << "  ";
        write_secret(out, code);
        out << "\n";
    }
}

void render(const proto::MfaEnrolled& e, std::ostream& out)
{
    out << "Enrolled a TOTP device for " << printable(e.device.user) << ".\n"
        << "Recovery codes: each works once in place of a code. Keep them somewhere safe; they "
           "are not shown again.\n";
    render_recovery_codes(e.recovery_codes, out);
}

void render(const proto::MfaRecoveryCodesReply& r, std::ostream& out)
{
    out << "New recovery codes for " << printable(r.user)
        << " (the old ones no longer work; these are not shown again):\n";
    render_recovery_codes(r.recovery_codes, out);
}

void render(const proto::MfaListReply& r, std::ostream& out)
{
    if (r.devices.empty()) {
        out << "No MFA devices.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& d : r.devices)
        rows.push_back({printable(d.user), printable(d.kind), format_time(d.created_at),
                        d.last_used_at ? format_time(*d.last_used_at) : std::string(none),
                        std::to_string(d.recovery_codes_left)});
    out << format_table({"USER", "KIND", "ENROLLED", "LAST USED", "RECOVERY CODES LEFT"}, rows);
}

std::vector<Field> client_fields(const proto::OidcClientInfo& c)
{
    return {{"client id", printable(c.id)},
            {"name", printable(c.name)},
            {"type", c.is_public ? "public (PKCE)" : "confidential"},
            {"redirect uris", printable(joined(c.redirect_uris, none))},
            {"post-logout uris", printable(joined(c.post_logout_redirect_uris, none))},
            {"back-channel logout", printable(c.backchannel_logout_uri.value_or(std::string(none)))},
            {"scopes", printable(joined(c.scopes, none))},
            {"id token alg", printable(c.id_token_alg)},
            {"claims in id token", std::string(yes_no(c.claims_in_id_token))},
            {"consent", std::string(yes_no(c.require_consent))},
            {"created", format_time(c.created_at)}};
}

void render(const proto::OidcClientReply& r, std::ostream& out)
{
    out << format_block(client_fields(r.client));
    if (r.secret) {
        out << "\nClient secret (shown only once; give it to the application's operator):\n";
        write_secret(out, *r.secret);
        out << "\n";
    }
}

void render(const proto::OidcClientListReply& r, std::ostream& out)
{
    if (r.clients.empty()) {
        out << "No clients.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& c : r.clients)
        rows.push_back({printable(c.id), printable(c.name), c.is_public ? "public" : "confidential",
                        printable(c.id_token_alg), printable(joined(c.redirect_uris, none))});
    out << format_table({"CLIENT ID", "NAME", "TYPE", "ID TOKEN", "REDIRECT URIS"}, rows);
}

std::vector<Field> access_key_fields(const proto::AccessKeyInfo& k)
{
    return {{"key id", printable(k.id)},
            {"user", printable(k.user)},
            {"enabled", std::string(yes_no(k.enabled))},
            {"created", format_time(k.created_at)},
            {"last used", k.last_used_at ? format_time(*k.last_used_at) : std::string(none)}};
}

void render(const proto::AccessKeyReply& r, std::ostream& out)
{
    out << format_block(access_key_fields(r.key));
    if (r.secret) {
        out << "\nSecret (shown only once; use the key id as client_id and this as "
               "client_secret):\n";
        write_secret(out, *r.secret);
        out << "\n";
    }
}

void render(const proto::PasskeyListReply& r, std::ostream& out)
{
    if (r.passkeys.empty()) {
        out << "No passkeys.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& p : r.passkeys)
        rows.push_back({printable(p.id), printable(p.name), printable(p.relying_party),
                        printable(p.algorithm), printable(p.aaguid), std::string(yes_no(p.synced)),
                        printable(joined(p.transports, none)), format_time(p.created_at),
                        p.last_used_at ? format_time(*p.last_used_at) : std::string(none)});
    out << format_table({"PASSKEY ID", "NAME", "FOR", "ALG", "AAGUID", "SYNCED", "TRANSPORTS",
                         "CREATED", "LAST USED"},
                        rows);
}

void render(const proto::PasskeyReply& r, std::ostream& out)
{
    const auto& p = r.passkey;
    out << format_block({{"passkey id", printable(p.id)},
                         {"user", printable(p.user)},
                         {"name", printable(p.name)},
                         {"for", p.relying_party == "host" ? std::string("logons at the hosts")
                                                           : std::string("the sign-in pages")},
                         {"algorithm", printable(p.algorithm)},
                         {"aaguid", printable(p.aaguid)},
                         {"created", format_time(p.created_at)}});
}

void render(const proto::KeyEnrolCeremony& r, std::ostream& out)
{
    out << "A security key enrolment for " << printable(r.user)
        << " is waiting for the key's answer.\n";
}

void render(const proto::AccessKeyListReply& r, std::ostream& out)
{
    if (r.keys.empty()) {
        out << "No access keys.\n";
        return;
    }
    std::vector<Row> rows;
    for (const auto& k : r.keys)
        rows.push_back({printable(k.id), printable(k.user), std::string(yes_no(k.enabled)),
                        format_time(k.created_at),
                        k.last_used_at ? format_time(*k.last_used_at) : std::string(none)});
    out << format_table({"KEY ID", "USER", "ENABLED", "CREATED", "LAST USED"}, rows);
}

/// The PAM socket's dialogue replies: latchkeyd never sends them on the admin socket.
void render_unexpected(std::string_view type, std::ostream& out)
{
    out << "latchkeyd sent an unexpected '" << type << "' reply.\n";
}

void render(const proto::AuthReply&, std::ostream& out)
{
    render_unexpected(proto::AuthReply::type, out);
}

void render(const proto::SessionReply&, std::ostream& out)
{
    render_unexpected(proto::SessionReply::type, out);
}

} // namespace

std::string format_table(const Row& header, const std::vector<Row>& rows)
{
    std::vector<std::size_t> widths(header.size(), 0);
    auto measure = [&](const Row& row) {
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
            widths[c] = std::max(widths[c], display_width(row[c]));
    };
    measure(header);
    for (const auto& row : rows)
        measure(row);

    std::string out;
    auto line = [&](const Row& row) {
        std::string text;
        for (std::size_t c = 0; c < widths.size(); ++c) {
            const std::string_view cell = c < row.size() ? std::string_view(row[c]) : "";
            if (c > 0)
                text.append(2, ' ');
            text += cell;
            if (c + 1 < widths.size())
                text.append(widths[c] - display_width(cell), ' ');
        }
        while (!text.empty() && text.back() == ' ')
            text.pop_back();
        out += text + "\n";
    };
    line(header);
    for (const auto& row : rows)
        line(row);
    return out;
}

std::string format_block(const std::vector<Field>& fields)
{
    std::size_t width = 0;
    for (const auto& [key, value] : fields)
        width = std::max(width, display_width(key));
    std::string out;
    for (const auto& [key, value] : fields) {
        out += key + ":";
        if (!value.empty()) {
            out.append(width - display_width(key) + 1, ' ');
            out += value;
        }
        out += "\n";
    }
    return out;
}

std::string format_time(std::int64_t unix_seconds)
{
    return core::to_iso8601(core::from_unix(unix_seconds));
}

std::string_view yes_no(bool b) noexcept
{
    return b ? "yes" : "no";
}

std::string printable(std::string_view s)
{
    static constexpr std::string_view hex = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0U;
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20U || c == 0x7FU) {
            out += "\\x";
            out += hex[c >> 4U];
            out += hex[c & 0xFU];
        } else if (c == 0xC2U && next >= 0x80U && next <= 0x9FU) {
            // U+0080..U+009F, the C1 controls (CSI is U+009B) encoded in UTF-8.
            out += "\\u00";
            out += hex[next >> 4U];
            out += hex[next & 0xFU];
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string format_audit_line(const proto::AuditInfo& e, std::size_t event_width)
{
    std::string severity = printable(e.severity);
    pad_to(severity, severity_width);
    std::string event = printable(e.event);
    std::string line = format_time(e.at) + "  " + severity + "  ";
    if (e.fields.empty())
        return line + event;
    pad_to(event, event_width);
    line += event + " ";
    for (const auto& f : e.fields)
        line += " " + printable(f.key) + "=" + audit_value(f.value);
    return line;
}

void render_human(const proto::Response& reply, std::ostream& out)
{
    std::visit([&](const auto& m) { render(m, out); }, reply);
}

void render_json(const proto::Response& reply, std::ostream& out)
{
    std::string line =
        std::visit([](const auto& m) { return proto::json::serialize(proto::to_json(m)); }, reply);
    out << line << "\n";
    core::wipe(line.data(), line.size()); // may hold a generated password, a key, codes
}

} // namespace latchkey::cli
