// SPDX-License-Identifier: Apache-2.0
// libfido2 verification. libfido2 compares the extensions authData reports with those the
// caller asked for; the relying party asked for none it checks here, so the request is made
// to mirror what the authenticator reported (credProtect, hmac-secret, minPinLength, credBlob).
#include "webauthn/fido.hpp"

#include <string>

#include "webauthn/cbor.hpp"
#include "webauthn/reason.hpp"

#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/es384.h>
#include <fido/rs256.h>

namespace latchkey::webauthn {

namespace {

using Es256Pk = std::unique_ptr<es256_pk_t, core::CFreeRef<es256_pk_t, es256_pk_free>>;
using Es384Pk = std::unique_ptr<es384_pk_t, core::CFreeRef<es384_pk_t, es384_pk_free>>;
using EddsaPk = std::unique_ptr<eddsa_pk_t, core::CFreeRef<eddsa_pk_t, eddsa_pk_free>>;
using Rs256Pk = std::unique_ptr<rs256_pk_t, core::CFreeRef<rs256_pk_t, rs256_pk_free>>;

const unsigned char* bytes_of(std::string_view s) noexcept
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

core::Status result_of(int r, const char* call)
{
    if (r == FIDO_OK)
        return {};
    if (r == FIDO_ERR_INVALID_SIG)
        return refuse(Reason::bad_signature, "the signature does not verify");
    return refuse(Reason::attestation_invalid, std::string(call) + ": " + fido_strerr(r));
}

struct Extensions {
    int mask = 0;
    std::optional<std::int64_t> protection;
    std::optional<std::int64_t> min_pin_length;
};

// The extension outputs libfido2 decodes, read from authData's extensions map.
Extensions extensions_of(std::string_view encoded)
{
    Extensions out;
    if (encoded.empty())
        return out;
    auto map = decode_cbor(encoded, CborLimits{});
    if (!map)
        return out;
    const cbor_item_t* m = map->get();
    // hmac-secret is true at registration and the encrypted output (bytes) in an assertion.
    if (const auto* hmac = map_find(m, "hmac-secret");
        hmac != nullptr &&
        (as_bytes(hmac) || (cbor_is_bool(const_cast<cbor_item_t*>(hmac)) && cbor_get_bool(hmac))))
        out.mask |= FIDO_EXT_HMAC_SECRET;
    if (const auto* blob = map_find(m, "credBlob");
        blob != nullptr && cbor_is_bool(const_cast<cbor_item_t*>(blob)) && cbor_get_bool(blob))
        out.mask |= FIDO_EXT_CRED_BLOB;
    out.protection = as_int(map_find(m, "credProtect"));
    out.min_pin_length = as_int(map_find(m, "minPinLength"));
    return out;
}

std::string uncompressed_point(const CoseKey& key)
{
    std::string point = "\x04";
    point.append(key.x).append(key.y);
    return point;
}

} // namespace

bool fido_supports(CoseAlgorithm alg) noexcept
{
    switch (alg) {
    case CoseAlgorithm::es256:
    case CoseAlgorithm::es384:
    case CoseAlgorithm::eddsa:
    case CoseAlgorithm::rs256: return true;
    default: return false;
    }
}

bool fido_supports(const AttestationObject& object) noexcept
{
    if (!object.auth_data.credential || !fido_supports(object.auth_data.credential->public_key.alg))
        return false;
    const auto alg = as_int(map_find(object.statement.get(), "alg"));
    if (object.fmt == "fido-u2f")
        return !alg; // fido-u2f statements have no alg
    if (object.fmt == "packed")
        return alg && (*alg == COSE_ES256 || *alg == COSE_ES384 || *alg == COSE_RS256 ||
                       *alg == COSE_EDDSA);
    if (object.fmt == "tpm")
        return alg == COSE_RS1; // libfido2 1.12 computes TPM digests for RS1 only
    return false;
}

core::Status fido_verify_attestation(const AttestationObject& object,
                                     std::string_view rp_id,
                                     std::string_view client_data_json,
                                     bool require_uv)
{
    const auto& cred = *object.auth_data.credential;
    const bool self = map_find(object.statement.get(), "x5c") == nullptr;
    const Extensions ext = extensions_of(object.auth_data.extensions);
    const std::string rp(rp_id);
    FidoCred c(fido_cred_new());
    if (!c)
        return refuse(Reason::internal, "out of memory");
    // Every setter runs; the first failure is the one reported.
    int r = FIDO_OK;
    const char* failed = nullptr;
    const auto set = [&](int rc, const char* name) {
        if (rc != FIDO_OK && failed == nullptr) {
            r = rc;
            failed = name;
        }
    };
    set(fido_cred_set_type(c.get(), static_cast<int>(cred.public_key.alg)), "fido_cred_set_type");
    set(fido_cred_set_clientdata(c.get(), bytes_of(client_data_json), client_data_json.size()),
        "fido_cred_set_clientdata");
    set(fido_cred_set_rp(c.get(), rp.c_str(), nullptr), "fido_cred_set_rp");
    set(fido_cred_set_authdata_raw(c.get(), bytes_of(object.auth_data.raw),
                                   object.auth_data.raw.size()),
        "fido_cred_set_authdata_raw");
    set(fido_cred_set_extensions(c.get(), ext.mask), "fido_cred_set_extensions");
    if (ext.protection)
        set(fido_cred_set_prot(c.get(), static_cast<int>(*ext.protection)), "fido_cred_set_prot");
    if (ext.min_pin_length)
        set(fido_cred_set_pin_minlen(c.get(), static_cast<std::size_t>(*ext.min_pin_length)),
            "fido_cred_set_pin_minlen");
    set(fido_cred_set_uv(c.get(), require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT), "fido_cred_set_uv");
    set(fido_cred_set_fmt(c.get(), object.fmt.c_str()), "fido_cred_set_fmt");
    set(fido_cred_set_attstmt(c.get(), bytes_of(object.statement_encoded),
                              object.statement_encoded.size()),
        "fido_cred_set_attstmt");
    if (failed != nullptr)
        return result_of(r, failed);
    return self ? result_of(fido_cred_verify_self(c.get()), "fido_cred_verify_self")
                : result_of(fido_cred_verify(c.get()), "fido_cred_verify");
}

core::Status fido_verify_assertion(const CoseKey& key,
                                   std::string_view rp_id,
                                   std::string_view client_data_json,
                                   std::string_view authenticator_data,
                                   std::string_view signature,
                                   std::string_view extensions,
                                   bool require_uv)
{
    const std::string rp(rp_id);
    FidoAssert a(fido_assert_new());
    if (!a)
        return refuse(Reason::internal, "out of memory");
    int r = fido_assert_set_count(a.get(), 1);
    if (r == FIDO_OK)
        r = fido_assert_set_rp(a.get(), rp.c_str());
    if (r == FIDO_OK)
        r = fido_assert_set_clientdata(a.get(), bytes_of(client_data_json),
                                       client_data_json.size());
    if (r == FIDO_OK)
        r = fido_assert_set_authdata_raw(a.get(), 0, bytes_of(authenticator_data),
                                         authenticator_data.size());
    if (r == FIDO_OK)
        r = fido_assert_set_sig(a.get(), 0, bytes_of(signature), signature.size());
    if (r == FIDO_OK)
        r = fido_assert_set_extensions(a.get(), extensions_of(extensions).mask);
    if (r == FIDO_OK)
        r = fido_assert_set_up(a.get(), FIDO_OPT_TRUE);
    if (r == FIDO_OK)
        r = fido_assert_set_uv(a.get(), require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT);
    if (r != FIDO_OK)
        return refuse(Reason::malformed_authenticator_data,
                      std::string("fido_assert_set: ") + fido_strerr(r));

    const int type = static_cast<int>(key.alg);
    switch (key.alg) {
    case CoseAlgorithm::es256: {
        Es256Pk pk(es256_pk_new());
        const auto point = uncompressed_point(key);
        if (!pk || es256_pk_from_ptr(pk.get(), point.data(), point.size()) != FIDO_OK)
            return refuse(Reason::malformed_cose_key, "not a P-256 public key");
        r = fido_assert_verify(a.get(), 0, type, pk.get());
        break;
    }
    case CoseAlgorithm::es384: {
        Es384Pk pk(es384_pk_new());
        const auto point = uncompressed_point(key);
        if (!pk || es384_pk_from_ptr(pk.get(), point.data(), point.size()) != FIDO_OK)
            return refuse(Reason::malformed_cose_key, "not a P-384 public key");
        r = fido_assert_verify(a.get(), 0, type, pk.get());
        break;
    }
    case CoseAlgorithm::eddsa: {
        EddsaPk pk(eddsa_pk_new());
        if (!pk || eddsa_pk_from_ptr(pk.get(), key.x.data(), key.x.size()) != FIDO_OK)
            return refuse(Reason::malformed_cose_key, "not an Ed25519 public key");
        r = fido_assert_verify(a.get(), 0, type, pk.get());
        break;
    }
    case CoseAlgorithm::rs256: {
        Rs256Pk pk(rs256_pk_new());
        LATCHKEY_TRY(evp, to_evp_pkey(key));
        if (!pk || rs256_pk_from_EVP_PKEY(pk.get(), evp.get()) != FIDO_OK)
            return refuse(Reason::malformed_cose_key, "not an RSA public key");
        r = fido_assert_verify(a.get(), 0, type, pk.get());
        break;
    }
    default:
        return refuse(Reason::unsupported_algorithm, "libfido2 does not verify this algorithm");
    }
    if (r == FIDO_OK)
        return {};
    if (r == FIDO_ERR_INVALID_SIG)
        return refuse(Reason::bad_signature, "the assertion signature does not verify");
    return refuse(Reason::malformed_authenticator_data,
                  std::string("fido_assert_verify: ") + fido_strerr(r));
}

} // namespace latchkey::webauthn
