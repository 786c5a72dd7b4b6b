// SPDX-License-Identifier: Apache-2.0
// TOML configuration parsing with toml++, strict about unknown keys and ranges.
#include "daemon/config.hpp"


// toml++ header-only and without exceptions: a bad config is an expected failure and comes back
// as a value. (Debian's shared libtomlplusplus is built with exceptions, so the build takes only
// its headers; this is the one translation unit that includes them.)
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "directory/names.hpp"
#include "directory/network.hpp"
#include "notify/http_client.hpp"
#include "storage/postgres/pg.hpp"

#include <toml++/toml.h>

namespace latchkey::daemon {

namespace {

using core::Errc;

struct Parser {
    std::string source;
    core::Status status;

    void error(const std::string& key, const std::string& what)
    {
        if (status)
            status = core::fail(Errc::config_invalid, source + ": " + key + ": " + what);
    }

    void string(const toml::node& n, const std::string& key, std::string& out)
    {
        if (auto v = n.value<std::string>())
            out = *v;
        else
            error(key, "must be a string");
    }

    void uint(const toml::node& n, const std::string& key, std::uint32_t& out, std::int64_t lo,
              std::int64_t hi)
    {
        auto v = n.value<std::int64_t>();
        if (!v || !n.is_integer())
            return error(key, "must be an integer");
        if (*v < lo || *v > hi)
            return error(key, "must be between " + std::to_string(lo) + " and " +
                                  std::to_string(hi));
        out = static_cast<std::uint32_t>(*v);
    }

