// SPDX-License-Identifier: Apache-2.0
#include "webauthn/reason.hpp"

#include <set>

#include <gtest/gtest.h>

namespace latchkey::webauthn {
namespace {

TEST(Reason, NamesAreStableAndTravelAsErrorCodes)
{
    EXPECT_EQ(reason_name(Reason::challenge_mismatch), "challenge_mismatch");
    EXPECT_EQ(reason_name(Reason::counter_regression), "counter_regression");
    const core::Error e{Reason::origin_not_allowed, "detail"};
    EXPECT_EQ(reason_of(e), Reason::origin_not_allowed);
    EXPECT_EQ(e.code.message(), "origin_not_allowed");
    EXPECT_EQ(std::string(e.code.category().name()), "webauthn");
    EXPECT_EQ(reason_of(core::Error{core::Errc::internal, "x"}), Reason::internal);
}

TEST(Reason, EveryReasonHasItsOwnNameAndAMessage)
{
    std::set<std::string_view> names;
    int known = 0;
    for (int v = 0; v < 256; ++v) {
        const auto name = reason_name(static_cast<Reason>(v));
        if (name == "unknown")
            continue;
        ++known;
        EXPECT_TRUE(names.insert(name).second) << name;
        EXPECT_FALSE(reason_message(static_cast<Reason>(v)).empty());
    }
    EXPECT_EQ(known, 34);
}

} // namespace
} // namespace latchkey::webauthn
