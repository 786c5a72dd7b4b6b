// SPDX-License-Identifier: Apache-2.0
// Test support: CBOR built with libcbor, credential keys made with OpenSSL, and the bytes an
// authenticator and a browser would send, so the webauthn tests need no device and no fixtures.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <cbor.h>

#include "webauthn/authenticator_data.hpp"
#include "webauthn/cose_key.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::webauthn::testing {

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
    static Cbor array(std::initializer_list<Cbor> items);

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

} // namespace latchkey::webauthn::testing
