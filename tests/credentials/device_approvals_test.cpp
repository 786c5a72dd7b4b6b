// SPDX-License-Identifier: Apache-2.0
// Unit tests of codes approved on another device (RFC 8628 user codes, the PAM approval), with
// a controlled clock.
#include "credentials/device_approvals.hpp"

#include <set>

#include <gtest/gtest.h>

namespace latchkey::credentials {
namespace {

using State = DevicePoll::State;
using namespace std::chrono_literals;

class DeviceApprovalsTest : public ::testing::Test {
protected:
    static DeviceRequest logon(const std::string& user_id = "u-alice",
                               const std::string& source = "192.0.2.7")
    {
        DeviceRequest r;
        r.kind = DeviceRequest::Kind::host_logon;
        r.source = source;
        r.user_id = user_id;
        r.user_name = "alice@web.example.internal";
        r.host = "host1";
        r.service = "sshd";
        r.rhost = source;
        return r;
    }

    static DeviceApprover alice() { return {"u-alice", "session-1", "hwk+uv"}; }

    IssuedApproval issue(const DeviceRequest& r = logon())
    {
        auto issued = approvals.issue(r, now);
        EXPECT_TRUE(issued) << issued.error().message;
        return issued ? *issued : IssuedApproval{};
    }

    DeviceApprovals approvals{DeviceApprovals::Limits{}};
    core::TimePoint now = core::from_unix(1'900'000'000);
};

TEST(UserCodes, AreTypedInAnyCaseWithOrWithoutTheDashAndNothingElse)
{
    EXPECT_EQ(canonical_user_code("WDJB-MJHT"), "WDJBMJHT");
    EXPECT_EQ(canonical_user_code("wdjbmjht"), "WDJBMJHT");
    EXPECT_EQ(canonical_user_code(" wdjb mjht "), "WDJBMJHT");
    // Vowels, digits and look-alikes are not in the alphabet; the length is exact.
    for (const char* bad :
         {"WDJB-MJHA", "WDJB-MJH0", "WDJB-MJH1", "WDJB-MJH", "WDJB-MJHTT", "", "WDJB_MJHT"})
        EXPECT_FALSE(canonical_user_code(bad)) << bad;
    EXPECT_EQ(format_user_code("WDJBMJHT"), "WDJB-MJHT");
}

TEST_F(DeviceApprovalsTest, IssuedCodesAreShortReadableAndDistinct)
{
    std::set<std::string> codes;
    std::set<std::string> device_codes;
    for (int i = 0; i < 200; ++i) {
        auto r = logon("u-" + std::to_string(i), "198.51.100." + std::to_string(i));
        const auto issued = issue(r);
        ASSERT_EQ(issued.user_code.size(), 9U);
        EXPECT_EQ(issued.user_code[4], '-');
        EXPECT_TRUE(canonical_user_code(issued.user_code)) << issued.user_code;
        EXPECT_EQ(issued.device_code.size(), 43U);
        EXPECT_EQ(issued.expires, now + 300s);
        EXPECT_EQ(issued.interval, 5s);
        codes.insert(issued.user_code);
        device_codes.insert(issued.device_code);
    }
    EXPECT_EQ(codes.size(), 200U);
    EXPECT_EQ(device_codes.size(), 200U);
}

TEST_F(DeviceApprovalsTest, TheUserApprovesAndThePollerHearsItOnce)
{
    const auto issued = issue();
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::pending);
    const auto shown = approvals.pending("wdjb" + std::string(), "browser", now);
    EXPECT_FALSE(shown); // a wrong code
    const auto waiting = approvals.pending(issued.user_code, "browser", now);
    ASSERT_TRUE(waiting) << waiting.error().message;
    EXPECT_EQ(waiting->request.host, "host1");
    EXPECT_EQ(waiting->request.service, "sshd");
    EXPECT_EQ(waiting->user_code, issued.user_code);
    const auto decided = approvals.decide(issued.user_code, alice(), true, "browser", now);
    ASSERT_TRUE(decided) << decided.error().message;
    EXPECT_EQ(decided->user_code, issued.user_code); // what was decided, for the audit
    EXPECT_EQ(decided->request.host, "host1");
    // Decided: the code cannot be decided or shown again.
    EXPECT_FALSE(approvals.decide(issued.user_code, alice(), false, "browser", now));
    EXPECT_FALSE(approvals.pending(issued.user_code, "browser", now));

