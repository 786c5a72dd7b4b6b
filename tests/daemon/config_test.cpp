// SPDX-License-Identifier: Apache-2.0
// Unit tests of config parsing, names, networks and key=value assignment.
#include <gtest/gtest.h>

#include "directory/assign.hpp"
#include "daemon/config.hpp"
#include "daemon/webauthn_settings.hpp"
#include "directory/names.hpp"
#include "directory/network.hpp"
#include "proto/messages.hpp"

namespace latchkey::daemon {
namespace {

TEST(Config, EmptyFileGivesTheDocumentedDefaults)
{
    const auto c = parse_config("", "test.toml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->database, "/var/lib/latchkey/latchkey.db");
    EXPECT_EQ(c->pam_socket, "/run/latchkey/pam.sock");
    EXPECT_EQ(c->admin_socket, "/run/latchkey/admin.sock");
    EXPECT_EQ(c->admin_group, "latchkey-admin");
    EXPECT_EQ(c->pam_socket_mode, 0666u);
    EXPECT_EQ(c->admin_socket_mode, 0660u);
    EXPECT_EQ(c->argon2.memory_kib, 65536u);
    EXPECT_EQ(c->read_timeout, std::chrono::seconds(10));
    EXPECT_EQ(c->max_connections_per_uid, 32u);
    EXPECT_EQ(c->source_failures_per_user, 3u);
    EXPECT_EQ(c->source_failures, 30u);
    EXPECT_EQ(c->account, "");
}

TEST(Config, TrustedProxiesAreIpAddressesInTheirUsualForm)
{
    const auto c = parse_config("[oidc]\ntrusted_proxies = [\"127.0.0.1\", \"0:0::1\", \"::ffff:10.0.0.1\"]\n",
                                "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->oidc_trusted_proxies, (std::vector<std::string>{"127.0.0.1", "::1", "10.0.0.1"}));
    for (const char* bad : {"[oidc]\ntrusted_proxies = [\"proxy.example\"]\n",
                            "[oidc]\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
                            "[oidc]\ntrusted_proxies = \"127.0.0.1\"\n"}) {
        const auto r = parse_config(bad, "t.toml");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("oidc.trusted_proxies"), std::string::npos)
            << r.error().message;
    }
}

TEST(Config, UnixIdsAreARangeAboveTheHostsOwnUsers)
{
    const auto d = parse_config("", "t.toml");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->unix_uid_min, 200000U);
    EXPECT_EQ(d->unix_uid_max, 299999U);
    EXPECT_EQ(d->unix_home, "/home/%u");
    EXPECT_EQ(d->unix_shell, "/bin/bash");
    EXPECT_EQ(d->unix_sudo_group, "latchkey-sudo");
    const auto c =
        parse_config("[unix]\nuid_min = 70000\nuid_max = 79999\nhome = \"/srv/home/%u\"\n"
                     "shell = \"/bin/zsh\"\n",
                     "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->unix_uid_min, 70000U);
    EXPECT_EQ(c->unix_home, "/srv/home/%u");
    for (const auto& [bad, says] : std::vector<std::pair<std::string, std::string>>{
             {"[unix]\nuid_min = 0\n", "unix.uid_min"},
             {"[unix]\nuid_min = 999\n", "unix.uid_min"},
             {"[unix]\nuid_min = 300000\nuid_max = 200000\n", "unix.uid_min must not be above"},
             {"[unix]\nhome = \"/home\"\n", "unix.home"},
             {"[unix]\nhome = \"home/%u\"\n", "unix.home"},
             {"[unix]\nhome = \"/home/%d/%u\"\n", "no other '%'"},
             {"[unix]\nhome = \"/home/../%u\"\n", "unix.home"},
             {"[unix]\nshell = \"bash\"\n", "unix.shell"},
             {"[unix]\nshell = \"/bin/a:b\"\n", "unix.shell"},
             {"[unix]\nsudo_group = \"Admins\"\n", "unix.sudo_group"},
             {"[unix]\nsudo_group = \"root\"\n", "unix.sudo_group"}}) {
        const auto r = parse_config(bad, "t.toml");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
    }
}

TEST(Config, StorageIsSqliteUnlessPostgresqlIsAskedForWithAConnection)
{
    const auto d = parse_config("", "t.toml");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->storage_engine, StorageEngine::sqlite);
    EXPECT_EQ(d->storage_connection, "");
    EXPECT_EQ(d->storage_pool_size, 0u);

    const auto pg = parse_config("[storage]\nengine = \"postgresql\"\n"
                                 "connection = \"service=latchkey\"\npool_size = 12\n",
                                 "t.toml");
    ASSERT_TRUE(pg) << pg.error().message;
    EXPECT_EQ(pg->storage_engine, StorageEngine::postgresql);
    EXPECT_EQ(pg->storage_connection, "service=latchkey");
    EXPECT_EQ(pg->storage_pool_size, 12u);
    EXPECT_TRUE(parse_config("[storage]\nengine = \"postgresql\"\n"
                             "connection = \"postgresql://latchkey@db.internal/latchkey\"\n",
                             "t.toml"));

    const auto missing = parse_config("[storage]\nengine = \"postgresql\"\n", "t.toml");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("storage.connection must be set"), std::string::npos)
        << missing.error().message;
    const auto unknown = parse_config("[storage]\nengine = \"mysql\"\n", "t.toml");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("sqlite, postgresql"), std::string::npos);
    const auto garbled = parse_config("[storage]\nconnection = \"host=db port\"\n", "t.toml");
    ASSERT_FALSE(garbled);
    EXPECT_NE(garbled.error().message.find("storage.connection"), std::string::npos);
}

