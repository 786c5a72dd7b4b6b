// SPDX-License-Identifier: Apache-2.0
// Daemon wiring and lifecycle (sd_notify, signals, reload).
#include "daemon/daemon.hpp"

#include <array>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/mfa.hpp"
#include "credentials/password_hasher.hpp"
#include "credentials/passwords.hpp"
#include "credentials/phone_codes.hpp"
#include "credentials/secret_box.hpp"
#include "daemon/admin_service.hpp"
#include "daemon/config.hpp"
#include "daemon/listen.hpp"
#include "daemon/local_names.hpp"
#include "daemon/nss_cache.hpp"
#include "daemon/nss_service.hpp"
#include "daemon/pam_service.hpp"
#include "daemon/unix_server.hpp"
#include "daemon/webauthn_settings.hpp"
#include "directory/audit.hpp"
#include "directory/authority.hpp"
#include "directory/directory.hpp"
#include "directory/host_users.hpp"
#include "directory/lifecycle.hpp"
#include "notify/alerts.hpp"
#include "notify/notifier.hpp"
#include "oidc/http_server.hpp"
#include "oidc/provider.hpp"
#include "proto/nss.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace latchkey::daemon {

namespace {

namespace asio = boost::asio;

ServerLimits limits_of(const Config& c)
{
    return {c.max_connections, c.max_connections_per_uid, c.max_queued, c.read_timeout};
}

/// Every connection is a descriptor: two sockets, each with an ordinary and a privileged pool,
/// plus the web listener's and the store's. Raise the soft limit to the hard one (systemd gives
/// services 1024 soft, 524288 hard) and say so when even that cannot hold them.
void raise_descriptor_limit(const Config& c)
{
    struct rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
    const rlim_t wanted = 4 * static_cast<rlim_t>(c.max_connections) + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted)
        core::log::warning("the descriptor limit (" + std::to_string(rl.rlim_cur) +
                           ") is below what [limits] max_connections needs (" +
                           std::to_string(wanted) + "); raise LimitNOFILE=");
}

std::uint32_t worker_count(const Config& c)
{
    if (c.workers != 0)
        return c.workers;
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : n;
}

/// The directory's store on the configured engine. PostgreSQL's pool serves every thread that
/// may touch the store at once: the logon and lookup workers, the provider's.
core::Result<std::unique_ptr<directory::Store>> open_store(const Config& c)
{
    if (c.storage_engine == StorageEngine::postgresql) {
        postgres::PoolOptions pool;
        pool.size = c.storage_pool_size != 0 ? c.storage_pool_size : 2 * worker_count(c) + 2;
        LATCHKEY_TRY(store, postgres::PgStore::open(c.storage_connection, pool));
        return std::unique_ptr<directory::Store>(std::move(store));
    }
    LATCHKEY_TRY(store, sqlite::SqliteStore::open(c.database));
    return std::unique_ptr<directory::Store>(std::move(store));
}

core::Status make_state_dir(const std::string& db_path)
{
    const auto slash = db_path.rfind('/');
    if (slash == std::string::npos || slash == 0)
        return {};
    const std::string dir = db_path.substr(0, slash);
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0)
        return {};
    if (::mkdir(dir.c_str(), 0700) != 0)
        return core::fail(core::Errc::io_failed, "cannot create the state directory " + dir);
    return {};
}

/// Takes the socket at `path` from systemd when it passed one, else binds it.
core::Result<core::UniqueFd> socket_for(std::map<std::string, core::UniqueFd>& activated,
                                        const std::string& path, mode_t mode,
                                        std::optional<gid_t> group, bool& bound_here)
{
    if (auto it = activated.find(path); it != activated.end()) {
        bound_here = false;
        auto fd = std::move(it->second);
        activated.erase(it);
        core::log::info("using socket " + path + " from systemd");
        return fd;
    }
    bound_here = true;
    return bind_unix(path, mode, group);
}

