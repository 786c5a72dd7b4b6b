// SPDX-License-Identifier: Apache-2.0
// Tests for oidc/jose: RFC vectors, strict base64url, JWK thumbprints and compact JWS.
#include "oidc/jose.hpp"

#include <array>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace latchkey::oidc {
namespace {

namespace json = boost::json;
using core::Errc;

using Bignum = std::unique_ptr<BIGNUM, core::CFree<BN_free>>;
using BnCtx = std::unique_ptr<BN_CTX, core::CFree<BN_CTX_free>>;
using Bio = std::unique_ptr<BIO, core::CFree<BIO_free>>;

constexpr std::array<JwsAlg, 3> all_algs{JwsAlg::RS256, JwsAlg::ES256, JwsAlg::EdDSA};

template <class T>
::testing::AssertionResult fails_with(const core::Result<T>& r, Errc expected)
{
    if (r.has_value())
        return ::testing::AssertionFailure() << "succeeded, expected " << core::errc_name(expected);
    if (!r.error().is(expected))
        return ::testing::AssertionFailure()
               << "failed with \"" << r.error().message << "\" (" << r.error().code.message()
               << "), expected " << core::errc_name(expected);
    return ::testing::AssertionSuccess();
}

/// Generating RSA keys is slow, so each algorithm gets one key for the whole binary.
const SigningKey& shared_key(JwsAlg alg)
{
    static const std::array<SigningKey, 3> keys{
        SigningKey::generate(JwsAlg::RS256).value(),
        SigningKey::generate(JwsAlg::ES256).value(),
        SigningKey::generate(JwsAlg::EdDSA).value(),
    };
    return keys.at(static_cast<std::size_t>(alg));
}

std::string str(const json::value& v)
{
    return v.is_string() ? std::string(v.get_string())
                         : "<not a string: " + json::serialize(v) + ">";
}

std::string b64(std::string_view s)
{
    return base64url(s);
}

std::string decode(std::string_view s)
{
    auto d = base64url_decode(s);
    EXPECT_TRUE(d.has_value()) << s;
    return d.value_or("");
}

std::vector<std::string> split(std::string_view token)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = token.find('.', start);
        parts.emplace_back(token.substr(start, dot - start));
        if (dot == std::string_view::npos)
            return parts;
        start = dot + 1;
    }
}

/// A token with `header` and `payload` (JSON text) signed by `key` as given, so that tests can
/// forge headers that jws_sign would never write.
std::string sign_raw(const SigningKey& key, std::string_view header, std::string_view payload)
{
    std::string input = b64(header) + "." + b64(payload);
    const auto signature = key.sign(input);
    EXPECT_TRUE(signature.has_value());
    return input + "." + b64(signature ? *signature : std::string());
}

core::Secret pem_of(EVP_PKEY* pkey)
{
    const Bio bio(BIO_new(BIO_s_mem()));
    EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr),
              1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return core::Secret(std::string_view(data, static_cast<std::size_t>(len)));
}

EvpPkey ed25519_from_raw(std::string_view d)
{
    return EvpPkey(EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(d.data()), d.size()));
}

std::string public_n(EVP_PKEY* pkey)
{
    BIGNUM* n = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    const Bignum owned(n);
    std::string out(static_cast<std::size_t>(BN_num_bytes(n)), '\0');
    BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

// ---- base64url ----

TEST(Base64url, EncodesRfc4648VectorsWithoutPadding)
{
    EXPECT_EQ(base64url(""), "");
    EXPECT_EQ(base64url("f"), "Zg");
    EXPECT_EQ(base64url("fo"), "Zm8");
    EXPECT_EQ(base64url("foo"), "Zm9v");
    EXPECT_EQ(base64url("foob"), "Zm9vYg");
    EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64url("\xfb\xff"), "-_8");
    EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
}

TEST(Base64url, RoundTripsEveryLengthAndByteValue)
{
    std::string all;
    for (int c = 0; c < 256; ++c)
        all.push_back(static_cast<char>(c));
    EXPECT_EQ(base64url_decode(base64url(all)), all);
    for (std::size_t len = 0; len <= 70; ++len) {
        const std::string bytes = core::random_string(len);
        const std::string text = base64url(bytes);
        EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
        EXPECT_EQ(base64url_decode(text), bytes) << len;
    }
}

TEST(Base64url, RejectsPadding)
{
    for (const std::string_view s : {"Zg==", "Zg=", "Zm8=", "Zm9v====", "="})
        EXPECT_FALSE(base64url_decode(s).has_value()) << s;
}

TEST(Base64url, RejectsTheStandardAlphabet)
{
    for (const std::string_view s : {"+_8", "-/8", "+w", "ab/c"})
        EXPECT_FALSE(base64url_decode(s).has_value()) << s;
}

