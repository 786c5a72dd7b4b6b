// SPDX-License-Identifier: Apache-2.0
// Audit: every security-relevant event goes to the append-only table and to the log.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/clock.hpp"
#include "directory/model.hpp"
#include "directory/store.hpp"

namespace latchkey::directory {

class Audit {
public:
    Audit(Store& store, const core::Clock& clock)
        : store_(store)
        , clock_(clock)
    {
    }

    /// Records `event` with `fields` (never a secret). A store failure is logged, not thrown:
    /// the operation being audited has already happened.
    void record(Severity severity, std::string event, std::map<std::string, std::string> fields);

    /// Told of every event of severity alert after it is stored (the daemon hands them to the
    /// notifier: seed 003's monitoring of root activity). Set once, before any request is served;
    /// it must not block.
    using AlertHook = std::function<void(const AuditEvent&)>;
    void on_alert(AlertHook hook) { alert_ = std::move(hook); }
    /// Told of every event after it is stored (the daemon's NSS cache learns of changes to users
    /// and roles). Set once, before any request is served; it must not block.
    void on_event(AlertHook hook) { event_ = std::move(hook); }

private:
    Store& store_;
    const core::Clock& clock_;
    AlertHook alert_;
    AlertHook event_;
};

/// "user.create actor=uid:0 user=alice" — the event as one log line.
std::string format_audit_line(const AuditEvent& e);

} // namespace latchkey::directory