void apply_reload(const std::string& path,
                  Config& current,
                  credentials::PasswordHasher& hasher,
                  directory::Directory& directory,
                  credentials::AuthEngine& engine,
                  UnixServer& server)
{
    auto fresh = load_config(path);
    if (!fresh) {
        core::log::error("reload failed, keeping the running configuration: " + fresh.error().message);
        return;
    }
    if (fresh->pam_socket != current.pam_socket || fresh->admin_socket != current.admin_socket ||
        fresh->nss_socket != current.nss_socket ||
        fresh->unix_cache_dir != current.unix_cache_dir || fresh->database != current.database ||
        fresh->workers != current.workers || fresh->storage_engine != current.storage_engine ||
        fresh->storage_connection != current.storage_connection ||
        fresh->storage_pool_size != current.storage_pool_size ||
        fresh->clock_file != current.clock_file || fresh->key_file != current.key_file ||
        fresh->totp_window != current.totp_window ||
        fresh->oidc_trusted_proxies != current.oidc_trusted_proxies)
        core::log::warning(
            "reload: socket paths, the NSS cache directory, the storage section, key file, "
            "workers, clock, answer_timeout_s, "
            "mfa.totp_window and oidc.trusted_proxies take effect only after a restart");
    core::log::set_level(fresh->log_level);
    hasher.set_params(fresh->argon2);
    directory.set_host_account(fresh->account);
    server.set_limits(limits_of(*fresh));
    engine.set_source_limits(fresh->source_failures_per_user, fresh->source_failures);
    current.account = fresh->account;
    current.argon2 = fresh->argon2;
    current.log_level = fresh->log_level;
    current.max_connections = fresh->max_connections;
    current.max_connections_per_uid = fresh->max_connections_per_uid;
    current.source_failures_per_user = fresh->source_failures_per_user;
    current.source_failures = fresh->source_failures;
    current.max_queued = fresh->max_queued;
    current.read_timeout = fresh->read_timeout;
    core::log::info("configuration reloaded from " + path);
}

/// "127.0.0.1:8080" or "[::1]:8080" -> address and port.
core::Result<std::pair<std::string, std::uint16_t>> split_listen(const std::string& listen)
{
    const auto colon = listen.rfind(':');
    const auto bad = [&] {
        return core::fail(core::Errc::config_invalid,
                          "oidc.listen must be ADDRESS:PORT, such as 127.0.0.1:8080 or "
                          "[::1]:8080; not '" + listen + "'");
    };
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
        return bad();
    std::string host = listen.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']')
            return bad();
        host = host.substr(1, host.size() - 2);
    }
    unsigned port = 0;
    for (const char c : listen.substr(colon + 1)) {
        if (c < '0' || c > '9' || port > 65535)
            return bad();
        port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port > 65535)
        return bad();
    return std::pair<std::string, std::uint16_t>{host, static_cast<std::uint16_t>(port)};
}

/// How often the NSS cache is compared with the directory when nothing announced a change.
constexpr std::chrono::minutes nss_cache_period{5};

/// Whether an audited change may change what the host's NSS answers say.
bool changes_host_users(std::string_view event)
{
    for (const std::string_view prefix : {"user.", "role.", "account.", "directory."})
        if (event.starts_with(prefix))
            return true;
    return false;
}

void refresh_nss_cache(NssCache& cache)
{
    if (auto st = cache.refresh(); !st)
        core::log::warning("cannot write the NSS cache in " + cache.dir() + ": " +
                           st.error().message);
}

/// This machine's name, as the /device page shows a logon at it.
std::string host_name()
{
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0')
        return "this host";
    return name.data();
}

/// The issuer when the config names none: the listen address, with "localhost" for loopback.
std::string default_issuer(const Config& c, const std::string& host, std::uint16_t port)
{
    const bool loopback = host == "127.0.0.1" || host == "::1" || host == "localhost";
    const std::string scheme = c.oidc_tls_certificate.empty() ? "http" : "https";
    const std::string name = loopback ? "localhost"
                             : host.find(':') != std::string::npos ? "[" + host + "]"
                                                                   : host;
    return scheme + "://" + name + ":" + std::to_string(port);
}

} // namespace

