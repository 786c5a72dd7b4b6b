// SPDX-License-Identifier: Apache-2.0
// The three notifier sinks, the message's one JSON form, and the audit of a delivery.
#include "notify/notifier.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "core/c_handle.hpp"
#include "core/files.hpp"
#include "core/random.hpp"
#include "directory/audit.hpp"
#include "notify/http_client.hpp"
#include "notify/subprocess.hpp"

namespace latchkey::notify {

namespace {

using core::Errc;

/// Appends `s` as a JSON string. Bytes >= 0x80 pass through (UTF-8 stays UTF-8).
void append_json_string(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20 || u == 0x7f) {
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

/// The longest JSON a string of `n` bytes can become ("\u00XX" per byte, and quotes).
std::size_t json_bound(std::size_t n)
{
    return 6 * n + 2;
}

/// "20231114T221320Z": sorts like the time it names.
std::string compact_time(core::TimePoint at)
{
    std::string t = core::to_iso8601(at);
    std::erase_if(t, [](char c) { return c == '-' || c == ':'; });
    return t;
}

/// The spool's errors say whose they are.
core::Status spool_status(core::Status st)
{
    if (st)
        return st;
    core::Error e = std::move(st).error();
    e.message = "spool: " + e.message;
    return core::fail(std::move(e));
}

/// A command's output, quoted in an error only when it cannot hold the code: the first line,
/// at most 120 printable bytes.
std::string output_summary(const ProcessOutcome& p, const Notification& n)
{
    if (p.output_size == 0)
        return {};
    if (n.code)
        return " (" + std::to_string(p.output_size) +
               " bytes of output not shown: the message carried a code)";
    std::string_view out = p.output;
    while (!out.empty() && (out.front() == '\n' || out.front() == '\r'))
        out.remove_prefix(1);
    out = out.substr(0, std::min(out.find_first_of("\r\n"), std::size_t{120}));
    std::string line;
    for (const char c : out) {
        const auto u = static_cast<unsigned char>(c);
        line += (u < 0x20 || u >= 0x7f) ? '?' : c;
    }
    return line.empty() ? std::string() : ": " + line;
}

bool worth_retrying(unsigned status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

} // namespace

core::Secret notification_json(const Notification& n, std::string_view id, core::TimePoint at)
{
    const std::string time = core::to_iso8601(at);
    std::size_t bound = 128 + json_bound(id.size()) + json_bound(time.size()) +
                        json_bound(n.kind.size()) + json_bound(n.account.size()) +
                        json_bound(n.phone ? n.phone->size() : 0) + json_bound(n.text.size()) +
                        json_bound(n.code ? n.code->size() : 0);
    for (const auto& [k, v] : n.fields)
        bound += json_bound(k.size()) + json_bound(v.size()) + 2;
    // Reserved once, so that no reallocation leaves a copy of the code in freed memory.
    std::string out;
    out.reserve(bound);
    out += "{\"id\":";
    append_json_string(out, id);
    out += ",\"time\":";
    append_json_string(out, time);
    out += ",\"kind\":";
    append_json_string(out, n.kind);
    out += ",\"account\":";
    append_json_string(out, n.account);
    out += ",\"phone\":";
    if (n.phone)
        append_json_string(out, *n.phone);
    else
        out += "null";
    out += ",\"text\":";
    append_json_string(out, n.text);
    out += ",\"fields\":{";
    bool first = true;
    for (const auto& [k, v] : n.fields) {
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, k);
        out += ':';
        append_json_string(out, v);
    }
    out += "},\"code\":";
    if (n.code)
        append_json_string(out, n.code->view());
    else
        out += "null";
    out += "}\n";
    core::Secret json(out);
    core::wipe(out.data(), out.size());
    return json;
}

// ---- spool ---------------------------------------------------------------------------------

SpoolNotifier::SpoolNotifier(std::string dir, const core::Clock& clock)
    : dir_(std::move(dir))
    , clock_(clock)
{
}

core::Status SpoolNotifier::send(const Notification& n)
{
    LATCHKEY_TRY_STATUS(spool_status(core::make_dirs(dir_, 0700)));
    const auto at = clock_.now();
    const std::string id = core::uuid_v4();
    const core::Secret json = notification_json(n, id, at);
    return spool_status(core::write_file_atomically(dir_, compact_time(at) + "-" + id + ".json",
                                                    json.view(), 0600));
}

// ---- command -------------------------------------------------------------------------------

CommandNotifier::CommandNotifier(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                                 const core::Clock& clock)
    : argv_(std::move(argv))
    , timeout_(timeout)
    , clock_(clock)
{
}

core::Status CommandNotifier::send(const Notification& n)
{
    const core::Secret json = notification_json(n, core::uuid_v4(), clock_.now());
    auto run = run_process(argv_, json.view(), timeout_);
    if (!run)
        return core::fail(Errc::io_failed, "the notifier command: " + run.error().message);
    // Its output may echo the message: wipe it here, quote it only when it cannot hold a code.
    const core::WipeOnExit wipe(run->output.data(), run->output.size());
    const std::string& program = argv_.front();
    if (run->timed_out)
        return core::fail(Errc::io_failed, "the notifier command " + program +
                                               " did not finish within " +
                                               std::to_string(timeout_.count()) +
                                               " ms and was killed");
    if (run->exit_status == 0)
        return {};
    const std::string how =
        run->exit_status > 0 ? "exited with status " + std::to_string(run->exit_status)
        : run->signal > 0    ? "was killed by signal " + std::to_string(run->signal)
                             : "ended, but its exit status is unknown";
    return core::fail(Errc::io_failed,
                      "the notifier command " + program + " " + how + output_summary(*run, n));
}

// ---- webhook -------------------------------------------------------------------------------

WebhookNotifier::WebhookNotifier(std::string url, std::chrono::milliseconds timeout,
                                 unsigned retries, const core::Clock& clock,
                                 std::chrono::milliseconds backoff)
    : url_(std::move(url))
    , timeout_(timeout)
    , retries_(retries)
    , clock_(clock)
    , backoff_(backoff)
{
}

core::Status WebhookNotifier::send(const Notification& n)
{
    const core::Secret json = notification_json(n, core::uuid_v4(), clock_.now());
    std::string body(json.view());
    const core::WipeOnExit wipe(body.data(), body.size());
    std::string last;
    auto pause = backoff_;
    const unsigned attempts = retries_ + 1;
    for (unsigned attempt = 1; attempt <= attempts; ++attempt) {
        if (attempt > 1) {
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(5000));
        }
        const auto status = http_post(url_, "application/json", body, timeout_);
        if (status && *status >= 200 && *status <= 299)
            return {};
        if (!status && status.error().is(Errc::invalid_argument))
            return core::fail(Errc::invalid_argument, "the webhook: " + status.error().message);
        last = status ? "the server answered HTTP " + std::to_string(*status)
                      : status.error().message;
        if (status && !worth_retrying(*status))
            return core::fail(Errc::io_failed, "the webhook: " + last);
    }
    return core::fail(Errc::io_failed, "the webhook failed after " + std::to_string(attempts) +
                                           (attempts == 1 ? " attempt: " : " attempts: ") + last);
}

// ---- factory and audit ---------------------------------------------------------------------

core::Result<std::unique_ptr<Notifier>> make_notifier(const NotifierSettings& settings,
                                                      const core::Clock& clock)
{
    switch (settings.kind) {
    case NotifierKind::spool:
        return std::unique_ptr<Notifier>(
            std::make_unique<SpoolNotifier>(settings.spool_dir, clock));
    case NotifierKind::command:
        if (settings.command.empty() || settings.command.front().empty() ||
            settings.command.front().front() != '/')
            return core::fail(Errc::config_invalid,
                              "notifier.command must start with the program's absolute path");
        return std::unique_ptr<Notifier>(std::make_unique<CommandNotifier>(
            settings.command, settings.timeout, clock));
    case NotifierKind::webhook:
        if (auto ok = check_http_url(settings.webhook_url); !ok)
            return core::fail(Errc::config_invalid, "notifier.webhook_url: " + ok.error().message);
        return std::unique_ptr<Notifier>(std::make_unique<WebhookNotifier>(
            settings.webhook_url, settings.timeout, settings.retries, clock));
    }
    return core::fail(Errc::config_invalid, "notifier.kind is not known");
}

void audit_notification(directory::Audit& audit,
                        const Notifier& notifier,
                        const Notification& n,
                        const core::Status& outcome)
{
    std::map<std::string, std::string> fields{
        {"kind", n.kind}, {"account", n.account}, {"sink", std::string(notifier.sink())}};
    if (outcome) {
        audit.record(directory::Severity::info, "notify.sent", std::move(fields));
        return;
    }
    fields.emplace("error", outcome.error().message);
    audit.record(directory::Severity::warning, "notify.fail", std::move(fields));
}

} // namespace latchkey::notify
