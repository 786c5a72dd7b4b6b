// SPDX-License-Identifier: Apache-2.0
// Alerts: audit events of severity alert, delivered through the notifier (seed 003: monitor
// root activity) on a thread of their own, so a logon never waits for a webhook.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include "daemon/audit.hpp"
#include "daemon/notifier.hpp"

namespace latchkey::daemon {

/// The notification of an alert: kind "alert", the event's account, its audit line as text,
/// and its fields plus `event` and `severity`. Audit fields never hold a secret.
Notification alert_notification(const AuditEvent& e);

class AlertSender {
public:
    static constexpr std::size_t max_queued = 1000;

    /// Outcomes are audited with audit_notification (notify.sent / notify.fail).
    AlertSender(Notifier& notifier, Audit& audit);
    /// Delivers what is still queued, then stops the thread.
    ~AlertSender();

    AlertSender(const AlertSender&) = delete;
    AlertSender& operator=(const AlertSender&) = delete;

    /// Queues the alert's notification; when max_queued are waiting it is dropped and logged.
    void post(const AuditEvent& e);

private:
    void run();

    Notifier& notifier_;
    Audit& audit_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Notification> queue_;
    bool stopping_ = false;
    std::thread thread_; ///< last: starts once everything above is ready
};

} // namespace latchkey::daemon
