// SPDX-License-Identifier: Apache-2.0
// The software security key against libfido2 itself: libfido2 opens it, makes credentials and
// gets assertions with its own CTAP2 and PIN protocol code, and verifies what comes back with its
// own checks (self attestation, assertion signatures), so the key the host-side tests use
// behaves as a real one does.
#include "tests/hostkey/software_key.hpp"

#include <memory>
#include <string>

#include <fido.h>

#include <gtest/gtest.h>

#include "core/c_handle.hpp"
#include "core/random.hpp"

#include <fido/es256.h>

namespace latchkey::hostkey::testing {
namespace {

struct DevFree {
    void operator()(fido_dev_t* d) const noexcept
    {
        fido_dev_close(d);
        fido_dev_free(&d);
    }
};

struct CredFree {
    void operator()(fido_cred_t* c) const noexcept { fido_cred_free(&c); }
};

struct AssertFree {
    void operator()(fido_assert_t* a) const noexcept { fido_assert_free(&a); }
};

struct Es256Free {
    void operator()(es256_pk_t* k) const noexcept { es256_pk_free(&k); }
};

using Dev = std::unique_ptr<fido_dev_t, DevFree>;
using Cred = std::unique_ptr<fido_cred_t, CredFree>;
using Assert = std::unique_ptr<fido_assert_t, AssertFree>;
using Es256 = std::unique_ptr<es256_pk_t, Es256Free>;

constexpr const char* rp = "host:ws1.example.internal";

std::string hash32()
{
    return core::random_string(32);
}

const unsigned char* u8(const std::string& s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

/// A credential made on `key` through libfido2, checked with libfido2's own self-attestation
/// verification.
Cred make_credential(SoftwareKey& key,
                     bool resident,
                     const char* pin = nullptr,
                     std::string user = "alice")
{
    const Dev dev(key.open_device());
    Cred cred(fido_cred_new());
    const std::string cdh = hash32();
    const std::string user_id = core::random_string(16);
    EXPECT_EQ(fido_cred_set_type(cred.get(), COSE_ES256), FIDO_OK);
    EXPECT_EQ(fido_cred_set_clientdata_hash(cred.get(), u8(cdh), cdh.size()), FIDO_OK);
    EXPECT_EQ(fido_cred_set_rp(cred.get(), rp, "latchkey"), FIDO_OK);
    EXPECT_EQ(
        fido_cred_set_user(cred.get(), u8(user_id), user_id.size(), user.c_str(), nullptr, nullptr),
        FIDO_OK);
    EXPECT_EQ(fido_cred_set_rk(cred.get(), resident ? FIDO_OPT_TRUE : FIDO_OPT_OMIT), FIDO_OK);
    const int r = fido_dev_make_cred(dev.get(), cred.get(), pin);
    EXPECT_EQ(r, FIDO_OK) << fido_strerr(r);
    if (r == FIDO_OK) {
        EXPECT_EQ(fido_cred_verify_self(cred.get()), FIDO_OK);
        EXPECT_STREQ(fido_cred_fmt(cred.get()), "packed");
    }
    return cred;
}

Es256 public_key(const fido_cred_t* cred)
{
    Es256 pk(es256_pk_new());
    EXPECT_EQ(es256_pk_from_ptr(pk.get(), fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)),
              FIDO_OK);
    return pk;
}

/// An assertion of `key` for the credentials `allowed` (none: discoverable), with `pin`.
std::pair<int, Assert> get_assertion(SoftwareKey& key,
                                     std::initializer_list<const fido_cred_t*> allowed,
                                     const char* pin = nullptr)
{
    const Dev dev(key.open_device());
    Assert a(fido_assert_new());
    const std::string cdh = hash32();
    EXPECT_EQ(fido_assert_set_clientdata_hash(a.get(), u8(cdh), cdh.size()), FIDO_OK);
    EXPECT_EQ(fido_assert_set_rp(a.get(), rp), FIDO_OK);
    for (const fido_cred_t* c : allowed)
        EXPECT_EQ(fido_assert_allow_cred(a.get(), fido_cred_id_ptr(c), fido_cred_id_len(c)),
                  FIDO_OK);
    const int r = fido_dev_get_assert(dev.get(), a.get(), pin);
    return {r, std::move(a)};
}

TEST(SoftwareKey, LibfidoOpensItAsAFido2Device)
{
    SoftwareKey key({});
    const Dev dev(key.open_device());
    EXPECT_TRUE(fido_dev_is_fido2(dev.get()));
    EXPECT_FALSE(fido_dev_has_pin(dev.get()));
    EXPECT_FALSE(fido_dev_has_uv(dev.get()));
}

TEST(SoftwareKey, ItsAssertionsVerifyWithTheCredentialsKeyAndCountUp)
{
    SoftwareKey key({});
    const Cred cred = make_credential(key, false);
    const Es256 pk = public_key(cred.get());
    std::uint32_t last = 0;
    for (int i = 0; i < 3; ++i) {
        auto [r, a] = get_assertion(key, {cred.get()});
        ASSERT_EQ(r, FIDO_OK) << fido_strerr(r);
        ASSERT_EQ(fido_assert_count(a.get()), 1U);
        EXPECT_EQ(fido_assert_verify(a.get(), 0, COSE_ES256, pk.get()), FIDO_OK);
        EXPECT_GT(fido_assert_sigcount(a.get(), 0), last);
        last = fido_assert_sigcount(a.get(), 0);
        EXPECT_EQ(fido_assert_flags(a.get(), 0) & 0x05, 0x01) << "user present, not verified";
    }
    EXPECT_EQ(key.touches(), 4);
}

TEST(SoftwareKey, AnotherKeysCredentialIsNotThere)
{
    SoftwareKey key({});
    SoftwareKey other({});
    const Cred cred = make_credential(other, false);
    auto [r, a] = get_assertion(key, {cred.get()});
    EXPECT_EQ(r, FIDO_ERR_NO_CREDENTIALS) << fido_strerr(r);
}

TEST(SoftwareKey, DiscoverableCredentialsComeWithTheirUsers)
{
    SoftwareKey key({});
    const Cred alice = make_credential(key, true, nullptr, "alice");
    const Cred bob = make_credential(key, true, nullptr, "bob");
    make_credential(key, false, nullptr, "carol"); // not discoverable
    auto [r, a] = get_assertion(key, {});
    ASSERT_EQ(r, FIDO_OK) << fido_strerr(r);
    ASSERT_EQ(fido_assert_count(a.get()), 2U);
    EXPECT_STREQ(fido_assert_user_name(a.get(), 0), "alice");
    EXPECT_STREQ(fido_assert_user_name(a.get(), 1), "bob");
    EXPECT_EQ(fido_assert_verify(a.get(), 1, COSE_ES256, public_key(bob.get()).get()), FIDO_OK);
}

TEST(SoftwareKey, TheRightPinVerifiesTheUserAndAWrongOneCostsARetry)
{
    SoftwareKey::Options options;
    options.pin = "4711";
    SoftwareKey key(options);
    {
        const Dev dev(key.open_device());
        EXPECT_TRUE(fido_dev_has_pin(dev.get()));
    }
    const Cred cred = make_credential(key, false, "4711");
    EXPECT_EQ(fido_cred_flags(cred.get()) & 0x04, 0x04);

    auto [ok, a] = get_assertion(key, {cred.get()}, "4711");
    ASSERT_EQ(ok, FIDO_OK) << fido_strerr(ok);
    EXPECT_EQ(fido_assert_flags(a.get(), 0) & 0x05, 0x05) << "present and verified";
    EXPECT_EQ(fido_assert_verify(a.get(), 0, COSE_ES256, public_key(cred.get()).get()), FIDO_OK);

    auto [wrong, b] = get_assertion(key, {cred.get()}, "1234");
    EXPECT_EQ(wrong, FIDO_ERR_PIN_INVALID) << fido_strerr(wrong);
    EXPECT_EQ(key.pin_retries(), 7);
    const Dev dev(key.open_device());
    int retries = 0;
    EXPECT_EQ(fido_dev_get_retry_count(dev.get(), &retries), FIDO_OK);
    EXPECT_EQ(retries, 7);

    auto [again, c] = get_assertion(key, {cred.get()}, "4711");
    EXPECT_EQ(again, FIDO_OK) << fido_strerr(again);
    EXPECT_EQ(key.pin_retries(), 8);
}

TEST(SoftwareKey, ABuiltInVerifierSetsUvWithoutAPin)
{
    SoftwareKey::Options options;
    options.builtin_uv = true;
    SoftwareKey key(options);
    const Cred cred = make_credential(key, true);
    const Dev dev(key.open_device());
    EXPECT_TRUE(fido_dev_has_uv(dev.get()));
    Assert a(fido_assert_new());
    const std::string cdh = hash32();
    ASSERT_EQ(fido_assert_set_clientdata_hash(a.get(), u8(cdh), cdh.size()), FIDO_OK);
    ASSERT_EQ(fido_assert_set_rp(a.get(), rp), FIDO_OK);
    ASSERT_EQ(fido_assert_set_uv(a.get(), FIDO_OPT_TRUE), FIDO_OK);
    const int r = fido_dev_get_assert(dev.get(), a.get(), nullptr);
    ASSERT_EQ(r, FIDO_OK) << fido_strerr(r);
    EXPECT_EQ(fido_assert_flags(a.get(), 0) & 0x05, 0x05);
}

TEST(SoftwareKey, NobodyTouchingItTimesOut)
{
    SoftwareKey key({});
    const Cred cred = make_credential(key, false);
    key.options().touched = false;
    auto [r, a] = get_assertion(key, {cred.get()});
    EXPECT_EQ(r, FIDO_ERR_USER_ACTION_TIMEOUT) << fido_strerr(r);
}

TEST(SoftwareKey, AClonesCounterFallsBehindTheOriginals)
{
    SoftwareKey key({});
    const Cred cred = make_credential(key, false);
    SoftwareKey clone = key;
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(get_assertion(key, {cred.get()}).first, FIDO_OK);
    auto [r, from_original] = get_assertion(key, {cred.get()});
    auto [s, from_clone] = get_assertion(clone, {cred.get()});
    ASSERT_EQ(r, FIDO_OK);
    ASSERT_EQ(s, FIDO_OK);
    EXPECT_EQ(fido_assert_verify(from_clone.get(), 0, COSE_ES256, public_key(cred.get()).get()),
              FIDO_OK)
        << "the same key";
    EXPECT_LT(fido_assert_sigcount(from_clone.get(), 0),
              fido_assert_sigcount(from_original.get(), 0));
}

} // namespace
} // namespace latchkey::hostkey::testing
