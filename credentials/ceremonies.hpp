// SPDX-License-Identifier: Apache-2.0
// The passkey ceremonies in flight: each webauthn::PendingCeremony between its options and the
// browser's answer, bounded per user and in total, single use, and gone when it expires.
//
//   put(owner, pending, now) ──► id (random, 32 bytes as base64url) ──► the browser's page
//   take(id, owner, now)     ──► the pending ceremony, once; then never again
//
// Held in memory: a ceremony lives a few minutes, and a restart only means the user clicks
// again. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/ceremony.hpp"

namespace latchkey::credentials {

class Ceremonies {
public:
    struct Limits {
        std::size_t per_owner = 4; ///< one user's open ceremonies (tabs, retries)
        std::size_t total = 4096;  ///< everyone's, so that no one can fill memory
    };

    explicit Ceremonies(Limits limits);

    /// Keeps `pending` for `owner` (a user id, or a browser session for a discoverable sign-in)
    /// and returns its id. Expired ceremonies are forgotten first; then, at the owner's limit,
    /// the owner's oldest ceremony gives way (a user who retries is not locked out by their own
    /// abandoned tabs). Errors: Errc::daemon_busy when the total is reached by others.
    core::Result<std::string>
    put(const std::string& owner, webauthn::PendingCeremony pending, core::TimePoint now);

    /// The ceremony with this id, removed whatever the caller then decides: a replayed answer
    /// finds nothing. nullopt when unknown, taken already, expired at `now`, or another
    /// owner's (which is then gone too: an id that leaked is worth nothing).
    std::optional<webauthn::PendingCeremony>
    take(const std::string& id, const std::string& owner, core::TimePoint now);

    /// Ceremonies held now (expired ones included until the next put).
    [[nodiscard]] std::size_t size() const;

private:
    struct Entry {
        std::string owner;
        webauthn::PendingCeremony pending;
        std::uint64_t order = 0; // insertion order, to find an owner's oldest
    };

    void forget_expired(core::TimePoint now);

    Limits limits_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
    std::uint64_t next_order_ = 0;
};

} // namespace latchkey::credentials