int run(const std::string& config_path)
{
    // The daemon's own lookups (its user, the admin group, a caller's uid) never go to its own
    // NSS socket through libnss_latchkey: they would wait on themselves.
    ::setenv(proto::nss_off_variable, "1", 1);
    auto loaded = load_config(config_path);
    if (!loaded) {
        core::log::error(loaded.error().message);
        return 78; // EX_CONFIG
    }
    Config config = std::move(*loaded);
    core::log::set_level(config.log_level);
    raise_descriptor_limit(config);

    std::unique_ptr<core::Clock> clock;
    if (config.clock_file.empty()) {
        clock = std::make_unique<core::SystemClock>();
    } else {
        core::log::warning("testing.clock_file is set: time comes from " + config.clock_file +
                     " (for tests only)");
        clock = std::make_unique<core::FileClock>(config.clock_file);
    }

    if (auto st = make_state_dir(config.database); !st) {
        core::log::error(st.error().message);
        return 73; // EX_CANTCREAT
    }
    auto store = open_store(config);
    if (!store) {
        // The connection string holds no password (the config refuses one); libpq's message
        // names the server it could not reach.
        core::log::error(config.storage_engine == StorageEngine::postgresql
                             ? "cannot open the directory on PostgreSQL: " + store.error().message
                             : "cannot open the directory database " + config.database + ": " +
                                   store.error().message);
        return store.error().is(core::Errc::store_unavailable) ? 69 : 74; // EX_UNAVAILABLE
    }
    auto box = credentials::SecretBox::open(key_file_path(config));
    if (!box) {
        core::log::error(box.error().message);
        return box.error().is(core::Errc::config_invalid) ? 78 : 74;
    }
    credentials::PasswordHasher hasher(config.argon2);
    directory::Audit audit(**store, *clock);
    directory::Directory directory(**store, audit, *clock);
    credentials::Passwords passwords(**store, directory, hasher, audit, *clock);
    directory.set_host_account(config.account);
    directory.set_unix({{config.unix_uid_min, config.unix_uid_max},
                        config.unix_home,
                        config.unix_shell,
                        config.unix_sudo_group});
    if (auto assigned = directory.assign_missing_uids(); !assigned)
        core::log::warning("giving users their uids: " + assigned.error().message);
    else if (*assigned > 0)
        core::log::notice("gave " + std::to_string(*assigned) + " users their uids");
    LocalNamesFiles local_names;
    directory::HostUsers host_users(**store, directory, local_names.source());
    if (auto st = host_users.prepare(); !st)
        core::log::warning("giving the group " + config.unix_sudo_group + " its gid: " +
                           st.error().message);
    std::unique_ptr<NssCache> nss_cache;
    if (!config.unix_cache_dir.empty()) {
        nss_cache = std::make_unique<NssCache>(host_users, config.unix_cache_dir);
        audit.on_event([cache = nss_cache.get()](const directory::AuditEvent& e) {
            if (changes_host_users(e.event))
                cache->mark_changed();
        });
        refresh_nss_cache(*nss_cache);
    }
    credentials::TotpParams totp;
    totp.window = config.totp_window;
    credentials::Mfa mfa(**store, *box, audit, *clock, totp);
    credentials::AuthEngine engine(**store, directory, hasher, mfa, audit, *clock);
    engine.set_source_limits(config.source_failures_per_user, config.source_failures);
    auto host_keys = host_key_settings(config);
    if (!host_keys) {
        core::log::error(host_keys.error().message);
        return 78;
    }
    engine.set_host_keys(std::move(*host_keys));
    credentials::AccessKeys access_keys(**store, directory, *box, audit, *clock);
    credentials::Passkeys passkeys(**store, directory, audit);
    auto notifier = make_notifier(notifier_settings(config), *clock);
    if (!notifier) {
        core::log::error(notifier.error().message);
        return 78;
    }
    core::log::info("notifier: " + std::string((*notifier)->sink()));
    directory::Authority authority(**store, directory);
    directory::Lifecycle lifecycle(**store, directory, authority, audit, *clock);
    credentials::PhoneCodes codes(**store, directory, authority, passwords, **notifier, *box, audit,
                                  *clock);
    // Root activity goes to the notifier (seed 003); the sender delivers what is queued when it
    // stops, after the servers below.
    notify::AlertSender alerts(**notifier, audit);
    audit.on_alert([&alerts](const directory::AuditEvent& e) { alerts.post(e); });

    std::unique_ptr<oidc::Provider> provider;
    std::optional<std::pair<std::string, std::uint16_t>> oidc_listen;
    if (!config.oidc_listen.empty()) {
        auto where = split_listen(config.oidc_listen);
        if (!where) {
            core::log::error(where.error().message);
            return 78;
        }
        oidc_listen = *where;
        oidc::ProviderConfig pc;
        pc.issuer = config.oidc_issuer.empty()
                        ? default_issuer(config, where->first, where->second)
                        : config.oidc_issuer;
        while (!pc.issuer.empty() && pc.issuer.back() == '/')
            pc.issuer.pop_back();
        // Passkeys need a secure origin: refuse plain http anywhere but localhost now, with the
        // fix in the message, rather than pages whose passkey buttons fail in every browser.
        auto relying_party = webauthn_settings(config, pc.issuer);
        if (!relying_party) {
            core::log::error(relying_party.error().message);
            return 78;
        }
        core::log::info("passkeys: relying party " + relying_party->rp.id);
        pc.passkeys = std::move(*relying_party);
        pc.secure_cookies = !config.oidc_tls_certificate.empty() ||
                            pc.issuer.rfind("https://", 0) == 0;
        pc.key_rotation = std::chrono::hours(24 * config.oidc_key_rotation_days);
        pc.access_token_lifetime = std::chrono::seconds(config.oidc_access_token_lifetime_s);
        pc.id_token_lifetime = std::chrono::seconds(config.oidc_id_token_lifetime_s);
        pc.refresh_token_lifetime = std::chrono::seconds(config.oidc_refresh_token_lifetime_s);
        pc.code_lifetime = std::chrono::seconds(config.oidc_code_lifetime_s);
        pc.refresh_grace = std::chrono::seconds(config.oidc_refresh_grace_s);
        provider = std::make_unique<oidc::Provider>(pc, **store, directory, engine, access_keys,
                                                    *box, audit, *clock);
        if (auto st = provider->start(); !st) {
            core::log::error("the OpenID Connect provider cannot start: " + st.error().message);
            return 74;
        }
        engine.set_device_page({pc.issuer + "/device", host_name()});
    }

    const auto admin_gid = group_id(config.admin_group);
    if (!admin_gid)
        core::log::notice("group " + config.admin_group +
                    " does not exist: only root and the daemon's user may administer");

    asio::io_context io(1);
    // Logons hash on up to `workers` threads (one Argon2 buffer each: bounded memory); the
    // administrator has two threads of its own.
    // One user's logons (a spray against alice) hash on at most all workers but one, so
    // everyone else's always finds a free one (docs/security.md).
    const std::uint32_t workers = worker_count(config);
    WorkPool pam_work(workers, workers > 1 ? workers - 1 : 1);
    WorkPool pam_quick(1); // logon starts, account checks, sessions: no hashing
    WorkPool admin_work(2);
    UnixServer server(io, limits_of(config));

    auto activated = activated_sockets();
    std::vector<std::string> bound_paths;
    // Root, the daemon's user and the admin group have connection slots of their own on both
    // sockets (sshd, login and sudo run PAM as root): no other local user can take them.
    const AdminAccess admin_access{::geteuid(), admin_gid, config.admin_group, config.answer_timeout};
    const PrivilegedPeer privileged = [admin_access](const Peer& p) { return admin_access.admits(p); };
    struct Listener {
        std::string path;
        mode_t mode;
        std::optional<gid_t> group;
        std::string name;
        ConnectionFactory factory;
        WorkPool& slow;
        WorkPool& quick;
    };
    WorkPool nss_work(2); // lookups: no hashing, a store query each
    std::vector<Listener> listeners = {
        {config.pam_socket, static_cast<mode_t>(config.pam_socket_mode), std::nullopt, "pam",
         pam_connections(engine, mfa, config.answer_timeout), pam_work, pam_quick},
        {config.admin_socket, static_cast<mode_t>(config.admin_socket_mode), admin_gid, "admin",
         admin_connections({**store, directory, authority, lifecycle, codes, passwords, engine, mfa,
                            access_keys, passkeys, provider.get()},
                           admin_access),
         admin_work,
         admin_work},
    };
    if (!config.nss_socket.empty())
        listeners.push_back({config.nss_socket, static_cast<mode_t>(config.nss_socket_mode),
                             std::nullopt, "nss", nss_connections(host_users), nss_work, nss_work});
    for (const auto& l : listeners) {
        bool bound_here = false;
        auto fd = socket_for(activated, l.path, l.mode, l.group, bound_here);
        if (!fd) {
            core::log::error(fd.error().message);
            return 71; // EX_OSERR
        }
        if (bound_here)
            bound_paths.push_back(l.path);
        if (auto st = server.listen(std::move(*fd), l.name, l.factory, privileged, l.slow, l.quick); !st) {
            core::log::error(st.error().message);
            return 71;
        }
    }
    for (const auto& [path, fd] : activated)
        core::log::warning("systemd passed a socket for " + path + ", which the config does not name");
    activated.clear();

    WorkPool web_work(worker_count(config));
    std::unique_ptr<oidc::HttpServer> web;
    if (provider) {
        oidc::HttpLimits http_limits;
        http_limits.trusted_proxies = config.oidc_trusted_proxies;
        web = std::make_unique<oidc::HttpServer>(
            io, http_limits,
            [&provider](oidc::HttpRequest&& r, const oidc::HttpPeer& peer) {
                return provider->handle(std::move(r), peer);
            },
            web_work.pool());
        std::optional<oidc::TlsFiles> tls;
        if (!config.oidc_tls_certificate.empty())
            tls = oidc::TlsFiles{config.oidc_tls_certificate, config.oidc_tls_private_key};
        auto port = web->listen(oidc_listen->first, oidc_listen->second, tls);
        if (!port) {
            core::log::error("oidc.listen: " + port.error().message);
            return 71;
        }
        core::log::info("OpenID Connect provider on " + oidc_listen->first + ":" +
                  std::to_string(*port));
    }

    // The NSS cache follows the directory: soon after a change to users or roles, and every few
    // minutes whatever happened (the host's own files may have changed).
    WorkPool cache_work(1);
    asio::steady_timer cache_timer(io);
    std::function<void()> schedule_cache;
    auto cache_due = std::chrono::steady_clock::now() + nss_cache_period;
    schedule_cache = [&] {
        cache_timer.expires_after(std::chrono::seconds(1));
        cache_timer.async_wait([&](const boost::system::error_code& ec) {
            if (ec)
                return;
            const auto now = std::chrono::steady_clock::now();
            if (nss_cache->take_changed() || now >= cache_due) {
                cache_due = now + nss_cache_period;
                cache_work.post("", [&] { refresh_nss_cache(*nss_cache); });
            }
            schedule_cache();
        });
    };
    if (nss_cache)
        schedule_cache();

    asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int sig) {
            if (ec)
                return;
            if (sig == SIGHUP) {
                sd_notify(0, "RELOADING=1");
                apply_reload(config_path, config, hasher, directory, engine, server);
                if (nss_cache)
                    nss_cache->mark_changed(); // the host's account may be another now
                sd_notify(0, "READY=1");
                signals.async_wait(on_signal);
                return;
            }
            core::log::info("stopping on signal " + std::to_string(sig));
            sd_notify(0, "STOPPING=1");
            server.stop();
            if (web)
                web->stop();
            cache_timer.cancel();
            signals.cancel();
        };
    signals.async_wait(on_signal);

    core::log::info("latchkeyd " LATCHKEY_VERSION " serving: pam socket " + config.pam_socket +
                    ", admin socket " + config.admin_socket +
                    (config.storage_engine == StorageEngine::postgresql
                         ? ", directory on PostgreSQL (" + config.storage_connection + ")"
                         : ", database " + config.database) +
                    (config.account.empty() ? std::string(", bound to no account")
                                            : ", host account " + config.account));
    sd_notify(0, "READY=1");
    io.run();
    pam_work.join();
    pam_quick.join();
    admin_work.join();
    nss_work.join();
    cache_work.join();
    web_work.join();
    for (const auto& p : bound_paths)
        ::unlink(p.c_str());
    audit.on_alert({}); // what the provider audits while it stops is logged and stored only
    core::log::info("stopped");
    return 0;
}

} // namespace latchkey::daemon
