// SPDX-License-Identifier: Apache-2.0
// Notifier: how verification codes and alerts leave latchkey (docs/notifier.md): a spool
// directory, a command, or an HTTP webhook, chosen by the [notifier] section of the config.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::directory {
class Audit;
} // namespace latchkey::directory

namespace latchkey::notify {

enum class NotifierKind : std::uint8_t { spool, command, webhook };

/// What the [notifier] section of the config chose (docs/notifier.md).
struct NotifierSettings {
    NotifierKind kind = NotifierKind::spool;
    std::string spool_dir;                ///< spool: the directory
    std::vector<std::string> command;     ///< command: argv; argv[0] an absolute path
    std::string webhook_url;              ///< webhook: http:// or https://
    std::chrono::milliseconds timeout{5000};
    std::uint32_t retries = 2;            ///< webhook: attempts after the first
};

/// One message to deliver. Move-only, because of the code.
struct Notification {
    std::string kind;                 ///< stable: "verification_code", "alert"
    std::string account;              ///< the account it concerns
    std::optional<std::string> phone; ///< where a verification code goes (E.164)
    std::string text;                 ///< for a person; never holds the code
    std::map<std::string, std::string> fields; ///< stable key=value details; never secrets
    std::optional<core::Secret> code; ///< the only place a code travels
};

/// The message as delivered by every sink, one line of JSON with the keys in this order:
/// {"id","time","kind","account","phone","text","fields","code"}; `phone` and `code` are null
/// when absent, `time` is ISO-8601 UTC. A Secret, because it holds the code.
core::Secret notification_json(const Notification& n, std::string_view id, core::TimePoint at);

class Notifier {
public:
    virtual ~Notifier() = default;

    /// Delivers one message; blocks until it is delivered or has failed (at most about the
    /// configured timeout, times the attempts for a webhook). Errors (io_failed, mostly) say
    /// what went wrong in a message that never holds the code.
    virtual core::Status send(const Notification& n) = 0;

    /// "spool", "command" or "webhook": for logs and the audit.
    [[nodiscard]] virtual std::string_view sink() const noexcept = 0;
};

/// Writes each message to `<dir>/<time>-<id>.json` (mode 0600) atomically: a temporary file
/// `.<name>.tmp` in the same directory, fsync, rename, fsync of the directory. `dir` is
/// created (0700, with missing parents) if it does not exist.
class SpoolNotifier final : public Notifier {
public:
    SpoolNotifier(std::string dir, const core::Clock& clock);

    core::Status send(const Notification& n) override;

    [[nodiscard]] std::string_view sink() const noexcept override { return "spool"; }

private:
    std::string dir_;
    const core::Clock& clock_;
};

/// Runs `argv` (no shell; argv[0] an absolute path) with the message on stdin, stdout and
/// stderr on a pipe that is read and discarded, in a process group of its own. A run longer
/// than `timeout` is killed (the whole group); an exit status other than 0 is a failure.
class CommandNotifier final : public Notifier {
public:
    CommandNotifier(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                    const core::Clock& clock);

    core::Status send(const Notification& n) override;

    [[nodiscard]] std::string_view sink() const noexcept override { return "command"; }

private:
    std::vector<std::string> argv_;
    std::chrono::milliseconds timeout_;
    const core::Clock& clock_;
};

/// POSTs the message as application/json to `url` (daemon::http_post); 2xx is delivered.
/// A network failure, 408, 429 or 5xx is tried again, up to `retries` more times, after
/// `backoff`, then twice that, and so on; any other status fails at once.
class WebhookNotifier final : public Notifier {
public:
    static constexpr std::chrono::milliseconds default_backoff{250};

    WebhookNotifier(std::string url, std::chrono::milliseconds timeout, unsigned retries,
                    const core::Clock& clock, std::chrono::milliseconds backoff = default_backoff);

    core::Status send(const Notification& n) override;

    [[nodiscard]] std::string_view sink() const noexcept override { return "webhook"; }

private:
    std::string url_;
    std::chrono::milliseconds timeout_;
    unsigned retries_;
    const core::Clock& clock_;
    std::chrono::milliseconds backoff_;
};

/// The notifier the settings ask for. The clock must outlive it. Errors: config_invalid when
/// they are incomplete (parse_config refuses such a file already).
core::Result<std::unique_ptr<Notifier>> make_notifier(const NotifierSettings& settings,
                                                      const core::Clock& clock);

/// Audits the outcome of `notifier.send(n)`: `notify.sent` (info) or `notify.fail` (warning,
/// with `reason`), with fields kind, account and sink. Never the code, the text or the fields.
void audit_notification(directory::Audit& audit,
                        const Notifier& notifier,
                        const Notification& n,
                        const core::Status& outcome);

} // namespace latchkey::notify
