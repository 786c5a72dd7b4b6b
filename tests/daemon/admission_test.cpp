// SPDX-License-Identifier: Apache-2.0
// Unit tests of the connection slots: no ordinary uid can take a privileged peer's slot.
#include "daemon/admission.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace latchkey::daemon {
namespace {

using Ticket = Admission::Ticket;

std::vector<Ticket> take(Admission& a, uid_t uid, bool privileged, int n)
{
    std::vector<Ticket> held;
    for (int i = 0; i < n; ++i) {
        auto slot = a.admit(uid, privileged);
        EXPECT_TRUE(std::holds_alternative<Ticket>(slot)) << "slot " << i << " of uid " << uid;
        if (auto* t = std::get_if<Ticket>(&slot))
            held.push_back(std::move(*t));
    }
    return held;
}

Refusal refusal_of(Admission& a, uid_t uid, bool privileged)
{
    auto slot = a.admit(uid, privileged);
    EXPECT_TRUE(std::holds_alternative<Refusal>(slot));
    return std::holds_alternative<Refusal>(slot) ? std::get<Refusal>(slot) : Refusal::socket_full;
}

TEST(Admission, OneUidIsCappedAndOthersStillGetIn)
{
    Admission a;
    a.set_limits({.max_connections = 10, .max_per_uid = 3});
    auto mallory = take(a, 65534, false, 3);
    EXPECT_EQ(refusal_of(a, 65534, false), Refusal::uid_full);
    auto alice = take(a, 1000, false, 3);
    EXPECT_EQ(a.ordinary(), 6u);
    EXPECT_EQ(a.of_uid(65534), 3u);
}

TEST(Admission, OrdinaryPeersCannotFillThePrivilegedPool)
{
    Admission a;
    a.set_limits({.max_connections = 4, .max_per_uid = 4});
    auto held = take(a, 65534, false, 4);
    EXPECT_EQ(refusal_of(a, 1000, false), Refusal::socket_full);
    auto root = take(a, 0, true, 4); // sshd's logons: a pool of their own
    EXPECT_EQ(refusal_of(a, 0, true), Refusal::socket_full);
    EXPECT_EQ(a.privileged(), 4u);
    EXPECT_EQ(a.ordinary(), 4u);
}

TEST(Admission, PrivilegedPeersHaveNoPerUidCap)
{
    Admission a;
    a.set_limits({.max_connections = 8, .max_per_uid = 1});
    auto root = take(a, 0, true, 8);
    EXPECT_EQ(a.of_uid(0), 0u);
}

TEST(Admission, AClosedConnectionGivesItsSlotBack)
{
    Admission a;
    a.set_limits({.max_connections = 2, .max_per_uid = 1});
    {
        auto held = take(a, 42, false, 1);
        EXPECT_EQ(refusal_of(a, 42, false), Refusal::uid_full);
    }
    EXPECT_EQ(a.ordinary(), 0u);
    EXPECT_EQ(a.of_uid(42), 0u);
    auto again = take(a, 42, false, 1);
    auto moved = std::move(again); // a moved-from ticket gives nothing back twice
    again.clear();
    EXPECT_EQ(a.ordinary(), 1u);
}

TEST(Admission, NewLimitsApplyToLaterAdmissionsOnly)
{
    Admission a;
    a.set_limits({.max_connections = 4, .max_per_uid = 4});
    auto held = take(a, 7, false, 4);
    a.set_limits({.max_connections = 2, .max_per_uid = 2});
    EXPECT_EQ(a.ordinary(), 4u);
    EXPECT_EQ(refusal_of(a, 8, false), Refusal::socket_full);
    held.erase(held.begin() + 1, held.end());
    auto one = take(a, 7, false, 1);
    EXPECT_EQ(refusal_of(a, 8, false), Refusal::socket_full);
    a.set_limits({.max_connections = 10, .max_per_uid = 2});
    EXPECT_EQ(refusal_of(a, 7, false), Refusal::uid_full);
}

} // namespace
} // namespace latchkey::daemon
