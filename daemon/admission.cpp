// SPDX-License-Identifier: Apache-2.0
// Connection slots per socket: a privileged pool, an ordinary pool and a cap per ordinary uid.
#include "daemon/admission.hpp"

namespace latchkey::daemon {

struct Admission::Counts {
    mutable std::mutex mutex;
    AdmissionLimits limits;
    std::uint32_t ordinary = 0;
    std::uint32_t privileged = 0;
    std::map<uid_t, std::uint32_t> per_uid; ///< ordinary peers only; a uid leaves at 0

    void release(uid_t uid, bool is_privileged)
    {
        const std::lock_guard lock(mutex);
        if (is_privileged) {
            --privileged;
            return;
        }
        --ordinary;
        if (auto it = per_uid.find(uid); it != per_uid.end() && --it->second == 0)
            per_uid.erase(it);
    }
};

Admission::Ticket::~Ticket()
{
    if (counts_)
        counts_->release(uid_, privileged_);
}

Admission::Admission()
    : counts_(std::make_shared<Counts>())
{
}

std::variant<Admission::Ticket, Refusal> Admission::admit(uid_t uid, bool is_privileged)
{
    const std::lock_guard lock(counts_->mutex);
    const auto& limits = counts_->limits;
    if (is_privileged) {
        if (counts_->privileged >= limits.max_connections)
            return Refusal::socket_full;
        ++counts_->privileged;
        return Ticket(counts_, uid, true);
    }
    if (counts_->ordinary >= limits.max_connections)
        return Refusal::socket_full;
    auto& mine = counts_->per_uid[uid];
    if (mine >= limits.max_per_uid) {
        if (mine == 0)
            counts_->per_uid.erase(uid);
        return Refusal::uid_full;
    }
    ++mine;
    ++counts_->ordinary;
    return Ticket(counts_, uid, false);
}

void Admission::set_limits(AdmissionLimits limits)
{
    const std::lock_guard lock(counts_->mutex);
    counts_->limits = limits;
}

std::uint32_t Admission::ordinary() const
{
    const std::lock_guard lock(counts_->mutex);
    return counts_->ordinary;
}

std::uint32_t Admission::privileged() const
{
    const std::lock_guard lock(counts_->mutex);
    return counts_->privileged;
}

std::uint32_t Admission::of_uid(uid_t uid) const
{
    const std::lock_guard lock(counts_->mutex);
    const auto it = counts_->per_uid.find(uid);
    return it == counts_->per_uid.end() ? 0 : it->second;
}

} // namespace latchkey::daemon