TEST(Config, APasswordNeverLivesInTheConfigFile)
{
    for (const char* connection :
         {"host=db password=hunter2-secret", "postgresql://latchkey:hunter2-secret@db/latchkey"}) {
        const auto c = parse_config(std::string("[storage]\nengine = \"postgresql\"\n"
                                                "connection = \"") +
                                        connection + "\"\n",
                                    "t.toml");
        ASSERT_FALSE(c) << connection;
        EXPECT_NE(c.error().message.find("passfile"), std::string::npos) << c.error().message;
        EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
    }
}

TEST(Config, ShippedExampleParses)
{
    // etc/latchkey.toml is the documentation of every key; it must stay valid.
    const auto c = load_config(LATCHKEY_SOURCE_DIR "/etc/latchkey.toml");
    ASSERT_TRUE(c) << c.error().message;
}

TEST(Config, ReadsEverySection)
{
    const auto c = parse_config(R"(
[directory]
account = "web"
[storage]
database = "/tmp/x.db"
[sockets]
pam = "/tmp/p.sock"
admin = "/tmp/a.sock"
admin_mode = "0600"
[limits]
workers = 3
read_timeout_s = 2
max_connections = 64
max_connections_per_uid = 4
[lockout]
source_failures_per_user = 2
source_failures = 10
[password]
argon2_memory_kib = 8192
[log]
level = "debug"
[testing]
clock_file = "/tmp/clock"
)",
                                "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->account, "web");
    EXPECT_EQ(c->admin_socket_mode, 0600u);
    EXPECT_EQ(c->workers, 3u);
    EXPECT_EQ(c->read_timeout, std::chrono::seconds(2));
    EXPECT_EQ(c->max_connections, 64u);
    EXPECT_EQ(c->max_connections_per_uid, 4u);
    EXPECT_EQ(c->source_failures_per_user, 2u);
    EXPECT_EQ(c->source_failures, 10u);
    EXPECT_EQ(c->argon2.memory_kib, 8192u);
    EXPECT_EQ(c->log_level, core::LogLevel::debug);
    EXPECT_EQ(c->clock_file, "/tmp/clock");
}

TEST(Config, NamesTheOffendingKey)
{
    const auto msg = [](const char* text) {
        const auto c = parse_config(text, "t.toml");
        EXPECT_FALSE(c) << text;
        return c ? std::string() : c.error().message;
    };
    EXPECT_EQ(msg("[storage]\ndatabse = \"x\""), "t.toml: storage.databse: unknown key");
    EXPECT_EQ(msg("[nonsense]\n"), "t.toml: nonsense: unknown section");
    EXPECT_EQ(msg("[limits]\nworkers = \"four\""), "t.toml: limits.workers: must be an integer");
    EXPECT_EQ(msg("[limits]\nworkers = -1"), "t.toml: limits.workers: must be between 0 and 256");
    EXPECT_EQ(msg("[sockets]\npam_mode = \"0999\""),
              "t.toml: sockets.pam_mode: must be an octal mode such as \"0660\"");
    EXPECT_EQ(msg("[log]\nlevel = \"loud\""),
              "t.toml: log.level: must be one of debug, info, notice, warning, error");
    EXPECT_NE(msg("[storage\n").find("t.toml:1:"), std::string::npos);
    EXPECT_EQ(msg("storage = 1"), "t.toml: storage: must be a table ([storage])");
}