    void mode(const toml::node& n, const std::string& key, std::uint32_t& out)
    {
        std::string s;
        string(n, key, s);
        if (!status)
            return;
        std::uint32_t m = 0;
        if (s.empty() || s.size() > 4)
            return error(key, "must be an octal mode such as \"0660\"");
        for (const char c : s) {
            if (c < '0' || c > '7')
                return error(key, "must be an octal mode such as \"0660\"");
            m = m * 8 + static_cast<std::uint32_t>(c - '0');
        }
        out = m;
    }
};

using KeyHandler = std::function<void(Parser&, const toml::node&, const std::string&, Config&)>;

const std::map<std::string, std::map<std::string, KeyHandler>>& schema()
{
    static const std::map<std::string, std::map<std::string, KeyHandler>> s = {
        {"directory",
         {{"account", [](Parser& p, const toml::node& n, const std::string& k,
                         Config& c) { p.string(n, k, c.account); }}}},
        {"storage",
         {{"engine",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               std::string text;
               p.string(n, k, text);
               for (auto engine : {StorageEngine::sqlite, StorageEngine::postgresql})
                   if (text == to_string(engine))
                       return void(c.storage_engine = engine);
               p.error(k, "must be one of sqlite, postgresql");
           }},
          {"connection",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.storage_connection);
               if (auto st = postgres::check_conninfo(c.storage_connection); !st)
                   p.error(k, st.error().message);
           }},
          {"pool_size", [](Parser& p, const toml::node& n, const std::string& k,
                           Config& c) { p.uint(n, k, c.storage_pool_size, 0, 1000); }},
          {"database", [](Parser& p, const toml::node& n, const std::string& k,
                          Config& c) { p.string(n, k, c.database); }},
          {"key_file", [](Parser& p, const toml::node& n, const std::string& k,
                          Config& c) { p.string(n, k, c.key_file); }}}},
        {"sockets",
         {{"pam", [](Parser& p, const toml::node& n, const std::string& k,
                     Config& c) { p.string(n, k, c.pam_socket); }},
          {"admin", [](Parser& p, const toml::node& n, const std::string& k,
                       Config& c) { p.string(n, k, c.admin_socket); }},
          {"nss", [](Parser& p, const toml::node& n, const std::string& k,
                     Config& c) { p.string(n, k, c.nss_socket); }},
          {"nss_mode", [](Parser& p, const toml::node& n, const std::string& k,
                          Config& c) { p.mode(n, k, c.nss_socket_mode); }},
          {"admin_group", [](Parser& p, const toml::node& n, const std::string& k,
                             Config& c) { p.string(n, k, c.admin_group); }},
          {"pam_mode", [](Parser& p, const toml::node& n, const std::string& k,
                          Config& c) { p.mode(n, k, c.pam_socket_mode); }},
          {"admin_mode", [](Parser& p, const toml::node& n, const std::string& k,
                            Config& c) { p.mode(n, k, c.admin_socket_mode); }}}},
        {"limits",
         {{"workers", [](Parser& p, const toml::node& n, const std::string& k,
                         Config& c) { p.uint(n, k, c.workers, 0, 256); }},
          {"max_connections", [](Parser& p, const toml::node& n, const std::string& k,
                                 Config& c) { p.uint(n, k, c.max_connections, 1, 65536); }},
          {"max_connections_per_uid",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.max_connections_per_uid, 1, 65536);
           }},
          {"max_queued", [](Parser& p, const toml::node& n, const std::string& k,
                            Config& c) { p.uint(n, k, c.max_queued, 1, 1'000'000); }},
          {"read_timeout_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               std::uint32_t v = 0;
               p.uint(n, k, v, 1, 3600);
               if (p.status)
                   c.read_timeout = std::chrono::seconds(v);
           }},
          {"answer_timeout_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               std::uint32_t v = 0;
               p.uint(n, k, v, 1, 3600);
               if (p.status)
                   c.answer_timeout = std::chrono::seconds(v);
           }}}},
        {"lockout",
         {{"source_failures_per_user",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.source_failures_per_user, 0, 1000);
           }},
          {"source_failures", [](Parser& p, const toml::node& n, const std::string& k,
                                 Config& c) { p.uint(n, k, c.source_failures, 0, 1'000'000); }}}},
        {"password",
         {{"argon2_memory_kib",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.argon2.memory_kib, 8 * 1024, 4 * 1024 * 1024);
           }},
          {"argon2_iterations", [](Parser& p, const toml::node& n, const std::string& k,
                                   Config& c) { p.uint(n, k, c.argon2.iterations, 1, 100); }},
          {"argon2_parallelism", [](Parser& p, const toml::node& n, const std::string& k,
                                    Config& c) { p.uint(n, k, c.argon2.parallelism, 1, 64); }}}},
        {"mfa",
         {{"totp_window", [](Parser& p, const toml::node& n, const std::string& k,
                             Config& c) { p.uint(n, k, c.totp_window, 0, 10); }}}},
        {"oidc",
         {{"listen", [](Parser& p, const toml::node& n, const std::string& k,
                        Config& c) { p.string(n, k, c.oidc_listen); }},
          {"issuer", [](Parser& p, const toml::node& n, const std::string& k,
                        Config& c) { p.string(n, k, c.oidc_issuer); }},
          {"trusted_proxies",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               const auto* arr = n.as_array();
               if (arr == nullptr)
                   return p.error(k, "must be an array of IP addresses, such as [\"127.0.0.1\"]");
               std::vector<std::string> proxies;
               for (const auto& el : *arr) {
                   const auto v = el.value<std::string>();
                   const auto canonical = v ? directory::canonical_address(*v) : std::nullopt;
                   if (!el.is_string() || !canonical)
                       return p.error(k, "must be an array of IP addresses (no names, no "
                                         "networks)");
                   proxies.push_back(*canonical);
               }
               c.oidc_trusted_proxies = std::move(proxies);
           }},
          {"tls_certificate", [](Parser& p, const toml::node& n, const std::string& k,
                                 Config& c) { p.string(n, k, c.oidc_tls_certificate); }},
          {"tls_private_key", [](Parser& p, const toml::node& n, const std::string& k,
                                 Config& c) { p.string(n, k, c.oidc_tls_private_key); }},
          {"key_rotation_days",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.oidc_key_rotation_days, 1, 3650);
           }},
          {"access_token_lifetime_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.oidc_access_token_lifetime_s, 60, 86400);
           }},
          {"id_token_lifetime_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.oidc_id_token_lifetime_s, 60, 86400);
           }},
          {"refresh_token_lifetime_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.oidc_refresh_token_lifetime_s, 300, 365 * 86400);
           }},
          {"code_lifetime_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.oidc_code_lifetime_s, 10, 600);
           }},
          {"refresh_grace_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.oidc_refresh_grace_s, 0, 300);
           }}}},
        {"webauthn",
         {{"rp_id", [](Parser& p, const toml::node& n, const std::string& k,
                       Config& c) { p.string(n, k, c.webauthn_rp_id); }},
          {"rp_name", [](Parser& p, const toml::node& n, const std::string& k,
                         Config& c) { p.string(n, k, c.webauthn_rp_name); }},
          {"origins",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               const auto* arr = n.as_array();
               if (arr == nullptr)
                   return p.error(k, "must be an array of origins, such as "
                                     "[\"https://login.example.org\"]");
               std::vector<std::string> origins;
               for (const auto& el : *arr) {
                   const auto v = el.value<std::string>();
                   if (!el.is_string() || !v || v->empty())
                       return p.error(k, "must be an array of origins (strings)");
                   origins.push_back(*v);
               }
               c.webauthn_origins = std::move(origins);
           }},
          {"user_verification",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.webauthn_user_verification);
               if (c.webauthn_user_verification != "required" &&
                   c.webauthn_user_verification != "preferred" &&
                   c.webauthn_user_verification != "discouraged")
                   p.error(k, "must be \"required\", \"preferred\" or \"discouraged\"");
           }},
          {"timeout_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.webauthn_timeout_s, 30, 600);
           }},
          {"max_passkeys_per_user",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.webauthn_max_passkeys, 1, 100);
           }},
          {"host_rp_id", [](Parser& p, const toml::node& n, const std::string& k,
                            Config& c) { p.string(n, k, c.webauthn_host_rp_id); }},
          {"host_touch_timeout_s",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.webauthn_host_touch_timeout_s, 5, 300);
           }}}},
        {"unix",
         {{"uid_min",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.unix_uid_min, 1000, 2147483647);
           }},
          {"uid_max",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.uint(n, k, c.unix_uid_max, 1000, 2147483647);
           }},
          {"home",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.unix_home);
               if (auto st = directory::check_home_pattern(c.unix_home); !st)
                   p.error(k, st.error().message);
           }},
          {"shell",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.unix_shell);
               if (auto st = directory::check_unix_path(c.unix_shell, "the shell"); !st)
                   p.error(k, st.error().message);
           }},
          {"cache_dir",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.unix_cache_dir);
               if (!c.unix_cache_dir.empty() && c.unix_cache_dir.front() != '/')
                   p.error(k, "must be an absolute path, or empty for no cache");
           }},
          {"sudo_group",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.unix_sudo_group);
               if (auto st = directory::check_user_name(c.unix_sudo_group); !st)
                   p.error(k, "must be a group name such as \"latchkey-sudo\" (" +
                                  st.error().message + ")");
           }}}},
        {"notifier",
         {{"kind",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               std::string text;
               p.string(n, k, text);
               for (auto kind : {notify::NotifierKind::spool, notify::NotifierKind::command,
                                 notify::NotifierKind::webhook})
                   if (text == to_string(kind))
                       return void(c.notifier_kind = kind);
               p.error(k, "must be one of spool, command, webhook");
           }},
          {"spool_dir", [](Parser& p, const toml::node& n, const std::string& k,
                           Config& c) { p.string(n, k, c.notifier_spool_dir); }},
          {"command",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               const auto* arr = n.as_array();
               if (arr == nullptr)
                   return p.error(k, "must be an array of strings, such as [\"/usr/local/bin/"
                                     "send-sms\", \"--quiet\"]");
               std::vector<std::string> argv;
               for (const auto& el : *arr) {
                   auto v = el.value<std::string>();
                   if (!v || !el.is_string())
                       return p.error(k, "must be an array of strings");
                   argv.push_back(*v);
               }
               if (argv.empty() || argv.front().empty() || argv.front().front() != '/')
                   return p.error(k, "its first element must be the program's absolute path "
                                     "(no shell and no PATH search is involved)");
               c.notifier_command = std::move(argv);
           }},
          {"webhook_url",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               p.string(n, k, c.notifier_webhook_url);
               if (!p.status)
                   return;
               if (auto ok = notify::check_http_url(c.notifier_webhook_url); !ok)
                   p.error(k, ok.error().message);
           }},
          {"timeout_ms",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               std::uint32_t v = 0;
               p.uint(n, k, v, 100, 60'000);
               if (p.status)
                   c.notifier_timeout = std::chrono::milliseconds(v);
           }},
          {"retries", [](Parser& p, const toml::node& n, const std::string& k,
                         Config& c) { p.uint(n, k, c.notifier_retries, 0, 10); }}}},
        {"log",
         {{"level",
           [](Parser& p, const toml::node& n, const std::string& k, Config& c) {
               std::string text;
               p.string(n, k, text);
               for (auto l : {core::LogLevel::debug, core::LogLevel::info, core::LogLevel::notice,
                              core::LogLevel::warning, core::LogLevel::error})
                   if (text == to_string(l))
                       return void(c.log_level = l);
               p.error(k, "must be one of debug, info, notice, warning, error");
           }}}},
        {"testing",
         {{"clock_file", [](Parser& p, const toml::node& n, const std::string& k,
                            Config& c) { p.string(n, k, c.clock_file); }}}},
    };
    return s;
}

} // namespace