    now += 6s;
    const auto polled = approvals.poll(issued.device_code, now);
    ASSERT_EQ(polled.state, State::approved);
    ASSERT_TRUE(polled.request && polled.approver);
    EXPECT_EQ(polled.request->user_id, "u-alice");
    EXPECT_EQ(polled.approver->session_id, "session-1");
    EXPECT_EQ(polled.approver->method, "hwk+uv");
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::unknown); // single use
}

TEST_F(DeviceApprovalsTest, ADenialIsHeardOnce)
{
    const auto issued = issue();
    ASSERT_TRUE(approvals.decide(issued.user_code, alice(), false, "browser", now));
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::denied);
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::unknown);
}

TEST_F(DeviceApprovalsTest, OnlyTheUserALogonIsForMayApproveItAndAWrongTryVoidsTheCode)
{
    const auto issued = issue();
    const auto refused =
        approvals.decide(issued.user_code, {"u-bob", "session-2", "pwd+otp"}, true, "b", now);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(core::Errc::permission_denied));
    EXPECT_FALSE(approvals.decide(issued.user_code, alice(), true, "browser", now));
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::denied);
}

TEST_F(DeviceApprovalsTest, ADeviceGrantIsApprovedByWhoeverSignsIn)
{
    DeviceRequest r;
    r.kind = DeviceRequest::Kind::device_grant;
    r.source = "cli-app";
    r.client_id = "cli-app";
    r.scopes = {"openid", "profile"};
    const auto issued = issue(r);
    ASSERT_TRUE(approvals.decide(issued.user_code, {"u-bob", "s", "pwd"}, true, "b", now));
    const auto polled = approvals.poll(issued.device_code, now);
    ASSERT_EQ(polled.state, State::approved);
    EXPECT_EQ(polled.approver->user_id, "u-bob");
    EXPECT_EQ(polled.request->scopes, (std::vector<std::string>{"openid", "profile"}));
}

TEST_F(DeviceApprovalsTest, CodesExpireAndThePollerIsToldSo)
{
    const auto issued = issue();
    now += 300s;
    EXPECT_FALSE(approvals.pending(issued.user_code, "browser", now));
    EXPECT_FALSE(approvals.decide(issued.user_code, alice(), true, "browser", now));
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::expired);
    EXPECT_EQ(approvals.poll(issued.device_code, now + 10s).state, State::expired);
    // Another lifetime later it is forgotten at the next issue.
    now += 300s;
    issue(logon("u-other", "203.0.113.1"));
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::unknown);
    EXPECT_EQ(approvals.size(), 1U);
}

TEST_F(DeviceApprovalsTest, PollingTooFastIsToldToSlowDownAndTheIntervalGrows)
{
    const auto issued = issue();
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::pending);
    EXPECT_EQ(approvals.poll(issued.device_code, now + 2s).state, State::slow_down);
    // The interval is now 10 s from the last poll.
    EXPECT_EQ(approvals.poll(issued.device_code, now + 9s).state, State::slow_down);
    EXPECT_EQ(approvals.poll(issued.device_code, now + 24s).state, State::pending);
    EXPECT_EQ(approvals.poll(issued.device_code, now + 40s).state, State::pending);
}

TEST_F(DeviceApprovalsTest, IssuingIsLimitedPerSourceAndPerUser)
{
    for (int i = 0; i < 5; ++i)
        issue(logon("u-alice", "192.0.2." + std::to_string(i)));
    const auto sixth = approvals.issue(logon("u-alice", "192.0.2.99"), now);
    ASSERT_FALSE(sixth);
    EXPECT_TRUE(sixth.error().is(core::Errc::daemon_busy));
    for (int i = 0; i < 10; ++i)
        issue(logon("u-" + std::to_string(i), "198.51.100.1"));
    EXPECT_FALSE(approvals.issue(logon("u-x", "198.51.100.1"), now));
    // The window moves on.
    now += 601s;
    EXPECT_TRUE(approvals.issue(logon("u-alice", "198.51.100.1"), now));
}

TEST_F(DeviceApprovalsTest, WrongCodesAreLimitedPerGuesser)
{
    const auto issued = issue();
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(
            approvals.pending("BCDF-GHJK", "mallory", now).error().is(core::Errc::not_found));
    // Now even the right code is refused to this guesser, and only to it.
    EXPECT_TRUE(
        approvals.pending(issued.user_code, "mallory", now).error().is(core::Errc::daemon_busy));
    EXPECT_TRUE(approvals.pending(issued.user_code, "alice's browser", now));
}

TEST_F(DeviceApprovalsTest, AWithdrawnRequestIsGone)
{
    const auto issued = issue();
    approvals.withdraw(issued.device_code);
    EXPECT_FALSE(approvals.pending(issued.user_code, "browser", now));
    EXPECT_EQ(approvals.poll(issued.device_code, now).state, State::unknown);
    EXPECT_EQ(approvals.size(), 0U);
}

} // namespace
} // namespace latchkey::credentials
