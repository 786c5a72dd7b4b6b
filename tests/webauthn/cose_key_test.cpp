// SPDX-License-Identifier: Apache-2.0
#include "webauthn/cose_key.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using testing::reason;

using testing::Cbor;
using testing::SoftKey;

class CoseKeyRoundTrip : public ::testing::TestWithParam<CoseAlgorithm> {};

TEST_P(CoseKeyRoundTrip, ParsesWhatTheAuthenticatorEncodedAndVerifiesItsSignature)
{
    const auto key = SoftKey::generate(GetParam());
    auto parsed = parse_cose_key(key.cose());
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->alg, GetParam());
    EXPECT_EQ(parsed->encoded, key.cose());
    auto pkey = to_evp_pkey(*parsed);
    ASSERT_TRUE(pkey);
    EXPECT_TRUE(
        verify_signature(pkey->get(), scheme_of(parsed->alg), "message", key.sign("message")));
    EXPECT_FALSE(
        verify_signature(pkey->get(), scheme_of(parsed->alg), "massage", key.sign("message")));
}

INSTANTIATE_TEST_SUITE_P(Algorithms,
                         CoseKeyRoundTrip,
                         ::testing::Values(CoseAlgorithm::es256,
                                           CoseAlgorithm::eddsa,
                                           CoseAlgorithm::rs256,
                                           CoseAlgorithm::ps256,
                                           CoseAlgorithm::es384,
                                           CoseAlgorithm::es512,
                                           CoseAlgorithm::rs1));

TEST(CoseKey, NamesAlgorithms)
{
    EXPECT_EQ(algorithm_name(-7), "ES256");
    EXPECT_EQ(algorithm_name(-8), "EdDSA");
    EXPECT_EQ(algorithm_name(-257), "RS256");
    EXPECT_EQ(algorithm_name(-47), "unknown");
}

TEST(CoseKey, RefusesAnAlgorithmItDoesNotKnow)
{
    const auto bytes = Cbor::map({{1, 2},
                                  {3, -47},
                                  {-1, 1},
                                  {-2, Cbor::bytes(std::string(32, 'a'))},
                                  {-3, Cbor::bytes(std::string(32, 'b'))}})
                           .encode();
    EXPECT_EQ(reason(parse_cose_key(bytes)), Reason::unsupported_algorithm);
}

TEST(CoseKey, RefusesMembersThatContradictTheAlgorithm)
{
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    auto good = parse_cose_key(key.cose());
    ASSERT_TRUE(good);
    const auto x = Cbor::bytes(good->x);
    const auto y = Cbor::bytes(good->y);
    // kty OKP for ES256; curve P-384 for ES256; a short coordinate; y missing; compressed y.
    EXPECT_EQ(
        reason(parse_cose_key(Cbor::map({{1, 1}, {3, -7}, {-1, 1}, {-2, x}, {-3, y}}).encode())),
        Reason::malformed_cose_key);
    EXPECT_EQ(
        reason(parse_cose_key(Cbor::map({{1, 2}, {3, -7}, {-1, 2}, {-2, x}, {-3, y}}).encode())),
        Reason::malformed_cose_key);
    EXPECT_EQ(
        reason(parse_cose_key(
            Cbor::map({{1, 2}, {3, -7}, {-1, 1}, {-2, Cbor::bytes(good->x.substr(1))}, {-3, y}})
                .encode())),
        Reason::malformed_cose_key);
    EXPECT_EQ(reason(parse_cose_key(Cbor::map({{1, 2}, {3, -7}, {-1, 1}, {-2, x}}).encode())),
              Reason::malformed_cose_key);
    EXPECT_EQ(
        reason(parse_cose_key(
            Cbor::map({{1, 2}, {3, -7}, {-1, 1}, {-2, x}, {-3, Cbor::boolean(true)}}).encode())),
        Reason::malformed_cose_key);
    // kty missing, alg missing.
    EXPECT_EQ(reason(parse_cose_key(Cbor::map({{3, -7}, {-1, 1}, {-2, x}, {-3, y}}).encode())),
              Reason::malformed_cose_key);
    EXPECT_EQ(reason(parse_cose_key(Cbor::map({{1, 2}, {-1, 1}, {-2, x}, {-3, y}}).encode())),
              Reason::malformed_cose_key);
}

TEST(CoseKey, RefusesAPointOffTheCurve)
{
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    auto good = parse_cose_key(key.cose());
    ASSERT_TRUE(good);
    std::string y = good->y;
    y.back() = static_cast<char>(y.back() ^ 1);
    const auto off_curve =
        Cbor::map({{1, 2}, {3, -7}, {-1, 1}, {-2, Cbor::bytes(good->x)}, {-3, Cbor::bytes(y)}})
            .encode();
    EXPECT_EQ(reason(parse_cose_key(off_curve)), Reason::malformed_cose_key);
    // A shape check (for stored keys) does not look at the point; the verifier does.
    EXPECT_TRUE(parse_cose_key(off_curve, KeyCheck::shape));
    EXPECT_EQ(reason(to_evp_pkey(*parse_cose_key(off_curve, KeyCheck::shape))),
              Reason::malformed_cose_key);
}

TEST(CoseKey, RefusesRepeatedMembers)
{
    const auto key = SoftKey::generate(CoseAlgorithm::eddsa);
    auto good = parse_cose_key(key.cose());
    ASSERT_TRUE(good);
    const auto x = Cbor::bytes(good->x);
    EXPECT_EQ(
        reason(parse_cose_key(Cbor::map({{1, 1}, {3, -8}, {-1, 6}, {-2, x}, {3, -7}}).encode())),
        Reason::malformed_cose_key);
}

TEST(CoseKey, RefusesSmallOrMalformedRsaKeys)
{
    const auto key = SoftKey::generate(CoseAlgorithm::rs256);
    auto good = parse_cose_key(key.cose());
    ASSERT_TRUE(good);
    const auto e = Cbor::bytes(good->e);
    EXPECT_EQ(reason(parse_cose_key(
                  Cbor::map({{1, 3}, {3, -257}, {-1, Cbor::bytes(good->n.substr(0, 128))}, {-2, e}})
                      .encode())),
              Reason::malformed_cose_key);
    std::string even = good->n;
    even.back() = static_cast<char>(even.back() & ~1);
    EXPECT_EQ(reason(parse_cose_key(
                  Cbor::map({{1, 3}, {3, -257}, {-1, Cbor::bytes(even)}, {-2, e}}).encode())),
              Reason::malformed_cose_key);
}

TEST(CoseKey, RefusesWhatIsNotAMapOrHasTrailingBytes)
{
    EXPECT_EQ(reason(parse_cose_key(Cbor::array({1, 2}).encode())), Reason::malformed_cose_key);
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    EXPECT_EQ(reason(parse_cose_key(key.cose() + std::string(1, '\0'))),
              Reason::malformed_cose_key);
    EXPECT_EQ(reason(parse_cose_key("")), Reason::malformed_cose_key);
}

} // namespace
} // namespace latchkey::webauthn