TEST(Config, NotifierDefaultsToASpoolBesideTheDatabase)
{
    auto c = parse_config("", "t.toml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->notifier_kind, notify::NotifierKind::spool);
    EXPECT_EQ(spool_dir_path(*c), "/var/lib/latchkey/spool");
    EXPECT_TRUE(c->notifier_command.empty());
    EXPECT_EQ(c->notifier_webhook_url, "");
    EXPECT_EQ(c->notifier_timeout, std::chrono::milliseconds(5000));
    EXPECT_EQ(c->notifier_retries, 2u);
    c->database = "state.db";
    EXPECT_EQ(spool_dir_path(*c), "spool");
    c->notifier_spool_dir = "/srv/spool";
    EXPECT_EQ(spool_dir_path(*c), "/srv/spool");
}

TEST(Config, ReadsEachNotifierKind)
{
    const auto cmd = parse_config(R"(
[notifier]
kind = "command"
command = ["/usr/local/bin/send-sms", "--gateway", "a b"]
timeout_ms = 1500
)",
                                  "t.toml");
    ASSERT_TRUE(cmd) << cmd.error().message;
    EXPECT_EQ(cmd->notifier_kind, notify::NotifierKind::command);
    EXPECT_EQ(cmd->notifier_command,
              (std::vector<std::string>{"/usr/local/bin/send-sms", "--gateway", "a b"}));
    EXPECT_EQ(cmd->notifier_timeout, std::chrono::milliseconds(1500));

    const auto hook = parse_config(R"(
[notifier]
kind = "webhook"
webhook_url = "https://alerts.example.internal/hook?token=x"
retries = 0
)",
                                   "t.toml");
    ASSERT_TRUE(hook) << hook.error().message;
    EXPECT_EQ(hook->notifier_kind, notify::NotifierKind::webhook);
    EXPECT_EQ(hook->notifier_webhook_url, "https://alerts.example.internal/hook?token=x");
    EXPECT_EQ(hook->notifier_retries, 0u);

    const auto spool = parse_config("[notifier]\nkind = \"spool\"\nspool_dir = \"/tmp/sp\"", "t");
    ASSERT_TRUE(spool) << spool.error().message;
    EXPECT_EQ(spool_dir_path(*spool), "/tmp/sp");
}

TEST(Config, ExplainsBadNotifierValues)
{
    const auto msg = [](const char* text) {
        const auto c = parse_config(text, "t.toml");
        EXPECT_FALSE(c) << text;
        return c ? std::string() : c.error().message;
    };
    EXPECT_EQ(msg("[notifier]\nkind = \"sms\""),
              "t.toml: notifier.kind: must be one of spool, command, webhook");
    EXPECT_EQ(msg("[notifier]\nkind = \"command\""),
              "t.toml: notifier.command must be set when notifier.kind is \"command\"");
    EXPECT_EQ(msg("[notifier]\nkind = \"webhook\""),
              "t.toml: notifier.webhook_url must be set when notifier.kind is \"webhook\"");
    EXPECT_EQ(msg("[notifier]\ncommand = \"/bin/true\""),
              "t.toml: notifier.command: must be an array of strings, such as "
              "[\"/usr/local/bin/send-sms\", \"--quiet\"]");
    EXPECT_EQ(msg("[notifier]\ncommand = [\"/bin/echo\", 1]"),
              "t.toml: notifier.command: must be an array of strings");
    EXPECT_EQ(msg("[notifier]\ncommand = [\"sendmail\"]"),
              "t.toml: notifier.command: its first element must be the program's absolute path "
              "(no shell and no PATH search is involved)");
    EXPECT_EQ(msg("[notifier]\ncommand = []"),
              "t.toml: notifier.command: its first element must be the program's absolute path "
              "(no shell and no PATH search is involved)");
    EXPECT_EQ(msg("[notifier]\nwebhook_url = \"ftp://x/y\""),
              "t.toml: notifier.webhook_url: the URL must be http or https");
    EXPECT_EQ(msg("[notifier]\nwebhook_url = \"not a url\""),
              "t.toml: notifier.webhook_url: the URL is not a URI");
    EXPECT_EQ(msg("[notifier]\ntimeout_ms = 10"),
              "t.toml: notifier.timeout_ms: must be between 100 and 60000");
    EXPECT_EQ(msg("[notifier]\nretries = 11"),
              "t.toml: notifier.retries: must be between 0 and 10");
    EXPECT_EQ(msg("[notifier]\nspool = \"x\""), "t.toml: notifier.spool: unknown key");
}