TEST(Base64url, RejectsWhitespaceAndOtherBytes)
{
    for (const std::string_view s :
         {"Zm9v\n", " Zm9v", "Zm 9v", "Zm9v\t", "Zm9v\r\n", "Zm.9", "Zm9\xc3", "Z!"})
        EXPECT_FALSE(base64url_decode(s).has_value()) << s;
    EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4)).has_value());
}

TEST(Base64url, RejectsImpossibleLengths)
{
    // Including "A" and "Zm9vA", whose stray 6 bits are zero: the length alone rules them out.
    for (const std::string_view s : {"Z", "A", "Zm9vY", "Zm9vA", "Zm9vYmFyZ", "AAAAA"})
        EXPECT_FALSE(base64url_decode(s).has_value()) << s;
}

TEST(Base64url, RejectsNonZeroTrailingBits)
{
    // "Zg" is the only encoding of "f"; "Zh" carries stray bits a lax decoder would drop.
    EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
    EXPECT_FALSE(base64url_decode("Zh").has_value());
    EXPECT_FALSE(base64url_decode("Zm9").has_value());
    EXPECT_EQ(base64url_decode("Zm8"), std::string("fo"));
}

// ---- algorithm names ----

TEST(JwsAlg, RoundTripsItsNames)
{
    EXPECT_EQ(to_string(JwsAlg::RS256), "RS256");
    EXPECT_EQ(to_string(JwsAlg::ES256), "ES256");
    EXPECT_EQ(to_string(JwsAlg::EdDSA), "EdDSA");
    for (const JwsAlg alg : all_algs)
        EXPECT_EQ(jws_alg_from_string(to_string(alg)), alg);
}

TEST(JwsAlg, RefusesNoneHmacAndCaseVariants)
{
    for (const std::string_view s : {"none", "None", "NONE", "", "HS256", "rs256", "es256", "EDDSA",
                                     "Ed25519", "PS256", "RS256 ", "ES384"})
        EXPECT_FALSE(jws_alg_from_string(s).has_value()) << s;
}

// ---- JWK thumbprints and test vectors ----

constexpr std::string_view rfc7638_n =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebW"
    "KRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
    "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2"
    "NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

