// SPDX-License-Identifier: Apache-2.0
// latchkeyd's configuration, read from TOML (etc/latchkey.toml documents every key).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "core/result.hpp"
#include "notify/notifier.hpp"
#include "credentials/password_hasher.hpp"

namespace latchkey::daemon {

/// Where the directory is kept.
enum class StorageEngine : std::uint8_t {
    sqlite,     ///< one file on this host (`database`)
    postgresql, ///< a database several nodes share (`connection`)
};

struct Config {
    // [directory]
    std::string account;               ///< the account this host is bound to ("" = none yet)
    // [storage]
    StorageEngine storage_engine = StorageEngine::sqlite;
    std::string database = "/var/lib/latchkey/latchkey.db";
    /// PostgreSQL: a libpq connection string or "service=NAME"; never a password.
    std::string storage_connection;
    std::uint32_t storage_pool_size = 0; ///< PostgreSQL connections; 0 = 2 x workers + 2
    std::string key_file;              ///< "" = secret.key beside the database (key_file_path())
    // [sockets]
    std::string pam_socket = "/run/latchkey/pam.sock";
    std::string admin_socket = "/run/latchkey/admin.sock";
    /// Read-only lookups for libnss_latchkey.so.2; empty: none.
    std::string nss_socket = "/run/latchkey/nss.sock";
    std::string admin_group = "latchkey-admin";
    std::uint32_t pam_socket_mode = 0666;
    std::uint32_t admin_socket_mode = 0660;
    std::uint32_t nss_socket_mode = 0666;
    // [limits]
    std::uint32_t workers = 0;         ///< 0 = one per core
    std::uint32_t max_connections = 256; ///< per socket: ordinary peers, and privileged ones
    std::uint32_t max_connections_per_uid = 32; ///< per socket, each uid but root and admins
    std::uint32_t max_queued = 1024;   ///< requests waiting for a worker before "busy"
    std::chrono::seconds read_timeout{10};
    std::chrono::seconds answer_timeout{300}; ///< a person answering a logon prompt
    // [lockout]
    std::uint32_t source_failures_per_user = 3; ///< per address and name, per hour
    std::uint32_t source_failures = 30;         ///< per address, any names, per hour
    // [password]
    credentials::Argon2Params argon2;
    // [mfa]
    std::uint32_t totp_window = 1;     ///< time steps accepted either side of now
    // [oidc]
    std::string oidc_listen;           ///< "127.0.0.1:8080"; "" = the provider is off
    std::string oidc_issuer;           ///< "http://localhost:8080"; "" = derived from listen
    /// Reverse proxies whose X-Forwarded-For names the client (canonical text addresses).
    std::vector<std::string> oidc_trusted_proxies;
    std::string oidc_tls_certificate;  ///< PEM chain; with the key, serve HTTPS
    std::string oidc_tls_private_key;
    std::uint32_t oidc_key_rotation_days = 30;
    std::uint32_t oidc_access_token_lifetime_s = 600;
    std::uint32_t oidc_id_token_lifetime_s = 600;
    std::uint32_t oidc_refresh_token_lifetime_s = 30 * 24 * 3600;
    std::uint32_t oidc_code_lifetime_s = 60;
    std::uint32_t oidc_refresh_grace_s = 10; ///< a just-rotated refresh token still works this long
    // [webauthn]
    std::string webauthn_rp_id;        ///< "" = the host of the OIDC issuer
    std::string webauthn_rp_name = "latchkey";
    std::vector<std::string> webauthn_origins; ///< [] = the OIDC issuer's origin
    std::string webauthn_user_verification = "preferred"; ///< required, preferred, discouraged
    std::uint32_t webauthn_timeout_s = 300;
    std::uint32_t webauthn_max_passkeys = 10; ///< per user
    std::string webauthn_host_rp_id;          ///< "" = "pam:" + the directory's domain
    std::uint32_t webauthn_host_touch_timeout_s = 30;
    // [unix]
    std::uint32_t unix_uid_min = 200000; ///< directory users' uids (and their own groups' gids)
    std::uint32_t unix_uid_max = 299999;
    std::string unix_home = "/home/%u"; ///< %u: the user's name
    std::string unix_shell = "/bin/bash";
    /// The NSS cache (passwd and group files); empty: none.
    std::string unix_cache_dir = "/var/cache/latchkey";
    std::string unix_sudo_group = "latchkey-sudo"; ///< the host account's administrators
    // [notifier]
    notify::NotifierKind notifier_kind = notify::NotifierKind::spool;
    std::string notifier_spool_dir;    ///< "" = "spool" beside the database (spool_dir_path())
    std::vector<std::string> notifier_command; ///< argv; argv[0] an absolute path
    std::string notifier_webhook_url;  ///< http:// or https://
    std::chrono::milliseconds notifier_timeout{5000};
    std::uint32_t notifier_retries = 2; ///< webhook: attempts after the first
    // [log]
    core::LogLevel log_level = core::LogLevel::info;
    // [testing]
    std::string clock_file;            ///< test-only: read "now" from this file
};

/// The key file that seals secrets at rest: `key_file`, else "secret.key" in the database's
/// directory.
std::string key_file_path(const Config& c);

/// The notifier's spool directory: `notifier_spool_dir`, else "spool" in the database's
/// directory.
std::string spool_dir_path(const Config& c);

/// The [notifier] section as the notifier takes it, with the spool directory resolved.
notify::NotifierSettings notifier_settings(const Config& c);

/// Parses TOML text. Unknown keys and values of the wrong type or range are errors
/// (config_invalid) that name the key, so a typo never silently falls back to a default.
core::Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);

/// Reads and parses a file; a missing file is an error.
core::Result<Config> load_config(const std::string& path);

std::string_view to_string(notify::NotifierKind k) noexcept;
std::string_view to_string(StorageEngine e) noexcept;

} // namespace latchkey::daemon