TEST(Names, AcceptOnlyValidAccountNamesAndDomains)
{
    EXPECT_TRUE(directory::check_account_name("web-1"));
    EXPECT_FALSE(directory::check_account_name("-web"));
    EXPECT_FALSE(directory::check_account_name("Web"));
    EXPECT_FALSE(directory::check_account_name(std::string(64, 'a')));
    EXPECT_TRUE(directory::check_domain("example.internal"));
    EXPECT_TRUE(directory::check_domain("a.b.c.example"));
    EXPECT_FALSE(directory::check_domain("localhost"));
    EXPECT_FALSE(directory::check_domain("exa mple.internal"));
    EXPECT_FALSE(directory::check_domain("example..internal"));
}

TEST(Names, ReserveRootAndRejectOddUserNames)
{
    EXPECT_TRUE(directory::check_user_name("alice"));
    EXPECT_TRUE(directory::check_user_name("_svc.backup-1"));
    EXPECT_FALSE(directory::check_user_name("1alice"));
    EXPECT_FALSE(directory::check_user_name("Alice"));
    EXPECT_FALSE(directory::check_user_name("al ice"));
    EXPECT_FALSE(directory::check_user_name(std::string(33, 'a')));
    const auto root = directory::check_user_name("root");
    ASSERT_FALSE(root);
    EXPECT_NE(root.error().message.find("reserved"), std::string::npos);
    EXPECT_FALSE(directory::check_display_name("bad\nname"));
    EXPECT_TRUE(directory::check_display_name("Alice Liddell"));
}

TEST(Network, MatchesAddressesInCidrs)
{
    const auto v4 = directory::parse_cidr("10.1.0.0/16");
    ASSERT_TRUE(v4);
    EXPECT_TRUE(directory::contains(*v4, "10.1.2.3"));
    EXPECT_FALSE(directory::contains(*v4, "10.2.0.1"));
    EXPECT_FALSE(directory::contains(*v4, "::1"));
    const auto v6 = directory::parse_cidr("2001:db8::/32");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(directory::contains(*v6, "2001:db8::1"));
    EXPECT_FALSE(directory::contains(*v6, "2001:db9::1"));
    const auto host = directory::parse_cidr("127.0.0.1");
    ASSERT_TRUE(host);
    EXPECT_TRUE(directory::contains(*host, "127.0.0.1"));
    EXPECT_FALSE(directory::contains(*host, "127.0.0.2"));
    EXPECT_FALSE(directory::parse_cidr("10.0.0.0/"));
    EXPECT_FALSE(directory::parse_cidr("banana"));
}

TEST(Assign, SetsDescribedFieldsFromText)
{
    proto::PasswordPolicy p;
    EXPECT_TRUE(directory::assign(p, "min_length", "12"));
    EXPECT_TRUE(directory::assign(p, "require_symbol", "no"));
    EXPECT_EQ(p.min_length, 12u);
    EXPECT_FALSE(p.require_symbol);
    proto::SecuritySettings s;
    EXPECT_TRUE(directory::assign(s, "allowed_networks", "10.0.0.0/8, 192.168.0.0/16"));
    EXPECT_EQ(s.allowed_networks.size(), 2u);
    EXPECT_TRUE(directory::assign(s, "allowed_networks", ""));
    EXPECT_TRUE(s.allowed_networks.empty());
    EXPECT_TRUE(directory::assign(s, "device_approval", "instead_of_password"));
    EXPECT_EQ(s.device_approval, proto::DeviceApproval::instead_of_password);
    const auto bad = directory::assign(s, "device_approval", "sometimes");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message,
              "device_approval must be one of off, after_password, instead_of_password");
    EXPECT_EQ(s.device_approval, proto::DeviceApproval::instead_of_password);
}

TEST(Assign, ExplainsBadKeysAndValues)
{
    proto::PasswordPolicy p;
    const auto unknown = directory::assign(p, "min_lenght", "9");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("known keys: min_length"), std::string::npos);
    const auto bad = directory::assign(p, "min_length", "nine");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "min_length must be a whole number");
    EXPECT_FALSE(directory::assign(p, "hard_expiry", "maybe"));
}

} // namespace
} // namespace latchkey::daemon