TEST(Jwk, ThumbprintMatchesRfc7638Example)
{
    const json::object jwk{{"kty", "RSA"}, {"n", rfc7638_n}, {"e", "AQAB"}};
    const auto key = PublicKey::from_jwk(jwk);
    ASSERT_TRUE(key.has_value()) << key.error().message;
    EXPECT_EQ(key->kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EXPECT_EQ(key->alg(), JwsAlg::RS256);
    EXPECT_EQ(str(key->jwk().at("n")), rfc7638_n);
    EXPECT_EQ(str(key->jwk().at("e")), "AQAB");
    EXPECT_EQ(str(key->jwk().at("kid")), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EXPECT_EQ(str(key->jwk().at("use")), "sig");
}

TEST(Jwk, KeepsAGivenKid)
{
    const json::object jwk{
        {"kty", "RSA"}, {"n", rfc7638_n}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
    const auto key = PublicKey::from_jwk(jwk);
    ASSERT_TRUE(key.has_value()) << key.error().message;
    EXPECT_EQ(key->kid(), "2011-04-29");
}

// RFC 8037 Appendix A: the Ed25519 key (A.1), its public JWK (A.2), thumbprint (A.3) and the
// JWS of "Example of Ed25519 signing" (A.4). Ed25519 is deterministic, so our signature must
// be byte for byte the RFC's. (The signature was also checked against Python's `cryptography`
// and several JOSE libraries' RFC 8037 tests; a copy whose second half differs circulates.)
constexpr std::string_view rfc8037_d = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr std::string_view rfc8037_x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr std::string_view rfc8037_input =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
constexpr std::string_view rfc8037_signature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

TEST(Jwk, Ed25519MatchesRfc8037AppendixA)
{
    const EvpPkey raw = ed25519_from_raw(decode(rfc8037_d));
    ASSERT_TRUE(raw);
    const auto key = SigningKey::from_pem(pem_of(raw.get()), JwsAlg::EdDSA);
    ASSERT_TRUE(key.has_value()) << key.error().message;

    EXPECT_EQ(str(key->public_jwk().at("kty")), "OKP");
    EXPECT_EQ(str(key->public_jwk().at("crv")), "Ed25519");
    EXPECT_EQ(str(key->public_jwk().at("x")), rfc8037_x);
    EXPECT_EQ(key->kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");

    const auto signature = key->sign(rfc8037_input);
    ASSERT_TRUE(signature.has_value()) << signature.error().message;
    EXPECT_EQ(base64url(*signature), rfc8037_signature);

    const auto pub =
        PublicKey::from_jwk(json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", rfc8037_x}});
    ASSERT_TRUE(pub.has_value()) << pub.error().message;
    EXPECT_EQ(pub->kid(), key->kid());
    EXPECT_TRUE(pub->verify(rfc8037_input, decode(rfc8037_signature)));
    std::string bad = decode(rfc8037_signature);
    bad[10] = static_cast<char>(bad[10] ^ 1);
    EXPECT_TRUE(fails_with(pub->verify(rfc8037_input, bad), Errc::permission_denied));
    EXPECT_TRUE(fails_with(pub->verify("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmd",
                                       decode(rfc8037_signature)),
                           Errc::permission_denied));
}

TEST(Jwk, RefusesKeysThatAreNotPublicSigningKeysWeSupport)
{
    const json::object& ec = shared_key(JwsAlg::ES256).public_jwk();
    const auto with = [](json::object jwk, std::string_view name, json::value v) {
        jwk[name] = std::move(v);
        return jwk;
    };
    const auto without = [](json::object jwk, std::string_view name) {
        jwk.erase(name);
        return jwk;
    };
    std::string y = decode(ec.at("y").as_string());
    y[31] = static_cast<char>(y[31] ^ 1); // no longer on the curve
    std::string short_x = decode(ec.at("x").as_string()).substr(1);

    const std::vector<std::pair<std::string, json::object>> cases{
        {"private d", with(ec, "d", json::value(b64(std::string(32, '\x01'))))},
        {"wrong crv", with(ec, "crv", "P-384")},
        {"short x", with(ec, "x", json::value(b64(short_x)))},
        {"off curve", with(ec, "y", json::value(b64(y)))},
        {"x not base64url", with(ec, "x", "AAAA+AAA")},
        {"x not a string", with(ec, "x", 5)},
        {"no kty", without(ec, "kty")},
        {"symmetric", json::object{{"kty", "oct"}, {"k", "AAAA"}}},
        {"encryption key", with(ec, "use", "enc")},
        {"alg mismatch", with(ec, "alg", "RS256")},
        {"alg none", with(ec, "alg", "none")},
        {"empty kid", with(ec, "kid", "")},
        {"rsa leading zero e", json::object{{"kty", "RSA"}, {"n", rfc7638_n}, {"e", "AAEAAQ"}}},
        {"rsa e = 1", json::object{{"kty", "RSA"}, {"n", rfc7638_n}, {"e", "AQ"}}},
        {"okp wrong crv", json::object{{"kty", "OKP"}, {"crv", "X25519"}, {"x", rfc8037_x}}},
    };
    for (const auto& [name, jwk] : cases)
        EXPECT_TRUE(fails_with(PublicKey::from_jwk(jwk), Errc::invalid_argument)) << name;

    const auto rsa1024 = EvpPkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
    ASSERT_TRUE(rsa1024);
    EXPECT_TRUE(fails_with(
        PublicKey::from_jwk({{"kty", "RSA"}, {"n", b64(public_n(rsa1024.get()))}, {"e", "AQAB"}}),
        Errc::invalid_argument));
}

TEST(Jwk, PublicKeyCopiesVerify)
{
    const SigningKey& key = shared_key(JwsAlg::ES256);
    const auto token = jws_sign(key, {{"sub", "alice"}});
    ASSERT_TRUE(token.has_value());
    const PublicKey original = key.public_key();
    PublicKey copy = original;
    EXPECT_EQ(copy.kid(), key.kid());
    EXPECT_TRUE(jws_verify(*token, {copy}).has_value());
    copy = shared_key(JwsAlg::EdDSA).public_key();
    copy = original;
    EXPECT_TRUE(jws_verify(*token, {copy}).has_value());
    EXPECT_EQ(copy.jwk(), key.public_jwk());
}

// ---- SigningKey ----

static_assert(!std::is_copy_constructible_v<SigningKey>);
static_assert(!std::is_copy_assignable_v<SigningKey>);
static_assert(std::is_nothrow_move_constructible_v<SigningKey>);

class SigningKeyTest : public ::testing::TestWithParam<JwsAlg> {};

INSTANTIATE_TEST_SUITE_P(AllAlgs, SigningKeyTest, ::testing::ValuesIn(all_algs), [](const auto& p) {
    return std::string(to_string(p.param));
});

TEST_P(SigningKeyTest, PublishesAPublicJwkWithThumbprintKid)
{
    const SigningKey& key = shared_key(GetParam());
    EXPECT_EQ(key.alg(), GetParam());
    const json::object& jwk = key.public_jwk();
    EXPECT_EQ(str(jwk.at("alg")), to_string(GetParam()));
    EXPECT_EQ(str(jwk.at("use")), "sig");
    EXPECT_EQ(str(jwk.at("kid")), key.kid());
    EXPECT_FALSE(jwk.contains("d"));
    switch (GetParam()) {
    case JwsAlg::RS256:
        EXPECT_EQ(str(jwk.at("kty")), "RSA");
        EXPECT_EQ(str(jwk.at("e")), "AQAB");
        EXPECT_EQ(decode(jwk.at("n").as_string()).size(), 256U);
        EXPECT_EQ(jwk.size(), 6U);
        break;
    case JwsAlg::ES256:
        EXPECT_EQ(str(jwk.at("kty")), "EC");
        EXPECT_EQ(str(jwk.at("crv")), "P-256");
        EXPECT_EQ(decode(jwk.at("x").as_string()).size(), 32U);
        EXPECT_EQ(decode(jwk.at("y").as_string()).size(), 32U);
        EXPECT_EQ(jwk.size(), 7U);
        break;
    case JwsAlg::EdDSA:
        EXPECT_EQ(str(jwk.at("kty")), "OKP");
        EXPECT_EQ(str(jwk.at("crv")), "Ed25519");
        EXPECT_EQ(decode(jwk.at("x").as_string()).size(), 32U);
        EXPECT_EQ(jwk.size(), 6U);
        break;
    }

    // The kid is the RFC 7638 thumbprint, recomputed here from the published members.
    std::string input;
    switch (GetParam()) {
    case JwsAlg::RS256:
        input = R"({"e":")" + std::string(jwk.at("e").as_string()) + R"(","kty":"RSA","n":")" +
                std::string(jwk.at("n").as_string()) + R"("})";
        break;
    case JwsAlg::ES256:
        input = R"({"crv":"P-256","kty":"EC","x":")" + std::string(jwk.at("x").as_string()) +
                R"(","y":")" + std::string(jwk.at("y").as_string()) + R"("})";
        break;
    case JwsAlg::EdDSA:
        input = R"({"crv":"Ed25519","kty":"OKP","x":")" + std::string(jwk.at("x").as_string()) +
                R"("})";
        break;
    }
    EXPECT_EQ(key.kid(), sha256_base64url(input));

    const auto from_jwk = PublicKey::from_jwk(jwk);
    ASSERT_TRUE(from_jwk.has_value()) << from_jwk.error().message;
    EXPECT_EQ(from_jwk->kid(), key.kid());
    EXPECT_EQ(from_jwk->jwk(), jwk);
}

