// SPDX-License-Identifier: Apache-2.0
// Unit tests of the notifier: its JSON, the spool, command and webhook sinks, the factory and
// the audit of a delivery. The webhook talks to a real HTTP server on 127.0.0.1.
#include "notify/notifier.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "directory/audit.hpp"
#include "notify/http_client.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view the_code = "424242";

Notification code_message()
{
    Notification n;
    n.kind = "verification_code";
    n.account = "web";
    n.phone = "+15550100";
    n.text = "Your latchkey verification code for web.";
    n.fields = {{"purpose", "bind_phone"}, {"actor", "uid:0"}};
    n.code = core::Secret(the_code);
    return n;
}

Notification alert_message()
{
    Notification n;
    n.kind = "alert";
    n.account = "web";
    n.text = "root logon refused on host1";
    n.fields = {{"event", "auth.deny"}};
    return n;
}

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<fs::path> files_in(const fs::path& dir)
{
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        out.push_back(e.path());
    return out;
}

unsigned mode_of(const fs::path& p)
{
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

// ---- the JSON ------------------------------------------------------------------------------

TEST(NotificationJson, HasEveryKeyInAFixedOrder)
{
    const auto at = core::from_unix(1'700'000'000);
    EXPECT_EQ(notification_json(code_message(), "id-1", at).view(),
              R"({"id":"id-1","time":"2023-11-14T22:13:20Z","kind":"verification_code",)"
              R"("account":"web","phone":"+15550100",)"
              R"("text":"Your latchkey verification code for web.",)"
              R"("fields":{"actor":"uid:0","purpose":"bind_phone"},"code":"424242"})"
              "\n");
    EXPECT_EQ(notification_json(alert_message(), "id-2", at).view(),
              R"({"id":"id-2","time":"2023-11-14T22:13:20Z","kind":"alert","account":"web",)"
              R"("phone":null,"text":"root logon refused on host1",)"
              R"("fields":{"event":"auth.deny"},"code":null})"
              "\n");
}

TEST(NotificationJson, EscapesWhatJsonNeedsEscaped)
{
    Notification n = alert_message();
    n.text = "a \"quoted\" back\\slash\nnew line\ttab \x01 caf\xc3\xa9";
    n.fields = {{"k\"ey", "v\x1f"}};
    const auto text = notification_json(n, "x", core::from_unix(0));
    boost::system::error_code ec;
    const auto v = json::parse(text.view(), ec);
    ASSERT_FALSE(ec) << text.view();
    EXPECT_EQ(v.at("text").as_string(), n.text);
    EXPECT_EQ(v.at("fields").at("k\"ey").as_string(), "v\x1f");
}

// ---- spool ---------------------------------------------------------------------------------

TEST(SpoolNotifier, WritesOneFile0600PerMessageWithTheExactJson)
{
    test_support::TempDir tmp;
    const core::ManualClock clock(core::from_unix(1'700'000'000));
    const fs::path dir = tmp.path() / "state" / "spool"; // neither exists yet
    SpoolNotifier spool(dir.string(), clock);
    ASSERT_TRUE(spool.send(code_message()));
    ASSERT_TRUE(spool.send(alert_message()));

    EXPECT_EQ(mode_of(dir), 0700u);
    EXPECT_EQ(mode_of(dir.parent_path()), 0700u);
    auto files = files_in(dir);
    ASSERT_EQ(files.size(), 2u); // and no temporary file left behind
    std::sort(files.begin(), files.end());
    std::vector<std::string> kinds;
    for (const auto& f : files) {
        const std::string name = f.filename().string();
        ASSERT_EQ(name.size(), std::string("20231114T221320Z-").size() + 36 + 5) << name;
        EXPECT_EQ(name.substr(0, 17), "20231114T221320Z-");
        const std::string id = name.substr(17, 36);
        EXPECT_TRUE(core::is_uuid(id)) << name;
        EXPECT_EQ(name.substr(53), ".json");
        EXPECT_EQ(mode_of(f), 0600u);
        const std::string content = read_file(f);
        const auto v = json::parse(content);
        const auto& kind = v.at("kind").as_string();
        kinds.emplace_back(kind.data(), kind.size());
        // Exactly the one JSON form, with this file's id and the clock's time.
        const Notification& n = kind == "alert" ? alert_message() : code_message();
        EXPECT_EQ(content, notification_json(n, id, clock.now()).view());
    }
    std::sort(kinds.begin(), kinds.end());
    EXPECT_EQ(kinds, (std::vector<std::string>{"alert", "verification_code"}));
}

TEST(SpoolNotifier, ReportsADirectoryItCannotUse)
{
    test_support::TempDir tmp;
    const core::ManualClock clock;
    std::ofstream(tmp.file("plain")) << "x";
    SpoolNotifier spool(tmp.file("plain"), clock);
    const auto st = spool.send(code_message());
    ASSERT_FALSE(st);
    EXPECT_TRUE(st.error().is(core::Errc::io_failed));
    EXPECT_EQ(st.error().message, "spool: " + tmp.file("plain") + " is not a directory");
}

// ---- command -------------------------------------------------------------------------------

std::vector<std::string> sh(const std::string& script)
{
    return {"/bin/sh", "-c", script};
}

TEST(CommandNotifier, GivesTheCommandTheJsonOnStdin)
{
    test_support::TempDir tmp;
    const core::ManualClock clock(core::from_unix(1'700'000'000));
    const std::string out = tmp.file("message.json");
    CommandNotifier cmd(sh("cat > '" + out + "'"), 5s, clock);
    const auto st = cmd.send(code_message());
    ASSERT_TRUE(st) << st.error().message;
    const std::string content = read_file(out);
    const auto v = json::parse(content);
    const auto& id = v.at("id").as_string();
    EXPECT_EQ(content, notification_json(code_message(), std::string(id.data(), id.size()),
                                         clock.now())
                           .view());
    EXPECT_EQ(v.at("code").as_string(), the_code);
}

TEST(CommandNotifier, ReportsAFailingCommandWithAShortSummary)
{
    const core::ManualClock clock;
    CommandNotifier cmd(sh("echo 'gateway said no' >&2; exit 3"), 5s, clock);
    const auto st = cmd.send(alert_message());
    ASSERT_FALSE(st);
    EXPECT_TRUE(st.error().is(core::Errc::io_failed));
    EXPECT_EQ(st.error().message,
              "the notifier command /bin/sh exited with status 3: gateway said no");
}

TEST(CommandNotifier, NeverQuotesTheOutputOfACommandThatWasGivenACode)
{
    const core::ManualClock clock;
    // It echoes its stdin (the JSON, with the code) to stderr and fails.
    CommandNotifier cmd(sh("cat >&2; exit 1"), 5s, clock);
    const auto st = cmd.send(code_message());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message.find(the_code), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("exited with status 1 ("), std::string::npos)
        << st.error().message;
    EXPECT_NE(st.error().message.find("bytes of output not shown"), std::string::npos);
}

bool running(pid_t pid)
{
    if (::kill(pid, 0) != 0)
        return false;
    // A zombie (waiting for a reaper that is not ours) does not run.
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

TEST(CommandNotifier, KillsAHangingCommandAndWhatItStartedAtTheTimeout)
{
    test_support::TempDir tmp;
    const core::ManualClock clock;
    const std::string pids = tmp.file("pids");
    CommandNotifier cmd(sh("echo $$ > '" + pids + "'; sleep 30 & echo $! >> '" + pids + "'; wait"),
                        300ms, clock);
    const auto start = std::chrono::steady_clock::now();
    const auto st = cmd.send(alert_message());
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message,
              "the notifier command /bin/sh did not finish within 300 ms and was killed");
    EXPECT_LT(took, 5s);
    std::istringstream in(read_file(pids));
    std::vector<pid_t> started;
    for (pid_t p = 0; in >> p;)
        started.push_back(p);
    ASSERT_EQ(started.size(), 2u);
    for (const pid_t p : started) {
        // The shell is reaped by us; its orphaned sleep by whoever adopts it, soon.
        for (int i = 0; i < 200 && running(p); ++i)
            std::this_thread::sleep_for(10ms);
        EXPECT_FALSE(running(p)) << p;
    }
}

TEST(CommandNotifier, ReportsAProgramThatCannotRun)
{
    const core::ManualClock clock;
    CommandNotifier cmd({"/nonexistent/latchkey-notify"}, 1s, clock);
    const auto st = cmd.send(alert_message());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "the notifier command: cannot run /nonexistent/latchkey-notify: "
                                  "No such file or directory");
}

TEST(CommandNotifier, SucceedsWhenTheCommandExitsZeroWithoutReading)
{
    const core::ManualClock clock;
    CommandNotifier cmd({"/bin/true"}, 5s, clock);
    Notification big = alert_message();
    big.text.assign(1 << 20, 'x'); // more than any socket buffer: the write sees EPIPE
    const auto st = cmd.send(big);
    EXPECT_TRUE(st) << st.error().message;
}

// ---- webhook -------------------------------------------------------------------------------

/// An HTTP server on 127.0.0.1 answering each request with the next status of `statuses`
/// (the last one repeats), recording what it received.
class WebhookServer {
public:
    struct Received {
        std::string method, target, content_type, body;
    };

    explicit WebhookServer(std::vector<unsigned> statuses)
        : statuses_(std::move(statuses))
        , acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0})
    {
        asio::co_spawn(io_, serve(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    WebhookServer(const WebhookServer&) = delete;
    WebhookServer& operator=(const WebhookServer&) = delete;

    ~WebhookServer()
    {
        io_.stop();
        thread_.join();
        boost::system::error_code ec;
        acceptor_.close(ec);
    }

    std::string url(const std::string& path = "/hook?token=t0k3n") const
    {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
    }

    std::vector<Received> received() const
    {
        const std::lock_guard lock(mutex_);
        return received_;
    }

private:
    asio::awaitable<void> serve()
    {
        constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
        for (;;) {
            auto [aec, socket] = co_await acceptor_.async_accept(tuple);
            if (aec)
                co_return;
            beast::tcp_stream stream(std::move(socket));
            stream.expires_after(10s);
            beast::flat_buffer buf;
            http::request<http::string_body> req;
            auto [rec, n] = co_await http::async_read(stream, buf, req, tuple);
            if (rec)
                continue;
            unsigned status = 0;
            {
                const std::lock_guard lock(mutex_);
                received_.push_back({std::string(req.method_string()), std::string(req.target()),
                                     std::string(req[http::field::content_type]), req.body()});
                status = statuses_[std::min(received_.size(), statuses_.size()) - 1];
            }
            http::response<http::string_body> res{static_cast<http::status>(status), 11};
            res.body() = "answer";
            res.keep_alive(false);
            res.prepare_payload();
            co_await http::async_write(stream, res, tuple);
        }
    }

    std::vector<unsigned> statuses_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    mutable std::mutex mutex_;
    std::vector<Received> received_;
    std::thread thread_;
};

/// A port nobody listens on (bound, then closed).
std::uint16_t closed_port()
{
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

// http_post itself (daemon/http_client.cpp), on the same server.
TEST(HttpPost, ReturnsWhateverStatusTheServerAnswers)
{
    WebhookServer server({418});
    const auto st = http_post(server.url("/x"), "text/plain", "hello", 2s);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(*st, 418u);
    ASSERT_EQ(server.received().size(), 1u);
    EXPECT_EQ(server.received()[0].body, "hello");
    EXPECT_EQ(server.received()[0].content_type, "text/plain");
}

TEST(HttpPost, SpeaksTlsToAnHttpsUrlAndRefusesOtherSchemes)
{
    WebhookServer plain({200}); // answers TLS with plain HTTP, so the handshake fails
    std::string url = plain.url("/x");
    url.replace(0, 4, "https");
    const auto tls = http_post(url, "text/plain", "x", 2s);
    ASSERT_FALSE(tls);
    EXPECT_TRUE(tls.error().is(core::Errc::io_failed));
    EXPECT_EQ(tls.error().message.rfind("TLS handshake: ", 0), 0u) << tls.error().message;
    const auto ftp = http_post("ftp://127.0.0.1/x", "text/plain", "x", 2s);
    ASSERT_FALSE(ftp);
    EXPECT_TRUE(ftp.error().is(core::Errc::invalid_argument));
    EXPECT_EQ(ftp.error().message, "the URL must be http or https");
}

TEST(WebhookNotifier, PostsTheJsonToTheServer)
{
    WebhookServer server({200});
    const core::ManualClock clock(core::from_unix(1'700'000'000));
    WebhookNotifier hook(server.url(), 2s, 2, clock, 10ms);
    const auto st = hook.send(code_message());
    ASSERT_TRUE(st) << st.error().message;
    const auto got = server.received();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].method, "POST");
    EXPECT_EQ(got[0].target, "/hook?token=t0k3n");
    EXPECT_EQ(got[0].content_type, "application/json");
    const auto v = json::parse(got[0].body);
    const auto& id = v.at("id").as_string();
    EXPECT_EQ(got[0].body, notification_json(code_message(), std::string(id.data(), id.size()),
                                             clock.now())
                               .view());
}

TEST(WebhookNotifier, RetriesAServerError)
{
    WebhookServer server({500, 200});
    const core::ManualClock clock;
    WebhookNotifier hook(server.url(), 2s, 2, clock, 10ms);
    const auto st = hook.send(alert_message());
    ASSERT_TRUE(st) << st.error().message;
    const auto got = server.received();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].body, got[1].body); // the same message, id included
}

TEST(WebhookNotifier, GivesUpAfterTheRetries)
{
    WebhookServer server({503});
    const core::ManualClock clock;
    WebhookNotifier hook(server.url(), 2s, 1, clock, 10ms);
    const auto st = hook.send(alert_message());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message,
              "the webhook failed after 2 attempts: the server answered HTTP 503");
    EXPECT_EQ(server.received().size(), 2u);
}

TEST(WebhookNotifier, DoesNotRetryARefusal)
{
    WebhookServer server({404, 200});
    const core::ManualClock clock;
    WebhookNotifier hook(server.url(), 2s, 2, clock, 10ms);
    const auto st = hook.send(alert_message());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "the webhook: the server answered HTTP 404");
    EXPECT_EQ(server.received().size(), 1u);
}

TEST(WebhookNotifier, FailsAfterTheRetriesWhenNobodyListens)
{
    const core::ManualClock clock;
    const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook";
    WebhookNotifier hook(url, 1s, 2, clock, 10ms);
    const auto start = std::chrono::steady_clock::now();
    const auto st = hook.send(code_message());
    ASSERT_FALSE(st);
    EXPECT_TRUE(st.error().is(core::Errc::io_failed));
    EXPECT_EQ(st.error().message,
              "the webhook failed after 3 attempts: connecting: Connection refused");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// ---- factory, audit, and the code ----------------------------------------------------------

TEST(MakeNotifier, BuildsTheConfiguredSink)
{
    const core::ManualClock clock;
    NotifierSettings c;
    c.spool_dir = "/nonexistent/spool";
    auto spool = make_notifier(c, clock);
    ASSERT_TRUE(spool) << spool.error().message;
    EXPECT_EQ((*spool)->sink(), "spool");
    c.kind = NotifierKind::command;
    c.command = {"/bin/true"};
    auto cmd = make_notifier(c, clock);
    ASSERT_TRUE(cmd) << cmd.error().message;
    EXPECT_EQ((*cmd)->sink(), "command");
    c.kind = NotifierKind::webhook;
    c.webhook_url = "https://hooks.example/x";
    auto hook = make_notifier(c, clock);
    ASSERT_TRUE(hook) << hook.error().message;
    EXPECT_EQ((*hook)->sink(), "webhook");
    c.webhook_url = "mailto:root@example";
    const auto bad = make_notifier(c, clock);
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().is(core::Errc::config_invalid));
}

TEST(Notifier, NoErrorMessageOrAuditEventHoldsTheCodeOrTheText)
{
    test_support::TempDir tmp;
    const core::ManualClock clock;
    auto store = sqlite::SqliteStore::open(tmp.file("audit.db"));
    ASSERT_TRUE(store) << store.error().message;
    directory::Audit audit(**store, clock);
    std::ofstream(tmp.file("plain")) << "x";
    WebhookServer server({500});

    // Every sink made to fail on a message with a code; the command and the server see it.
    std::vector<std::unique_ptr<Notifier>> sinks;
    sinks.push_back(std::make_unique<SpoolNotifier>(tmp.file("plain"), clock));
    sinks.push_back(std::make_unique<CommandNotifier>(sh("cat; cat >&2; exit 2"), 5s, clock));
    sinks.push_back(std::make_unique<CommandNotifier>(sh("cat >&2; sleep 30"), 300ms, clock));
    sinks.push_back(std::make_unique<WebhookNotifier>(server.url(), 2s, 1, clock, 10ms));
    sinks.push_back(std::make_unique<WebhookNotifier>(
        "http://127.0.0.1:" + std::to_string(closed_port()) + "/", 1s, 0, clock, 10ms));
    const Notification n = code_message();
    for (const auto& s : sinks) {
        const auto st = s->send(n);
        ASSERT_FALSE(st) << s->sink();
        EXPECT_EQ(st.error().message.find(the_code), std::string::npos) << st.error().message;
        audit_notification(audit, *s, n, st);
    }
    ASSERT_FALSE(server.received().empty());
    EXPECT_NE(server.received()[0].body.find(the_code), std::string::npos);

    SpoolNotifier good((tmp.path() / "spool").string(), clock);
    audit_notification(audit, good, n, good.send(n));

    const auto events = (*store)->audit({});
    ASSERT_TRUE(events) << events.error().message;
    ASSERT_EQ(events->size(), sinks.size() + 1);
    EXPECT_EQ(events->front().event, "notify.sent"); // newest first
    EXPECT_EQ(events->front().severity, directory::Severity::info);
    EXPECT_EQ(events->front().fields.at("sink"), "spool");
    for (const auto& e : *events) {
        EXPECT_EQ(e.fields.at("kind"), "verification_code");
        EXPECT_EQ(e.fields.at("account"), "web");
        const std::string line = format_audit_line(e);
        EXPECT_EQ(line.find(the_code), std::string::npos) << line;
        EXPECT_EQ(line.find(n.text), std::string::npos) << line;
        EXPECT_EQ(line.find("bind_phone"), std::string::npos) << line;
        EXPECT_EQ(e.severity, e.event == "notify.fail" ? directory::Severity::warning
                                                       : directory::Severity::info);
    }
}

} // namespace
} // namespace latchkey::notify
