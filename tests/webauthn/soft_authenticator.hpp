// SPDX-License-Identifier: Apache-2.0
// Test support: CBOR built with libcbor, credential keys made with OpenSSL, and the bytes an
// authenticator and a browser would send, so the webauthn tests need no device and no fixtures.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cbor.h>

#include "webauthn/authenticator_data.hpp"
#include "webauthn/cose_key.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn::testing {

/// The reason a result failed with; Reason::internal for a success, so a test that expects a
/// refusal fails on an acceptance.
template <class T>
Reason reason(const core::Result<T>& r)
{
    return r ? Reason::internal : reason_of(r.error());
}

/// A copyable CBOR value (reference counted by libcbor) for writing test data inline.
class Cbor {
public:
    Cbor(std::int64_t v); // NOLINT(google-explicit-constructor)

    Cbor(int v) // NOLINT(google-explicit-constructor)
        : Cbor(static_cast<std::int64_t>(v))
    {
    }

    Cbor(const char* text); // NOLINT(google-explicit-constructor)
    static Cbor bytes(std::string_view b);
    static Cbor boolean(bool b);
    static Cbor map(std::initializer_list<std::pair<Cbor, Cbor>> entries);
    static Cbor array(const std::vector<Cbor>& items);

    Cbor(const Cbor& o);
    Cbor& operator=(const Cbor& o);
    Cbor(Cbor&&) noexcept = default;
    Cbor& operator=(Cbor&&) noexcept = default;
    ~Cbor() = default;

    [[nodiscard]] std::string encode() const;

    [[nodiscard]] cbor_item_t* get() const { return item_.get(); }

private:
    explicit Cbor(cbor_item_t* owned);

    struct Decref {
        void operator()(cbor_item_t* p) const noexcept { cbor_decref(&p); }
    };

    std::unique_ptr<cbor_item_t, Decref> item_;
};

/// A credential key pair held by the test "authenticator".
class SoftKey {
public:
    static SoftKey generate(CoseAlgorithm alg);

    [[nodiscard]] CoseAlgorithm alg() const { return alg_; }

    /// The public key as COSE_Key bytes.
    [[nodiscard]] std::string cose() const;
    /// A signature over `message` in the form WebAuthn uses for this algorithm (DER ECDSA).
    [[nodiscard]] std::string sign(std::string_view message) const;

    [[nodiscard]] EVP_PKEY* pkey() const { return pkey_.get(); }

private:
    SoftKey(CoseAlgorithm alg, EvpPkey pkey);
    CoseAlgorithm alg_;
    std::shared_ptr<EVP_PKEY> pkey_;
};

/// An X.509 certificate made for a test: `key`'s public key, signed by `issuer_key` (itself
/// when null), with the subject fields given as "C=SE,O=Acme,OU=...,CN=...".
struct CertSpec {
    std::string subject = "C=SE,O=Latchkey Test,OU=Authenticator Attestation,CN=Test Key";
    std::string issuer; // empty: the subject (self-signed)
    bool ca = false;
    int version = 3;
    std::optional<Aaguid> aaguid_extension;
    bool aaguid_critical = false;
    long not_before_days = -1; // relative to now
    long not_after_days = 365;
};

std::string make_certificate(const SoftKey& key, const SoftKey* issuer_key, const CertSpec& spec);

struct AuthDataSpec {
    std::string rp_id = "example.org";
    std::uint8_t flags = flag::up;
    std::uint32_t counter = 0;
    Aaguid aaguid{};
    std::string credential_id; // with cose_key: attested credential data follows (set flag::at)
    std::string cose_key;
    std::string extensions; // an encoded CBOR map (set flag::ed)
};

std::string make_auth_data(const AuthDataSpec& spec);

/// clientDataJSON as a browser writes it; `extra` is appended inside the object verbatim
/// (e.g. R"(,"crossOrigin":false)").
std::string make_client_data(std::string_view type,
                             std::string_view challenge,
                             std::string_view origin,
                             std::string_view extra = {});

std::string base64url(std::string_view bytes);

/// RegistrationResponseJSON / AuthenticationResponseJSON as a browser's toJSON() writes them.
std::string registration_json(std::string_view credential_id,
                              std::string_view client_data,
                              std::string_view attestation_object);
std::string authentication_json(std::string_view credential_id,
                                std::string_view client_data,
                                std::string_view auth_data,
                                std::string_view signature,
                                std::optional<std::string_view> user_handle);

} // namespace latchkey::webauthn::testing
