// SPDX-License-Identifier: Apache-2.0
// SenderThread: a bounded queue of items and one thread that delivers them, so that requests
// never wait for a slow peer (back-channel logouts, alerts to the notifier).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace latchkey::notify {

template <class Item>
class SenderThread {
public:
    /// What happens to items still queued when the sender stops.
    enum class AtStop { drop, deliver };

    /// `deliver` runs on the thread, one item at a time, and must not throw (an exception is
    /// swallowed to keep the thread alive). `dropped` is told of each item dropped at stop.
    SenderThread(std::size_t max_queued, AtStop at_stop, std::function<void(Item&)> deliver,
                 std::function<void(Item&)> dropped = {})
        : max_queued_(max_queued)
        , at_stop_(at_stop)
        , deliver_(std::move(deliver))
        , dropped_(std::move(dropped))
        , thread_([this] { run(); })
    {
    }

    ~SenderThread()
    {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
        if (dropped_)
            for (auto& item : queue_)
                dropped_(item);
    }

    SenderThread(const SenderThread&) = delete;
    SenderThread& operator=(const SenderThread&) = delete;

    /// Queues an item; false (and nothing queued) when max_queued are waiting already.
    bool post(Item item)
    {
        {
            const std::lock_guard lock(mutex_);
            if (queue_.size() >= max_queued_)
                return false;
            queue_.push_back(std::move(item));
        }
        wake_.notify_one();
        return true;
    }

private:
    void run()
    {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() || (stopping_ && at_stop_ == AtStop::drop))
                return;
            Item item = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            try {
                deliver_(item);
            } catch (...) { // NOLINT(bugprone-empty-catch): deliver_ reports its own failures
            }
            lock.lock();
        }
    }

    const std::size_t max_queued_;
    const AtStop at_stop_;
    std::function<void(Item&)> deliver_;
    std::function<void(Item&)> dropped_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    std::thread thread_; ///< last: starts once everything above is ready
};

} // namespace latchkey::notify
