// SPDX-License-Identifier: Apache-2.0
// FairQueue: jobs of many keys on a few workers, so that a flood of one key (one user's failed
// logons, one uid's requests) cannot starve the others.
//
//   post(key, job) ──► the key's FIFO ──► ready ring (keys with work, under their cap)
//                                              │ round-robin
//                                              ▼
//                       at most `workers` drains on the pool, each: take the next key's oldest
//                       job, run it, put the key back at the end of the ring if it has more
//
// A key never holds more than `per_key` workers at once. With per_key < workers a worker is
// always left for the other keys: a logon of bob waits for no hash of alice's spray.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <boost/asio/thread_pool.hpp>

namespace latchkey::daemon {

class FairQueue {
public:
    FairQueue(boost::asio::thread_pool& pool, std::uint32_t workers, std::uint32_t per_key);

    /// Queues `job` under `key`. Thread-safe; `job` must not throw.
    void post(const std::string& key, std::function<void()> job);

    /// Jobs waiting (not running).
    [[nodiscard]] std::size_t waiting() const;

private:
    struct Key {
        std::deque<std::function<void()>> jobs;
        std::uint32_t running = 0;
        bool in_ring = false;
    };

    void drain();
    /// With the lock held: puts the key in the ring if it has work and room under its cap.
    void make_ready(const std::string& name, Key& k);
    /// With the lock held: starts a drain if a worker is free and a key is ready.
    void start_drain();

    boost::asio::thread_pool& pool_;
    const std::uint32_t workers_;
    const std::uint32_t per_key_;
    mutable std::mutex mutex_;
    std::map<std::string, Key> keys_;
    std::deque<std::string> ring_;
    std::uint32_t draining_ = 0;
    std::size_t waiting_ = 0;
};

} // namespace latchkey::daemon
