// SPDX-License-Identifier: Apache-2.0
// Round-robin between keys, with a cap of workers per key.
#include "daemon/fair_queue.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace latchkey::daemon {

FairQueue::FairQueue(boost::asio::thread_pool& pool, std::uint32_t workers, std::uint32_t per_key)
    : pool_(pool)
    , workers_(std::max<std::uint32_t>(workers, 1))
    , per_key_(std::clamp<std::uint32_t>(per_key, 1, std::max<std::uint32_t>(workers, 1)))
{
}

std::size_t FairQueue::waiting() const
{
    const std::lock_guard lock(mutex_);
    return waiting_;
}

void FairQueue::make_ready(const std::string& name, Key& k)
{
    if (!k.in_ring && !k.jobs.empty() && k.running < per_key_) {
        k.in_ring = true;
        ring_.push_back(name);
    }
}

void FairQueue::start_drain()
{
    if (draining_ < workers_ && !ring_.empty()) {
        ++draining_;
        boost::asio::post(pool_, [this] { drain(); });
    }
}

void FairQueue::post(const std::string& key, std::function<void()> job)
{
    const std::lock_guard lock(mutex_);
    Key& k = keys_[key];
    k.jobs.push_back(std::move(job));
    ++waiting_;
    make_ready(key, k);
    start_drain();
}

void FairQueue::drain()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        if (ring_.empty()) {
            --draining_;
            return;
        }
        const std::string name = std::move(ring_.front());
        ring_.pop_front();
        auto it = keys_.find(name);
        Key& k = it->second;
        k.in_ring = false;
        std::function<void()> job = std::move(k.jobs.front());
        k.jobs.pop_front();
        --waiting_;
        ++k.running;
        make_ready(name, k); // behind every other ready key: round-robin
        start_drain();       // more keys ready than drains running: wake another worker
        lock.unlock();
        job();
        job = nullptr; // whatever it holds goes before the lock is taken again
        lock.lock();
        it = keys_.find(name);
        --it->second.running;
        if (it->second.jobs.empty() && it->second.running == 0)
            keys_.erase(it);
        else
            make_ready(name, it->second); // it may have been held at its cap
    }
}

} // namespace latchkey::daemon
