// SPDX-License-Identifier: Apache-2.0
// Alert delivery.
#include "daemon/alerts.hpp"

#include "daemon/log.hpp"

namespace latchkey::daemon {

Notification alert_notification(const AuditEvent& e)
{
    Notification n;
    n.kind = "alert";
    if (const auto it = e.fields.find("account"); it != e.fields.end())
        n.account = it->second;
    n.text = format_audit_line(e);
    n.fields = e.fields;
    n.fields["event"] = e.event;
    n.fields["severity"] = std::string(to_string(e.severity));
    n.fields["seq"] = std::to_string(e.seq);
    return n;
}

AlertSender::AlertSender(Notifier& notifier, Audit& audit)
    : notifier_(notifier)
    , audit_(audit)
    , thread_([this] { run(); })
{
}

AlertSender::~AlertSender()
{
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void AlertSender::post(const AuditEvent& e)
{
    {
        const std::lock_guard lock(mutex_);
        if (queue_.size() >= max_queued) {
            log::error("alert " + e.event + " (audit seq " + std::to_string(e.seq) +
                       ") not sent: " + std::to_string(max_queued) + " alerts are waiting");
            return;
        }
        queue_.push_back(alert_notification(e));
    }
    wake_.notify_one();
}

void AlertSender::run()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty())
            return; // stopping, and everything delivered
        Notification n = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        const auto outcome = notifier_.send(n);
        audit_notification(audit_, notifier_, n, outcome);
        lock.lock();
    }
}

} // namespace latchkey::daemon