TEST_P(SigningKeyTest, GeneratesDistinctKeys)
{
    const auto a = SigningKey::generate(GetParam());
    ASSERT_TRUE(a.has_value()) << a.error().message;
    EXPECT_NE(a->kid(), shared_key(GetParam()).kid());
}

TEST_P(SigningKeyTest, PemRoundTripKeepsKidAndKey)
{
    const SigningKey& key = shared_key(GetParam());
    const auto pem = key.to_pem();
    ASSERT_TRUE(pem.has_value()) << pem.error().message;
    EXPECT_EQ(pem->view().substr(0, 28), "-----BEGIN PRIVATE KEY-----\n");
    const auto reloaded = SigningKey::from_pem(*pem, GetParam());
    ASSERT_TRUE(reloaded.has_value()) << reloaded.error().message;
    EXPECT_EQ(reloaded->kid(), key.kid());
    EXPECT_EQ(reloaded->public_jwk(), key.public_jwk());
    const auto token = jws_sign(*reloaded, {{"sub", "bob"}});
    ASSERT_TRUE(token.has_value());
    EXPECT_TRUE(jws_verify(*token, {key.public_key()}).has_value());
}

TEST_P(SigningKeyTest, FromPemRefusesAKeyOfAnotherAlgorithm)
{
    const auto pem = shared_key(GetParam()).to_pem();
    ASSERT_TRUE(pem.has_value());
    for (const JwsAlg other : all_algs) {
        if (other != GetParam()) {
            EXPECT_TRUE(fails_with(SigningKey::from_pem(*pem, other), Errc::invalid_argument))
                << to_string(GetParam()) << " key as " << to_string(other);
        }
    }
}

TEST(SigningKey, FromPemRefusesWeakKeysAndOtherCurves)
{
    const EvpPkey rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
    const EvpPkey p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    const EvpPkey x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    ASSERT_TRUE(rsa1024 && p384 && x25519);
    EXPECT_TRUE(fails_with(SigningKey::from_pem(pem_of(rsa1024.get()), JwsAlg::RS256),
                           Errc::invalid_argument));
    EXPECT_TRUE(fails_with(SigningKey::from_pem(pem_of(p384.get()), JwsAlg::ES256),
                           Errc::invalid_argument));
    EXPECT_TRUE(fails_with(SigningKey::from_pem(pem_of(x25519.get()), JwsAlg::EdDSA),
                           Errc::invalid_argument));
}

