// SPDX-License-Identifier: Apache-2.0
// Unit tests of the fair work queue: order between keys, and the cap of workers per key.
#include "daemon/fair_queue.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace latchkey::daemon {
namespace {

/// A job that blocks until released, so the test decides when workers are free.
class Gate {
public:
    void wait()
    {
        std::unique_lock lock(m_);
        ++waiting_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return open_; });
    }

    void open()
    {
        const std::lock_guard lock(m_);
        open_ = true;
        cv_.notify_all();
    }

    void wait_for_waiters(int n)
    {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return waiting_ >= n; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    int waiting_ = 0;
    bool open_ = false;
};

TEST(FairQueue, ARunOfOneKeyDoesNotDelayAnotherKeysJob)
{
    boost::asio::thread_pool pool(1);
    FairQueue q(pool, 1, 1);
    Gate gate;
    std::mutex m;
    std::vector<std::string> order;
    const auto record = [&](std::string what) {
        const std::lock_guard lock(m);
        order.push_back(std::move(what));
    };
    q.post("alice", [&] { gate.wait(); });
    gate.wait_for_waiters(1); // the worker is busy
    for (int i = 0; i < 50; ++i)
        q.post("alice", [&, i] { record("alice" + std::to_string(i)); });
    q.post("bob", [&] { record("bob"); });
    EXPECT_EQ(q.waiting(), 51u);
    gate.open();
    pool.join();
    ASSERT_EQ(order.size(), 51u);
    // Bob's one job is next when the worker frees, not after alice's fifty.
    EXPECT_EQ(order[0], "bob");
    EXPECT_EQ(order[1], "alice0");
    EXPECT_EQ(order.back(), "alice49");
}

TEST(FairQueue, KeysTakeTurns)
{
    boost::asio::thread_pool pool(1);
    FairQueue q(pool, 1, 1);
    Gate gate;
    std::vector<std::string> order;
    q.post("first", [&] { gate.wait(); });
    gate.wait_for_waiters(1);
    for (const char* k : {"a", "a", "a", "b", "b", "c"})
        q.post(k, [&order, k] { order.emplace_back(k); }); // one worker: no lock needed
    gate.open();
    pool.join();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "a", "b", "a"}));
}

TEST(FairQueue, OneKeyNeverHoldsMoreWorkersThanItsCap)
{
    boost::asio::thread_pool pool(2);
    FairQueue q(pool, 2, 1);
    Gate gate;
    std::atomic<int> running{0}, most{0};
    std::atomic<bool> bob_ran{false};
    for (int i = 0; i < 20; ++i)
        q.post("alice", [&] {
            const int now = ++running;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            gate.wait();
            --running;
        });
    // One worker is held by alice's first job; the other stays free for bob at once.
    gate.wait_for_waiters(1);
    q.post("bob", [&] { bob_ran = true; });
    for (int i = 0; i < 1000 && !bob_ran; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(bob_ran) << "bob waited behind alice's spray";
    gate.open();
    pool.join();
    EXPECT_EQ(most.load(), 1);
}

TEST(FairQueue, WithoutACapOneKeyUsesEveryWorker)
{
    boost::asio::thread_pool pool(2);
    FairQueue q(pool, 2, 2);
    Gate gate;
    for (int i = 0; i < 2; ++i)
        q.post("alice", [&] { gate.wait(); });
    gate.wait_for_waiters(2); // would hang if the second job waited for the first
    gate.open();
    pool.join();
}

} // namespace
} // namespace latchkey::daemon
