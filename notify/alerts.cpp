// SPDX-License-Identifier: Apache-2.0
// Alert delivery.
#include "notify/alerts.hpp"

#include "core/log.hpp"

namespace latchkey::notify {

Notification alert_notification(const directory::AuditEvent& e)
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

AlertSender::AlertSender(Notifier& notifier, directory::Audit& audit)
    : notifier_(notifier)
    , audit_(audit)
    , thread_(max_queued, SenderThread<Notification>::AtStop::deliver, [this](Notification& n) {
        audit_notification(audit_, notifier_, n, notifier_.send(n));
    })
{
}

void AlertSender::post(const directory::AuditEvent& e)
{
    if (!thread_.post(alert_notification(e)))
        core::log::error("alert " + e.event + " (audit seq " + std::to_string(e.seq) +
                   ") not sent: " + std::to_string(max_queued) + " alerts are waiting");
}

} // namespace latchkey::notify