TEST(SigningKey, FromPemRefusesEncryptedPublicAndGarbageInput)
{
    const EvpPkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    ASSERT_TRUE(ec);

    const Bio encrypted(BIO_new(BIO_s_mem()));
    const std::string passphrase = "correct horse";
    ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(encrypted.get(), ec.get(), EVP_aes_256_cbc(),
                                            passphrase.data(), static_cast<int>(passphrase.size()),
                                            nullptr, nullptr),
              1);
    char* data = nullptr;
    long len = BIO_get_mem_data(encrypted.get(), &data);
    const core::Secret encrypted_pem(std::string_view(data, static_cast<std::size_t>(len)));
    ASSERT_NE(encrypted_pem.view().find("ENCRYPTED PRIVATE KEY"), std::string_view::npos);
    EXPECT_TRUE(
        fails_with(SigningKey::from_pem(encrypted_pem, JwsAlg::ES256), Errc::invalid_argument));

    const Bio pub(BIO_new(BIO_s_mem()));
    ASSERT_EQ(PEM_write_bio_PUBKEY(pub.get(), ec.get()), 1);
    len = BIO_get_mem_data(pub.get(), &data);
    EXPECT_TRUE(fails_with(
        SigningKey::from_pem(core::Secret(std::string_view(data, static_cast<std::size_t>(len))),
                             JwsAlg::ES256),
        Errc::invalid_argument));

    for (const std::string_view garbage :
         {"", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})
        EXPECT_TRUE(fails_with(SigningKey::from_pem(core::Secret(garbage), JwsAlg::ES256),
                               Errc::invalid_argument))
            << garbage;
}

TEST(SigningKey, MovedFromKeyRefusesToSign)
{
    auto key = SigningKey::generate(JwsAlg::EdDSA);
    ASSERT_TRUE(key.has_value());
    SigningKey moved = std::move(key).value();
    SigningKey& source = *key; // NOLINT(bugprone-use-after-move): testing the moved-from state
    EXPECT_TRUE(fails_with(source.sign("x"), Errc::invalid_argument));
    EXPECT_TRUE(fails_with(source.to_pem(), Errc::invalid_argument));
    EXPECT_TRUE(moved.sign("x").has_value());
}

// ---- signatures ----

TEST(Signature, Es256IsAlways64BytesAndVerifies)
{
    // Over 400 signatures, r or s shorter than 32 bytes (p = 1/128 each) is near certain, so
    // the left-padding is exercised here as well as in EcdsaConversion below.
    const SigningKey& key = shared_key(JwsAlg::ES256);
    const PublicKey pub = key.public_key();
    for (int i = 0; i < 400; ++i) {
        const std::string input = "message " + std::to_string(i);
        const auto signature = key.sign(input);
        ASSERT_TRUE(signature.has_value()) << signature.error().message;
        ASSERT_EQ(signature->size(), 64U);
        ASSERT_TRUE(pub.verify(input, *signature)) << i;
    }
}

TEST(Signature, EcdsaConversionPadsShortIntegersBothWays)
{
    // SEQUENCE { INTEGER 1, INTEGER 0x00 0x80 0x02 0x03 ... (33 bytes: high bit needs a zero) }
    std::string s_bytes(32, '\0');
    s_bytes[0] = '\x80';
    for (std::size_t i = 1; i < 32; ++i)
        s_bytes[i] = static_cast<char>(i + 1);
    const std::string der = std::string("\x30\x26\x02\x01\x01\x02\x21\x00", 8) + s_bytes;
    const auto raw = detail::ecdsa_der_to_jose(der, 32);
    ASSERT_TRUE(raw.has_value()) << raw.error().message;
    EXPECT_EQ(*raw, std::string(31, '\0') + '\x01' + s_bytes);
    const auto back = detail::ecdsa_jose_to_der(*raw, 32);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, der);
}