namespace latchkey::daemon {
namespace {

TEST(WebauthnSettings, TakeTheRelyingPartyFromTheIssuer)
{
    const auto c = parse_config("", "t.toml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->webauthn_rp_name, "latchkey");
    EXPECT_EQ(c->webauthn_max_passkeys, 10u);
    auto s = webauthn_settings(*c, "http://localhost:8080");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->rp.id, "localhost");
    EXPECT_EQ(s->rp.origins, std::vector<std::string>{"http://localhost:8080"});
    EXPECT_EQ(s->user_verification, webauthn::UserVerification::preferred);
    EXPECT_EQ(s->timeout, std::chrono::seconds(300));
    s = webauthn_settings(*c, "https://Login.Example.org/sso");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->rp.id, "login.example.org");
    EXPECT_EQ(s->rp.origins, std::vector<std::string>{"https://Login.Example.org"});
}

TEST(WebauthnSettings, ReadTheirSection)
{
    const auto c = parse_config(R"([webauthn]
rp_id = "example.org"
rp_name = "Example"
origins = ["https://login.example.org", "https://example.org:8443"]
user_verification = "required"
timeout_s = 120
max_passkeys_per_user = 3
)",
                                "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    auto s = webauthn_settings(*c, "https://login.example.org");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->rp.id, "example.org");
    EXPECT_EQ(s->rp.name, "Example");
    EXPECT_EQ(s->rp.origins.size(), 2U);
    EXPECT_EQ(s->user_verification, webauthn::UserVerification::required);
    EXPECT_EQ(s->timeout, std::chrono::seconds(120));
    EXPECT_EQ(s->max_passkeys_per_user, 3U);
    for (const char* bad : {"[webauthn]\nuser_verification = \"always\"\n",
                            "[webauthn]\ntimeout_s = 5\n", "[webauthn]\norigins = \"https://a\"\n",
                            "[webauthn]\nmax_passkeys_per_user = 0\n", "[webauthn]\nrp = \"x\"\n"}) {
        const auto r = parse_config(bad, "t.toml");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("webauthn."), std::string::npos) << r.error().message;
    }
}

TEST(HostKeySettings, DefaultToTheDirectoryDomainAndTakeAPamRelyingParty)
{
    const auto defaults = parse_config("", "t.toml");
    ASSERT_TRUE(defaults);
    const auto d = host_key_settings(*defaults);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->rp_id, ""); // "pam:" + the directory's domain, at each logon
    EXPECT_EQ(d->touch_timeout, std::chrono::seconds(30));
    EXPECT_EQ(d->user_verification, webauthn::UserVerification::preferred);

    const auto c = parse_config("[webauthn]\nhost_rp_id = \"PAM:Corp.Example\"\n"
                                "host_touch_timeout_s = 15\nuser_verification = \"required\"\n",
                                "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    const auto s = host_key_settings(*c);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->rp_id, "pam:corp.example");
    EXPECT_EQ(s->touch_timeout, std::chrono::seconds(15));
    EXPECT_EQ(s->user_verification, webauthn::UserVerification::required);

    for (const char* bad : {"corp.example", "pam:", "pam:10.0.0.1", "https://corp.example"}) {
        auto config = *defaults;
        config.webauthn_host_rp_id = bad;
        const auto r = host_key_settings(config);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("webauthn.host_rp_id"), std::string::npos);
    }
    EXPECT_FALSE(parse_config("[webauthn]\nhost_touch_timeout_s = 1\n", "t.toml"));
}

TEST(WebauthnSettings, RefusePlainHttpAnywhereButLocalhost)
{
    const auto c = parse_config("", "t.toml");
    ASSERT_TRUE(c);
    EXPECT_TRUE(webauthn_settings(*c, "http://app.localhost:8080"));
    const auto http = webauthn_settings(*c, "http://login.example.org");
    ASSERT_FALSE(http);
    EXPECT_TRUE(http.error().is(core::Errc::config_invalid));
    EXPECT_NE(http.error().message.find("tls_certificate"), std::string::npos);
    // An IP address is never an RP id.
    const auto ip = webauthn_settings(*c, "https://192.0.2.1:8443");
    ASSERT_FALSE(ip);
    EXPECT_NE(ip.error().message.find("webauthn.rp_id"), std::string::npos);
}

TEST(WebauthnSettings, RefuseOriginsOutsideTheRpId)
{
    auto c = parse_config(R"([webauthn]
rp_id = "example.org"
origins = ["https://login.example.org", "https://example.com"]
)",
                          "t.toml");
    ASSERT_TRUE(c);
    auto s = webauthn_settings(*c, "https://login.example.org");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("https://example.com"), std::string::npos);
    for (const char* origin : {"https://badexample.org", "https://example.org/path",
                               "ftp://example.org", "https://", "example.org",
                               "https://example.org:port", "https://user@example.org"}) {
        c->webauthn_origins = {origin};
        EXPECT_FALSE(webauthn_settings(*c, "https://example.org")) << origin;
    }
    c->webauthn_origins = {"https://example.org", "https://a.b.example.org:444"};
    EXPECT_TRUE(webauthn_settings(*c, "https://example.org"));
}

} // namespace
} // namespace latchkey::daemon
