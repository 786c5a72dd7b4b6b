// SPDX-License-Identifier: Apache-2.0
// Test support: the software authenticator's keys, CBOR and byte layouts.
#include "tests/webauthn/soft_authenticator.hpp"

#include <stdexcept>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "core/random.hpp"
#include "webauthn/cbor.hpp"

namespace latchkey::webauthn::testing {

namespace {

void check(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(what);
}

std::string bn_param(EVP_PKEY* pkey, const char* name)
{
    BIGNUM* bn = nullptr;
    check(EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, "EVP_PKEY_get_bn_param");
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
}

std::string be(std::uint32_t v, int n)
{
    std::string out;
    for (int i = n - 1; i >= 0; --i)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}

} // namespace

Cbor::Cbor(cbor_item_t* owned)
    : item_(owned)
{
    check(owned != nullptr, "libcbor allocation");
}

Cbor::Cbor(std::int64_t v)
    : Cbor(v >= 0 ? cbor_build_uint64(static_cast<std::uint64_t>(v))
                  : cbor_build_negint64(static_cast<std::uint64_t>(-1 - v)))
{
}

Cbor::Cbor(const char* text)
    : Cbor(cbor_build_string(text))
{
}

Cbor Cbor::bytes(std::string_view b)
{
    return Cbor(cbor_build_bytestring(reinterpret_cast<cbor_data>(b.data()), b.size()));
}

Cbor Cbor::boolean(bool b)
{
    return Cbor(cbor_build_bool(b));
}

Cbor Cbor::map(std::initializer_list<std::pair<Cbor, Cbor>> entries)
{
    Cbor m(cbor_new_definite_map(entries.size()));
    for (const auto& [k, v] : entries)
        check(cbor_map_add(m.get(), cbor_pair{k.get(), v.get()}), "cbor_map_add");
    return m;
}

Cbor Cbor::array(std::initializer_list<Cbor> items)
{
    Cbor a(cbor_new_definite_array(items.size()));
    for (const auto& i : items)
        check(cbor_array_push(a.get(), i.get()), "cbor_array_push");
    return a;
}

Cbor::Cbor(const Cbor& o)
    : item_(cbor_incref(o.item_.get()))
{
}

Cbor& Cbor::operator=(const Cbor& o)
{
    if (this != &o)
        item_.reset(cbor_incref(o.item_.get()));
    return *this;
}

std::string Cbor::encode() const
{
    auto encoded = encode_cbor(*item_);
    check(encoded.has_value(), "encode_cbor");
    return *encoded;
}

SoftKey::SoftKey(CoseAlgorithm alg, EvpPkey pkey)
    : alg_(alg)
    , pkey_(pkey.release(), EVP_PKEY_free)
{
}

SoftKey SoftKey::generate(CoseAlgorithm alg)
{
    EVP_PKEY* k = nullptr;
    switch (alg) {
    case CoseAlgorithm::es256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case CoseAlgorithm::es384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case CoseAlgorithm::es512: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"); break;
    case CoseAlgorithm::eddsa: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case CoseAlgorithm::rs256:
    case CoseAlgorithm::ps256:
    case CoseAlgorithm::rs1:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
        break;
    }
    check(k != nullptr, "EVP_PKEY_Q_keygen");
    return SoftKey(alg, EvpPkey(k));
}

std::string SoftKey::cose() const
{
    EVP_PKEY* k = pkey_.get();
    const auto alg = static_cast<std::int64_t>(alg_);
    switch (alg_) {
    case CoseAlgorithm::eddsa: {
        std::string raw(32, '\0');
        std::size_t len = raw.size();
        check(EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(raw.data()), &len) ==
                  1,
              "raw public key");
        return Cbor::map({{1, 1}, {3, alg}, {-1, 6}, {-2, Cbor::bytes(raw)}}).encode();
    }
    case CoseAlgorithm::es256:
    case CoseAlgorithm::es384:
    case CoseAlgorithm::es512: {
        const std::size_t size = alg_ == CoseAlgorithm::es256   ? 32
                                 : alg_ == CoseAlgorithm::es384 ? 48
                                                                : 66;
        const int crv = alg_ == CoseAlgorithm::es256 ? 1 : alg_ == CoseAlgorithm::es384 ? 2 : 3;
        std::string x = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X);
        std::string y = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y);
        x.insert(0, size - x.size(), '\0');
        y.insert(0, size - y.size(), '\0');
        return Cbor::map({{1, 2}, {3, alg}, {-1, crv}, {-2, Cbor::bytes(x)}, {-3, Cbor::bytes(y)}})
            .encode();
    }
    default:
        return Cbor::map({{1, 3},
                          {3, alg},
                          {-1, Cbor::bytes(bn_param(k, OSSL_PKEY_PARAM_RSA_N))},
                          {-2, Cbor::bytes(bn_param(k, OSSL_PKEY_PARAM_RSA_E))}})
            .encode();
    }
}

std::string SoftKey::sign(std::string_view message) const
{
    const EVP_MD* md = nullptr;
    switch (alg_) {
    case CoseAlgorithm::eddsa: md = nullptr; break;
    case CoseAlgorithm::es384: md = EVP_sha384(); break;
    case CoseAlgorithm::es512: md = EVP_sha512(); break;
    case CoseAlgorithm::rs1: md = EVP_sha1(); break;
    default: md = EVP_sha256(); break;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    check(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey_.get()) == 1, "sign init");
    if (alg_ == CoseAlgorithm::ps256) {
        check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1, "pss");
        check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1, "pss salt");
    }
    std::size_t len = 0;
    const auto* m = reinterpret_cast<const unsigned char*>(message.data());
    check(EVP_DigestSign(ctx.get(), nullptr, &len, m, message.size()) == 1, "sign size");
    std::string sig(len, '\0');
    check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, m,
                         message.size()) == 1,
          "sign");
    sig.resize(len);
    return sig;
}

std::string make_auth_data(const AuthDataSpec& spec)
{
    std::string out = sha256(spec.rp_id);
    out += static_cast<char>(spec.flags);
    out += be(spec.counter, 4);
    if (!spec.cose_key.empty()) {
        out.append(reinterpret_cast<const char*>(spec.aaguid.data()), spec.aaguid.size());
        out += be(static_cast<std::uint32_t>(spec.credential_id.size()), 2);
        out += spec.credential_id;
        out += spec.cose_key;
    }
    out += spec.extensions;
    return out;
}

std::string make_client_data(std::string_view type,
                             std::string_view challenge,
                             std::string_view origin,
                             std::string_view extra)
{
    std::string out = R"({"type":")";
    out.append(type).append(R"(","challenge":")").append(base64url(challenge));
    out.append(R"(","origin":")").append(origin).append("\"").append(extra).append("}");
    return out;
}

std::string base64url(std::string_view bytes)
{
    return core::base64_encode(bytes, true, false);
}

} // namespace latchkey::webauthn::testing
