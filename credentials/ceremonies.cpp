// SPDX-License-Identifier: Apache-2.0
// Pending passkey ceremonies: a bounded, single-use map with expiry.
#include "credentials/ceremonies.hpp"

#include <algorithm>

#include "core/random.hpp"

namespace latchkey::credentials {

Ceremonies::Ceremonies(Limits limits)
    : limits_(limits)
{
}

void Ceremonies::forget_expired(core::TimePoint now)
{
    std::erase_if(entries_, [now](const auto& e) { return now >= e.second.pending.expires_at; });
}

core::Result<std::string>
Ceremonies::put(const std::string& owner, webauthn::PendingCeremony pending, core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    forget_expired(now);
    std::size_t owned = 0;
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.owner != owner)
            continue;
        ++owned;
        if (oldest == entries_.end() || it->second.order < oldest->second.order)
            oldest = it;
    }
    if (owned >= limits_.per_owner && oldest != entries_.end())
        entries_.erase(oldest);
    else if (entries_.size() >= limits_.total)
        return core::fail(core::Errc::daemon_busy,
                          "too many passkey requests are in progress; try again in a minute");
    std::string raw(32, '\0');
    core::random_bytes(raw.data(), raw.size());
    std::string id = core::base64_encode(raw, true, false);
    entries_.emplace(id, Entry{owner, std::move(pending), next_order_++});
    return id;
}

std::optional<webauthn::PendingCeremony>
Ceremonies::take(const std::string& id, const std::string& owner, core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end())
        return std::nullopt;
    const bool owners = it->second.owner == owner;
    auto pending = std::move(it->second.pending);
    entries_.erase(it);
    if (!owners || now >= pending.expires_at)
        return std::nullopt;
    return pending;
}

std::size_t Ceremonies::size() const
{
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

} // namespace latchkey::credentials
