// SPDX-License-Identifier: Apache-2.0
#include "webauthn/attestation_object.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using testing::reason;

using testing::AuthDataSpec;
using testing::Cbor;
using testing::make_auth_data;
using testing::SoftKey;

std::string auth_data()
{
    static const auto key = SoftKey::generate(CoseAlgorithm::es256);
    AuthDataSpec spec;
    spec.flags = flag::up | flag::at;
    spec.credential_id = "credential";
    spec.cose_key = key.cose();
    return make_auth_data(spec);
}

TEST(AttestationObject, ParsesFormatStatementAndAuthenticatorData)
{
    const auto bytes = Cbor::map({{"fmt", "packed"},
                                  {"attStmt", Cbor::map({{"sig", Cbor::bytes("s")}, {"alg", -7}})},
                                  {"authData", Cbor::bytes(auth_data())}})
                           .encode();
    auto a = parse_attestation_object(bytes);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->fmt, "packed");
    EXPECT_EQ(as_int(map_find(a->statement.get(), "alg")), -7);
    EXPECT_EQ(a->statement_encoded, Cbor::map({{"alg", -7}, {"sig", Cbor::bytes("s")}}).encode());
    ASSERT_TRUE(a->auth_data.credential);
    EXPECT_EQ(a->auth_data.credential->id, "credential");
}

TEST(AttestationObject, RefusesMissingExtraOrMistypedMembers)
{
    const auto ad = Cbor::bytes(auth_data());
    const auto none = Cbor::map({});
    EXPECT_EQ(
        reason(parse_attestation_object(Cbor::map({{"fmt", "none"}, {"attStmt", none}}).encode())),
        Reason::malformed_attestation);
    EXPECT_EQ(
        reason(parse_attestation_object(
            Cbor::map({{"fmt", "none"}, {"attStmt", none}, {"authData", ad}, {"x", 1}}).encode())),
        Reason::malformed_attestation);
    EXPECT_EQ(reason(parse_attestation_object(
                  Cbor::map({{"fmt", 1}, {"attStmt", none}, {"authData", ad}}).encode())),
              Reason::malformed_attestation);
    EXPECT_EQ(
        reason(parse_attestation_object(
            Cbor::map({{"fmt", "none"}, {"attStmt", Cbor::array({})}, {"authData", ad}}).encode())),
        Reason::malformed_attestation);
    EXPECT_EQ(reason(parse_attestation_object(
                  Cbor::map({{"fmt", "none"}, {"attStmt", none}, {"authData", "text"}}).encode())),
              Reason::malformed_attestation);
    EXPECT_EQ(reason(parse_attestation_object(
                  Cbor::map({{"fmt", "none"}, {"fmt", "packed"}, {"authData", ad}}).encode())),
              Reason::malformed_attestation);
    EXPECT_EQ(reason(parse_attestation_object(Cbor::array({1, 2, 3}).encode())),
              Reason::malformed_attestation);
    EXPECT_EQ(
        reason(parse_attestation_object(
            Cbor::map({{"fmt", "none"}, {"attStmt", none}, {"authData", ad}}).encode() + "x")),
        Reason::malformed_cbor);
}

TEST(AttestationObject, PassesOnTheAuthenticatorDatasReason)
{
    EXPECT_EQ(reason(parse_attestation_object(Cbor::map({{"fmt", "none"},
                                                         {"attStmt", Cbor::map({})},
                                                         {"authData", Cbor::bytes("short")}})
                                                  .encode())),
              Reason::malformed_authenticator_data);
}

TEST(AttestationObject, IsBoundedInSize)
{
    EXPECT_EQ(
        reason(parse_attestation_object(
            Cbor::map({{"fmt", "none"},
                       {"attStmt", Cbor::map({{"pad", Cbor::bytes(std::string(40000, 'p'))}})},
                       {"authData", Cbor::bytes(auth_data())}})
                .encode())),
        Reason::too_large);
}

} // namespace
} // namespace latchkey::webauthn