notify::NotifierSettings notifier_settings(const Config& c)
{
    return {c.notifier_kind,        spool_dir_path(c),     c.notifier_command,
            c.notifier_webhook_url, c.notifier_timeout,    c.notifier_retries};
}

std::string_view to_string(notify::NotifierKind k) noexcept
{
    switch (k) {
    case notify::NotifierKind::spool: return "spool";
    case notify::NotifierKind::command: return "command";
    case notify::NotifierKind::webhook: return "webhook";
    }
    return "spool";
}

std::string_view to_string(StorageEngine e) noexcept
{
    switch (e) {
    case StorageEngine::sqlite: return "sqlite";
    case StorageEngine::postgresql: return "postgresql";
    }
    return "sqlite";
}

std::string spool_dir_path(const Config& c)
{
    if (!c.notifier_spool_dir.empty())
        return c.notifier_spool_dir;
    const auto slash = c.database.rfind('/');
    return slash == std::string::npos ? std::string("spool")
                                      : c.database.substr(0, slash + 1) + "spool";
}

std::string key_file_path(const Config& c)
{
    if (!c.key_file.empty())
        return c.key_file;
    const auto slash = c.database.rfind('/');
    return slash == std::string::npos ? std::string("secret.key")
                                      : c.database.substr(0, slash + 1) + "secret.key";
}