TEST(Signature, EcdsaConversionRejectsWrongShapes)
{
    EXPECT_TRUE(fails_with(detail::ecdsa_jose_to_der(std::string(63, '\x01'), 32),
                           Errc::permission_denied));
    EXPECT_TRUE(fails_with(detail::ecdsa_jose_to_der(std::string(65, '\x01'), 32),
                           Errc::permission_denied));
    EXPECT_TRUE(fails_with(detail::ecdsa_jose_to_der("", 32), Errc::permission_denied));
    const std::string good("\x30\x06\x02\x01\x01\x02\x01\x02", 8);
    ASSERT_TRUE(detail::ecdsa_der_to_jose(good, 32).has_value());
    EXPECT_TRUE(fails_with(detail::ecdsa_der_to_jose(good + '\0', 32), Errc::crypto_failed));
    EXPECT_TRUE(fails_with(detail::ecdsa_der_to_jose(good.substr(0, 7), 32), Errc::crypto_failed));
    // r is 33 significant bytes: cannot be a P-256 value.
    const std::string big = std::string("\x30\x26\x02\x21\x01", 5) + std::string(32, '\x01') +
                            std::string("\x02\x01\x01", 3);
    EXPECT_TRUE(fails_with(detail::ecdsa_der_to_jose(big, 32), Errc::crypto_failed));
}

TEST(Signature, Rs256IsPkcs1v15WithSha256)
{
    // Checked without EVP: s^e mod n must be the EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2).
    const SigningKey& key = shared_key(JwsAlg::RS256);
    const std::string input = "eyJhbGciOiJSUzI1NiJ9.e30";
    const auto signature = key.sign(input);
    ASSERT_TRUE(signature.has_value());
    const std::string n = decode(key.public_jwk().at("n").as_string());
    const std::string e = decode(key.public_jwk().at("e").as_string());
    ASSERT_EQ(signature->size(), n.size());

    const auto bn = [](const std::string& b) {
        return Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(b.data()),
                                static_cast<int>(b.size()), nullptr));
    };
    const Bignum bn_s = bn(*signature);
    const Bignum bn_e = bn(e);
    const Bignum bn_n = bn(n);
    const Bignum m(BN_new());
    const BnCtx ctx(BN_CTX_new());
    ASSERT_EQ(BN_mod_exp(m.get(), bn_s.get(), bn_e.get(), bn_n.get(), ctx.get()), 1);
    std::string em(n.size(), '\0');
    ASSERT_EQ(BN_bn2binpad(m.get(), reinterpret_cast<unsigned char*>(em.data()),
                           static_cast<int>(em.size())),
              static_cast<int>(em.size()));

    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
    const std::string digest_info =
        std::string("\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20",
                    19) +
        std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
    const std::string expected = std::string("\x00\x01", 2) +
                                 std::string(n.size() - 3 - digest_info.size(), '\xff') +
                                 std::string(1, '\0') + digest_info;
    EXPECT_EQ(em, expected);
}

// ---- compact JWS ----

class JwsTest : public ::testing::TestWithParam<JwsAlg> {
protected:
    [[nodiscard]] const SigningKey& key() const { return shared_key(GetParam()); }

    [[nodiscard]] std::vector<PublicKey> keys() const { return {key().public_key()}; }

    [[nodiscard]] std::string token(const json::object& payload = {{"sub", "alice"},
                                                                   {"n", 42}}) const
    {
        auto t = jws_sign(key(), payload);
        EXPECT_TRUE(t.has_value());
        return t ? *t : std::string();
    }
};

INSTANTIATE_TEST_SUITE_P(AllAlgs, JwsTest, ::testing::ValuesIn(all_algs), [](const auto& p) {
    return std::string(to_string(p.param));
});

TEST_P(JwsTest, SignsAndVerifiesARoundTrip)
{
    const json::object payload{{"iss", "https://idp.example"},
                               {"sub", "alice"},
                               {"aud", json::array{"client-1", "client-2"}},
                               {"n", 42},
                               {"nested", {{"name", "Zoë \"z\""}}}};
    const std::string t = token(payload);
    const auto parts = split(t);
    ASSERT_EQ(parts.size(), 3U);
    EXPECT_EQ(json::parse(decode(parts[0])),
              (json::object{{"alg", to_string(GetParam())}, {"kid", key().kid()}, {"typ", "JWT"}}));
    EXPECT_EQ(json::parse(decode(parts[1])), payload);

    const auto verified = jws_verify(t, keys());
    ASSERT_TRUE(verified.has_value()) << verified.error().message;
    EXPECT_EQ(*verified, payload);

    // Also with the key as a relying party would build it from our JWKS document.
    const auto from_jwks = PublicKey::from_jwk(key().public_jwk());
    ASSERT_TRUE(from_jwks.has_value());
    EXPECT_TRUE(jws_verify(t, {*from_jwks}).has_value());
}

TEST_P(JwsTest, FindsTheKeyAmongSeveralByKid)
{
    std::vector<PublicKey> all;
    all.reserve(all_algs.size());
    for (const JwsAlg alg : all_algs)
        all.push_back(shared_key(alg).public_key());
    EXPECT_TRUE(jws_verify(token(), all).has_value());
}

