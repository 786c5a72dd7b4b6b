// SPDX-License-Identifier: Apache-2.0
// Failed logons per source and per (source, name), in a sliding window.
#include "credentials/source_throttle.hpp"

#include <algorithm>
#include <vector>

namespace latchkey::credentials {

namespace {

std::string name_key(const std::string& source, const std::string& name)
{
    std::string k = "n";
    k += '\0';
    k += source;
    k += '\0';
    k += name;
    return k;
}

std::string source_key(const std::string& source)
{
    std::string k = "s";
    k += '\0';
    k += source;
    return k;
}

} // namespace

SourceThrottle::SourceThrottle(ThrottleLimits limits)
    : limits_(limits)
{
}

void SourceThrottle::set_limits(ThrottleLimits limits)
{
    const std::lock_guard lock(mutex_);
    limits_ = limits;
}

std::size_t SourceThrottle::keys() const
{
    const std::lock_guard lock(mutex_);
    return failures_.size();
}

std::optional<core::TimePoint> SourceThrottle::blocked(Times* times,
                                                       std::uint32_t limit,
                                                       core::TimePoint now)
{
    if (times == nullptr || limit == 0)
        return std::nullopt;
    while (!times->empty() && times->front() + limits_.window <= now)
        times->pop_front();
    if (times->size() < limit)
        return std::nullopt;
    // Free again when enough of the failures have left the window.
    return (*times)[times->size() - limit] + limits_.window;
}

std::optional<core::TimePoint> SourceThrottle::throttled_until(const std::string& source,
                                                               const std::string& name,
                                                               core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    const auto find = [&](const std::string& key) -> Times* {
        const auto it = failures_.find(key);
        return it == failures_.end() ? nullptr : &it->second;
    };
    const auto by_name = blocked(find(name_key(source, name)), limits_.per_name, now);
    const auto by_source = blocked(find(source_key(source)), limits_.per_source, now);
    if (by_name && by_source)
        return std::max(*by_name, *by_source);
    return by_name ? by_name : by_source;
}

void SourceThrottle::add(const std::string& key, std::uint32_t limit, core::TimePoint now)
{
    if (limit == 0)
        return;
    auto& times = failures_[key];
    times.push_back(now);
    while (times.size() > limit) // older ones no longer decide anything
        times.pop_front();
}

void SourceThrottle::prune(core::TimePoint now)
{
    std::erase_if(failures_, [&](const auto& kv) {
        return kv.second.empty() || kv.second.back() + limits_.window <= now;
    });
    // Called only when full, it leaves at most half the room taken, so its cost is spread over
    // the failures that fill the other half. Still full of live keys (a spray from very many
    // addresses): forget the quietest.
    const std::size_t keep = limits_.max_keys / 2;
    if (failures_.size() <= keep)
        return;
    std::vector<std::pair<core::TimePoint, const std::string*>> by_age;
    by_age.reserve(failures_.size());
    for (const auto& [k, v] : failures_)
        by_age.emplace_back(v.back(), &k);
    const auto cut = by_age.begin() + static_cast<std::ptrdiff_t>(by_age.size() - keep);
    std::nth_element(by_age.begin(), cut, by_age.end());
    std::vector<std::string> drop;
    drop.reserve(by_age.size() - keep);
    for (auto it = by_age.begin(); it != cut; ++it)
        drop.push_back(*it->second);
    for (const auto& k : drop)
        failures_.erase(k);
}

void SourceThrottle::record_failure(const std::string& source,
                                    const std::string& name,
                                    core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    if (failures_.size() + 2 > limits_.max_keys)
        prune(now);
    add(name_key(source, name), limits_.per_name, now);
    add(source_key(source), limits_.per_source, now);
}

} // namespace latchkey::credentials