core::Result<Config> parse_config(std::string_view toml_text, std::string_view source_name)
{
    toml::parse_result parsed = toml::parse(toml_text, source_name);
    if (!parsed) {
        const auto& e = parsed.error();
        return core::fail(Errc::config_invalid,
                          std::string(source_name) + ":" + std::to_string(e.source().begin.line) +
                              ": " + std::string(e.description()));
    }
    Parser p{std::string(source_name), {}};
    Config c;
    for (const auto& [section_key, section] : parsed.table()) {
        const std::string section_name(section_key.str());
        const auto known = schema().find(section_name);
        if (known == schema().end()) {
            p.error(section_name, "unknown section");
            break;
        }
        const auto* tbl = section.as_table();
        if (tbl == nullptr) {
            p.error(section_name, "must be a table ([" + section_name + "])");
            break;
        }
        for (const auto& [key, node] : *tbl) {
            const std::string name(key.str());
            const std::string full = section_name + "." + name;
            const auto handler = known->second.find(name);
            if (handler == known->second.end()) {
                p.error(full, "unknown key");
                break;
            }
            handler->second(p, node, full, c);
        }
        if (!p.status)
            break;
    }
    if (!p.status)
        return core::fail(std::move(p.status).error());
    if (c.oidc_tls_certificate.empty() != c.oidc_tls_private_key.empty())
        return core::fail(Errc::config_invalid,
                          std::string(source_name) +
                              ": oidc.tls_certificate and oidc.tls_private_key go together");
    if (c.notifier_kind == notify::NotifierKind::command && c.notifier_command.empty())
        return core::fail(Errc::config_invalid,
                          std::string(source_name) +
                              ": notifier.command must be set when notifier.kind is \"command\"");
    if (c.notifier_kind == notify::NotifierKind::webhook && c.notifier_webhook_url.empty())
        return core::fail(Errc::config_invalid, std::string(source_name) +
                                                    ": notifier.webhook_url must be set when "
                                                    "notifier.kind is \"webhook\"");
    if (c.unix_uid_min > c.unix_uid_max)
        return core::fail(Errc::config_invalid,
                          std::string(source_name) + ": unix.uid_min must not be above uid_max");
    if (c.storage_engine == StorageEngine::postgresql && c.storage_connection.empty())
        return core::fail(Errc::config_invalid,
                          std::string(source_name) +
                              ": storage.connection must be set when storage.engine is "
                              "\"postgresql\" (a libpq connection string such as "
                              "\"service=latchkey\")");
    if (c.pam_socket.empty() || c.admin_socket.empty() || c.database.empty())
        return core::fail(Errc::config_invalid,
                          std::string(source_name) + ": socket and database paths must be set");
    return c;
}

core::Result<Config> load_config(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        return core::fail(Errc::config_invalid, "cannot read config file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

} // namespace latchkey::daemon