TEST_P(JwsTest, LeavesTypOutWhenEmptyAndChecksItWhenAsked)
{
    const auto untyped = jws_sign(key(), {{"sub", "alice"}}, "");
    ASSERT_TRUE(untyped.has_value());
    EXPECT_FALSE(json::parse(decode(split(*untyped)[0])).as_object().contains("typ"));
    EXPECT_TRUE(jws_verify(*untyped, keys()).has_value());
    EXPECT_TRUE(fails_with(jws_verify(*untyped, keys(), "JWT"), Errc::invalid_argument));

    const auto at = jws_sign(key(), {{"sub", "alice"}}, "at+jwt");
    ASSERT_TRUE(at.has_value());
    EXPECT_TRUE(jws_verify(*at, keys(), "at+jwt").has_value());
    EXPECT_TRUE(jws_verify(*at, keys(), "AT+JWT").has_value());
    EXPECT_TRUE(fails_with(jws_verify(*at, keys(), "JWT"), Errc::invalid_argument));
    EXPECT_TRUE(jws_verify(token(), keys(), "jwt").has_value());
}

TEST_P(JwsTest, RefusesATamperedPayload)
{
    auto parts = split(token());
    parts[1] = b64(R"({"sub":"mallory","n":42})");
    EXPECT_TRUE(fails_with(jws_verify(parts[0] + "." + parts[1] + "." + parts[2], keys()),
                           Errc::permission_denied));
}

TEST_P(JwsTest, RefusesATamperedHeader)
{
    auto parts = split(token());
    const std::string header = json::serialize(
        json::object{{"alg", to_string(GetParam())}, {"kid", key().kid()}, {"typ", "at+jwt"}});
    EXPECT_TRUE(fails_with(jws_verify(b64(header) + "." + parts[1] + "." + parts[2], keys()),
                           Errc::permission_denied));
}

TEST_P(JwsTest, RefusesATamperedSignature)
{
    const auto parts = split(token());
    const std::string signature = decode(parts[2]);
    const std::string signed_part = parts[0] + "." + parts[1] + ".";
    for (const std::size_t i : {std::size_t{0}, signature.size() / 2, signature.size() - 1}) {
        std::string bad = signature;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        EXPECT_TRUE(fails_with(jws_verify(signed_part + b64(bad), keys()), Errc::permission_denied))
            << i;
    }
    EXPECT_TRUE(fails_with(jws_verify(signed_part + b64(signature.substr(1)), keys()),
                           Errc::permission_denied));
    EXPECT_TRUE(fails_with(jws_verify(signed_part + b64(signature + '\0'), keys()),
                           Errc::permission_denied));
    EXPECT_TRUE(fails_with(jws_verify(signed_part, keys()), Errc::permission_denied));
}

TEST_P(JwsTest, RefusesAlgNone)
{
    const auto parts = split(token());
    for (const std::string_view none : {"none", "None", "NONE", "nOnE"}) {
        const std::string header =
            json::serialize(json::object{{"alg", none}, {"kid", key().kid()}, {"typ", "JWT"}});
        // Both the classic unsecured form and one that keeps a (now meaningless) signature.
        EXPECT_TRUE(fails_with(jws_verify(b64(header) + "." + parts[1] + ".", keys()),
                               Errc::invalid_argument))
            << none;
        EXPECT_TRUE(fails_with(jws_verify(b64(header) + "." + parts[1] + "." + parts[2], keys()),
                               Errc::invalid_argument))
            << none;
    }
}

TEST_P(JwsTest, RefusesAHeaderAlgOtherThanTheKeys)
{
    const SigningKey& victim = key();
    for (const JwsAlg attacker_alg : all_algs) {
        if (attacker_alg == GetParam())
            continue;
        // Signed correctly by the attacker's own key, but claiming the victim's kid.
        const std::string header =
            json::serialize(json::object{{"alg", to_string(attacker_alg)}, {"kid", victim.kid()}});
        const std::string t = sign_raw(shared_key(attacker_alg), header, R"({"sub":"alice"})");
        EXPECT_TRUE(fails_with(jws_verify(t, keys()), Errc::invalid_argument))
            << to_string(attacker_alg);
    }
}

TEST(Jws, RefusesHmacKeyedWithThePublicKey)
{
    // The classic RS256 -> HS256 confusion: an HMAC whose key is the published public key.
    const SigningKey& key = shared_key(JwsAlg::RS256);
    const std::string mac_key(key.public_jwk().at("n").as_string());
    const std::string input =
        b64(json::serialize(json::object{{"alg", "HS256"}, {"kid", key.kid()}})) + "." +
        b64(R"({"sub":"admin"})");
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    std::size_t mac_len = 0;
    ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, mac_key.data(), mac_key.size(),
                        reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                        mac.data(), mac.size(), &mac_len),
              nullptr);
    const std::string t =
        input + "." + b64(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_len));
    EXPECT_TRUE(fails_with(jws_verify(t, {key.public_key()}), Errc::invalid_argument));
}

