// SPDX-License-Identifier: Apache-2.0
#include "webauthn/authenticator_data.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using testing::reason;

using testing::AuthDataSpec;
using testing::Cbor;
using testing::make_auth_data;
using testing::SoftKey;

TEST(AuthenticatorData, ParsesAnAssertionsFixedPart)
{
    AuthDataSpec spec;
    spec.flags = flag::up | flag::uv | flag::be | flag::bs;
    spec.counter = 0x01020304;
    auto d = parse_authenticator_data(make_auth_data(spec));
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->rp_id_hash, sha256("example.org"));
    EXPECT_TRUE(d->user_present());
    EXPECT_TRUE(d->user_verified());
    EXPECT_TRUE(d->backup_eligible());
    EXPECT_TRUE(d->backed_up());
    EXPECT_EQ(d->sign_count, 0x01020304U);
    EXPECT_FALSE(d->credential);
    EXPECT_TRUE(d->extensions.empty());
    EXPECT_EQ(d->raw.size(), 37U);
}

TEST(AuthenticatorData, ParsesAttestedCredentialDataAndExtensions)
{
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    AuthDataSpec spec;
    spec.flags = flag::up | flag::at | flag::ed;
    spec.aaguid = {0xf8, 0xa0, 0x11, 0xf3, 0x8c, 0x0a, 0x4d, 0x15,
                   0x80, 0x06, 0x17, 0x11, 0x1f, 0x9e, 0xdc, 0x7d};
    spec.credential_id = std::string(64, 'c');
    spec.cose_key = key.cose();
    spec.extensions = Cbor::map({{"credProtect", 2}}).encode();
    auto d = parse_authenticator_data(make_auth_data(spec));
    ASSERT_TRUE(d) << d.error().message;
    ASSERT_TRUE(d->credential);
    EXPECT_EQ(aaguid_string(d->credential->aaguid), "f8a011f3-8c0a-4d15-8006-17111f9edc7d");
    EXPECT_EQ(d->credential->id, spec.credential_id);
    EXPECT_EQ(d->credential->public_key.encoded, key.cose());
    EXPECT_EQ(d->extensions, spec.extensions);
}

TEST(AuthenticatorData, RefusesFlagsThatDoNotDescribeWhatFollows)
{
    const auto key = SoftKey::generate(CoseAlgorithm::eddsa);
    AuthDataSpec spec;
    spec.credential_id = "id";
    spec.cose_key = key.cose();
    spec.flags = flag::up; // AT clear, yet credential data follows
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))),
              Reason::malformed_authenticator_data);
    spec.flags = flag::up | flag::at | flag::ed; // ED set, nothing follows the key
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))),
              Reason::malformed_authenticator_data);
    AuthDataSpec bare;
    bare.flags = flag::up | flag::at; // AT set, nothing follows
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(bare))),
              Reason::malformed_authenticator_data);
    bare.flags = flag::up;
    bare.extensions = Cbor::map({{"credProtect", 2}}).encode(); // ED clear, extensions follow
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(bare))),
              Reason::malformed_authenticator_data);
    bare.flags = flag::up | flag::ed;
    bare.extensions = Cbor::array({1}).encode(); // extensions not a map
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(bare))),
              Reason::malformed_authenticator_data);
}

TEST(AuthenticatorData, RefusesBackedUpWithoutBackupEligible)
{
    AuthDataSpec spec;
    spec.flags = flag::up | flag::bs;
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))), Reason::backup_state_invalid);
}

TEST(AuthenticatorData, RefusesShortTruncatedOrTrailingBytes)
{
    EXPECT_EQ(reason(parse_authenticator_data(std::string(36, 'a'))),
              Reason::malformed_authenticator_data);
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(AuthDataSpec{}) + "x")),
              Reason::malformed_authenticator_data);
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    AuthDataSpec spec;
    spec.flags = flag::up | flag::at;
    spec.credential_id = "id";
    spec.cose_key = key.cose();
    const auto full = make_auth_data(spec);
    ASSERT_TRUE(parse_authenticator_data(full));
    for (std::size_t n = 37; n < full.size(); ++n)
        EXPECT_FALSE(parse_authenticator_data(full.substr(0, n))) << n;
}

TEST(AuthenticatorData, RefusesCredentialIdsOutOfBounds)
{
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    AuthDataSpec spec;
    spec.flags = flag::up | flag::at;
    spec.cose_key = key.cose();
    spec.credential_id = std::string(max_credential_id_size, 'i');
    EXPECT_TRUE(parse_authenticator_data(make_auth_data(spec)));
    spec.credential_id += "i";
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))),
              Reason::credential_id_too_long);
    spec.credential_id.clear();
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))),
              Reason::malformed_authenticator_data);
}

TEST(AuthenticatorData, PassesOnTheKeysReason)
{
    AuthDataSpec spec;
    spec.flags = flag::up | flag::at;
    spec.credential_id = "id";
    spec.cose_key = Cbor::map({{1, 2}, {3, -47}}).encode();
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))),
              Reason::unsupported_algorithm);
    spec.cose_key = "\xa1";
    EXPECT_EQ(reason(parse_authenticator_data(make_auth_data(spec))),
              Reason::malformed_authenticator_data);
}

TEST(AuthenticatorData, IsBoundedInSize)
{
    EXPECT_EQ(reason(parse_authenticator_data(std::string(max_authenticator_data_size + 1, 'a'))),
              Reason::too_large);
}

} // namespace
} // namespace latchkey::webauthn
