// SPDX-License-Identifier: Apache-2.0
// Alerts: audit events of severity alert, delivered through the notifier (seed 003: monitor
// root activity) on a thread of their own, so a logon never waits for a webhook.
#pragma once

#include <cstddef>

#include "directory/audit.hpp"
#include "notify/notifier.hpp"
#include "notify/sender_thread.hpp"

namespace latchkey::notify {

/// The notification of an alert: kind "alert", the event's account, its audit line as text,
/// and its fields plus `event` and `severity`. Audit fields never hold a secret.
Notification alert_notification(const directory::AuditEvent& e);

class AlertSender {
public:
    static constexpr std::size_t max_queued = 1000;

    /// Outcomes are audited with audit_notification (notify.sent / notify.fail). What is still
    /// queued when it is destroyed is delivered first.
    AlertSender(Notifier& notifier, directory::Audit& audit);

    /// Queues the alert's notification; when max_queued are waiting it is dropped and logged.
    void post(const directory::AuditEvent& e);

private:
    Notifier& notifier_;
    directory::Audit& audit_;
    SenderThread<Notification> thread_; ///< last: starts once the above are ready
};

} // namespace latchkey::notify