TEST_P(JwsTest, RefusesAnUnknownOrMissingKid)
{
    const std::string t = token();
    EXPECT_TRUE(fails_with(jws_verify(t, {}), Errc::not_found));
    std::vector<PublicKey> others;
    for (const JwsAlg alg : all_algs)
        if (alg != GetParam())
            others.push_back(shared_key(alg).public_key());
    // A fresh key of the same algorithm: right alg, wrong kid.
    const auto fresh = SigningKey::generate(GetParam());
    ASSERT_TRUE(fresh.has_value());
    others.push_back(fresh->public_key());
    EXPECT_TRUE(fails_with(jws_verify(t, others), Errc::not_found));

    const std::string no_kid =
        sign_raw(key(), json::serialize(json::object{{"alg", to_string(GetParam())}}), "{}");
    EXPECT_TRUE(fails_with(jws_verify(no_kid, keys()), Errc::invalid_argument));
    const std::string numeric_kid = sign_raw(
        key(), json::serialize(json::object{{"alg", to_string(GetParam())}, {"kid", 7}}), "{}");
    EXPECT_TRUE(fails_with(jws_verify(numeric_kid, keys()), Errc::invalid_argument));
}

TEST_P(JwsTest, RefusesMalformedTokens)
{
    const std::string t = token();
    const auto parts = split(t);
    const std::string alg(to_string(GetParam()));
    const std::string good_header =
        json::serialize(json::object{{"alg", alg}, {"kid", key().kid()}});

    const std::vector<std::pair<std::string, std::string>> cases{
        {"empty", ""},
        {"one part", parts[0]},
        {"two parts", parts[0] + "." + parts[1]},
        {"four parts", t + "." + parts[2]},
        {"dots only", ".."},
        {"padded payload", parts[0] + "." + parts[1] + "=." + parts[2]},
        {"padded signature", t + "="},
        {"space", t + " "},
        {"newline inside", parts[0] + ".\n" + parts[1] + "." + parts[2]},
        {"header not json", b64("{alg") + "." + parts[1] + "." + parts[2]},
        {"header array", b64(R"(["alg","ES256"])") + "." + parts[1] + "." + parts[2]},
        {"header alg not a string",
         b64(json::serialize(json::object{{"alg", 1}, {"kid", key().kid()}})) + "." + parts[1] +
             "." + parts[2]},
        {"oversized", std::string(max_compact_jws_size + 1, 'A')},
        // Correctly signed, but the payload is not an object or the header demands an extension.
        {"payload array", sign_raw(key(), good_header, "[1,2]")},
        {"payload not json", sign_raw(key(), good_header, "Example of Ed25519 signing")},
        {"crit", sign_raw(key(),
                          json::serialize(json::object{
                              {"alg", alg}, {"kid", key().kid()}, {"crit", json::array{"exp"}}}),
                          "{}")},
    };
    for (const auto& [name, bad] : cases)
        EXPECT_TRUE(fails_with(jws_verify(bad, keys()), Errc::invalid_argument)) << name;
}

TEST_P(JwsTest, ErrorMessagesDoNotQuoteTheToken)
{
    const std::string secretish = "s3cr3t-claim-value";
    auto parts = split(token({{"sub", secretish}}));
    const std::string header =
        json::serialize(json::object{{"alg", "none"}, {"kid", "kid-" + secretish}});
    for (const std::string& bad :
         {parts[0] + "." + parts[1] + "." + b64("x"), b64(header) + "." + parts[1] + "."}) {
        const auto r = jws_verify(bad, keys());
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().message.find(secretish), std::string::npos) << r.error().message;
    }
}

// ---- hashes ----

TEST(Hashes, Sha256Base64urlMatchesRfc7636AppendixB)
{
    EXPECT_EQ(sha256_base64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Hashes, AtHashIsTheLeftHalfOfTheAlgorithmsHash)
{
    // OpenID Connect Core 1.0 Appendix A example access token; the EdDSA value (left half of
    // SHA-512) was computed independently with Python's hashlib.
    constexpr std::string_view token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    EXPECT_EQ(at_hash(token, JwsAlg::RS256), "77QmUPtjPfzWtF2AnpK9RQ");
    EXPECT_EQ(at_hash(token, JwsAlg::ES256), "77QmUPtjPfzWtF2AnpK9RQ");
    EXPECT_EQ(at_hash(token, JwsAlg::EdDSA), "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM");
}

} // namespace
} // namespace latchkey::oidc
