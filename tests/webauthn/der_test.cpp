// SPDX-License-Identifier: Apache-2.0
#include "webauthn/der.hpp"

#include <openssl/asn1.h>

#include <gtest/gtest.h>

namespace latchkey::webauthn {
namespace {

using namespace std::string_literals;

TEST(Der, WalksTheTlvsOfASequence)
{
    // SEQUENCE { INTEGER 5, OCTET STRING "ab", [1] EXPLICIT { NULL } }
    const auto der = "\x30\x0b\x02\x01\x05\x04\x02"
                     "ab"
                     "\xa1\x02\x05\x00"s;
    const auto seq = only(der);
    ASSERT_TRUE(seq);
    EXPECT_EQ(seq->tag, V_ASN1_SEQUENCE);
    EXPECT_TRUE(seq->constructed);
    DerReader r(seq->contents);
    const auto i = r.next();
    ASSERT_TRUE(i);
    EXPECT_EQ(small_integer(*i), 5);
    const auto s = r.next();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->tag, V_ASN1_OCTET_STRING);
    EXPECT_EQ(s->contents, "ab");
    const auto tagged = r.next();
    ASSERT_TRUE(tagged);
    EXPECT_EQ(tagged->cls, V_ASN1_CONTEXT_SPECIFIC);
    EXPECT_EQ(tagged->tag, 1);
    EXPECT_TRUE(r.done());
    EXPECT_FALSE(r.next());
    EXPECT_FALSE(r.failed());
}

TEST(Der, ReadsHighTagNumbersAsAndroidKeyDescriptionsUseThem)
{
    // [702] EXPLICIT { INTEGER 0 }: the tag number takes two bytes after 0xbf.
    const auto der = "\xbf\x85\x3e\x03\x02\x01\x00"s;
    const auto tlv = only(der);
    ASSERT_TRUE(tlv);
    EXPECT_EQ(tlv->cls, V_ASN1_CONTEXT_SPECIFIC);
    EXPECT_EQ(tlv->tag, 702);
    const auto inner = only(tlv->contents);
    ASSERT_TRUE(inner);
    EXPECT_EQ(small_integer(*inner), 0);
}

TEST(Der, RefusesTruncatedTrailingOrIndefiniteInput)
{
    EXPECT_FALSE(only("\x04\x05"
                      "ab"s)); // says 5 bytes, has 2
    EXPECT_FALSE(only("\x04\x01"
                      "ab"s));                       // one TLV and a byte more
    EXPECT_FALSE(only("\x30\x80\x05\x00\x00\x00"s)); // indefinite length is not DER
    EXPECT_FALSE(only(""));
    DerReader r("\x04\x05"
                "ab"s);
    EXPECT_FALSE(r.next());
    EXPECT_TRUE(r.failed());
}

TEST(Der, ReadsSmallIntegersAndEnumeratedOnly)
{
    EXPECT_EQ(small_integer(*only("\x0a\x01\x02"s)), 2);  // ENUMERATED
    EXPECT_EQ(small_integer(*only("\x02\x01\xff"s)), -1); // two's complement
    EXPECT_EQ(small_integer(*only("\x02\x02\x01\x00"s)), 256);
    EXPECT_FALSE(small_integer(*only("\x02\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09"s)));
    EXPECT_FALSE(small_integer(*only("\x04\x01\x02"s))); // an OCTET STRING
    EXPECT_FALSE(small_integer(*only("\x02\x00"s)));     // no content
}

} // namespace
} // namespace latchkey::webauthn
