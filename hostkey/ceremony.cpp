// SPDX-License-Identifier: Apache-2.0
// Assertions and credentials from a security key through libfido2.
#include "hostkey/ceremony.hpp"

#include <memory>

#include "webauthn/cbor.hpp"

namespace latchkey::hostkey {

namespace {

using Assert = std::unique_ptr<fido_assert_t, core::CFreeRef<fido_assert_t, fido_assert_free>>;
using Cred = std::unique_ptr<fido_cred_t, core::CFreeRef<fido_cred_t, fido_cred_free>>;

const unsigned char* bytes(const std::string& s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string copy(const unsigned char* p, std::size_t n)
{
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

/// How to ask for user verification: the PIN to pass to libfido2 (or null), and whether to
/// set the uv option; or the problem that stops it before the key is touched.
core::Result<const char*>
verification(const Device& key, bool wanted, const core::Secret* pin, bool& uv_option)
{
    uv_option = false;
    if (!wanted)
        return nullptr;
    if (key.has_pin()) {
        if (pin == nullptr || pin->empty())
            return core::fail(core::Error{Problem::pin_required, "the security key needs its PIN"});
        if (pin->view().find('\0') != std::string_view::npos)
            return core::fail(core::Error{Problem::pin_invalid, "a PIN has no NUL byte"});
        return pin->view().data(); // a Secret holds a std::string: NUL-terminated
    }
    if (key.has_builtin_uv()) {
        uv_option = true;
        return nullptr;
    }
    return core::fail(
        core::Error{Problem::not_supported, "the security key cannot verify its user"});
}

} // namespace

core::Result<Assertion> get_assertion(const Device& key, const AssertionRequest& request)
{
    bool uv_option = false;
    auto pin = verification(key, request.user_verification, request.pin, uv_option);
    if (!pin)
        return core::fail(pin.error());
    const Assert a(fido_assert_new());
    if (!a)
        return core::fail(core::Errc::internal, "out of memory");
    int rc = fido_assert_set_clientdata_hash(a.get(), bytes(request.client_data_hash),
                                             request.client_data_hash.size());
    if (rc == FIDO_OK)
        rc = fido_assert_set_rp(a.get(), request.rp_id.c_str());
    for (const auto& id : request.allow)
        if (rc == FIDO_OK)
            rc = fido_assert_allow_cred(a.get(), bytes(id), id.size());
    if (rc == FIDO_OK && uv_option)
        rc = fido_assert_set_uv(a.get(), FIDO_OPT_TRUE);
    if (rc != FIDO_OK)
        return fido_failure(rc, "preparing the assertion");
    rc = fido_dev_get_assert(key.get(), a.get(), *pin);
    if (rc != FIDO_OK)
        return fido_failure(rc, "asking the security key");
    if (fido_assert_count(a.get()) == 0)
        return core::fail(core::Error{Problem::no_credentials, "the security key gave nothing"});
    // libfido2 keeps the authenticator data as the CBOR byte string it came in.
    auto wrapped = webauthn::decode_cbor(
        copy(fido_assert_authdata_ptr(a.get(), 0), fido_assert_authdata_len(a.get(), 0)), {});
    const auto raw = wrapped ? webauthn::as_bytes(wrapped->get()) : std::nullopt;
    if (!raw)
        return core::fail(core::Error{Problem::failed, "the security key's answer is malformed"});
    return Assertion{
        copy(fido_assert_id_ptr(a.get(), 0), fido_assert_id_len(a.get(), 0)), std::string(*raw),
        copy(fido_assert_sig_ptr(a.get(), 0), fido_assert_sig_len(a.get(), 0)),
        copy(fido_assert_user_id_ptr(a.get(), 0), fido_assert_user_id_len(a.get(), 0))};
}

core::Result<MadeCredential> make_credential(const Device& key, const CredentialRequest& request)
{
    bool uv_option = false;
    auto pin = verification(key, request.user_verification, request.pin, uv_option);
    if (!pin)
        return core::fail(pin.error());
    const Cred c(fido_cred_new());
    if (!c)
        return core::fail(core::Errc::internal, "out of memory");
    int rc = fido_cred_set_type(c.get(), COSE_ES256);
    if (rc == FIDO_OK)
        rc = fido_cred_set_clientdata_hash(c.get(), bytes(request.client_data_hash),
                                           request.client_data_hash.size());
    if (rc == FIDO_OK)
        rc = fido_cred_set_rp(c.get(), request.rp_id.c_str(), request.rp_name.c_str());
    if (rc == FIDO_OK)
        rc = fido_cred_set_user(c.get(), bytes(request.user_id), request.user_id.size(),
                                request.user_name.c_str(), request.display_name.c_str(), nullptr);
    if (rc == FIDO_OK && request.resident)
        rc = fido_cred_set_rk(c.get(), FIDO_OPT_TRUE);
    if (rc == FIDO_OK && uv_option)
        rc = fido_cred_set_uv(c.get(), FIDO_OPT_TRUE);
    for (const auto& id : request.exclude)
        if (rc == FIDO_OK)
            rc = fido_cred_exclude(c.get(), bytes(id), id.size());
    if (rc != FIDO_OK)
        return fido_failure(rc, "preparing the credential");
    rc = fido_dev_make_cred(key.get(), c.get(), *pin);
    if (rc != FIDO_OK)
        return fido_failure(rc, "asking the security key");

    // The attestation object a browser would send: {fmt, attStmt, authData}.
    auto att_stmt = webauthn::decode_cbor(
        copy(fido_cred_attstmt_ptr(c.get()), fido_cred_attstmt_len(c.get())), {});
    if (!att_stmt || fido_cred_fmt(c.get()) == nullptr)
        return core::fail(core::Error{Problem::failed, "the security key's answer is malformed"});
    const std::string auth_data =
        copy(fido_cred_authdata_raw_ptr(c.get()), fido_cred_authdata_raw_len(c.get()));
    const webauthn::CborItem map(cbor_new_definite_map(3));
    const webauthn::CborItem fmt(cbor_build_string(fido_cred_fmt(c.get())));
    const webauthn::CborItem fmt_key(cbor_build_string("fmt"));
    const webauthn::CborItem stmt_key(cbor_build_string("attStmt"));
    const webauthn::CborItem data_key(cbor_build_string("authData"));
    const webauthn::CborItem data(cbor_build_bytestring(bytes(auth_data), auth_data.size()));
    if (!map || !fmt || !fmt_key || !stmt_key || !data_key || !data ||
        !cbor_map_add(map.get(), {fmt_key.get(), fmt.get()}) ||
        !cbor_map_add(map.get(), {stmt_key.get(), att_stmt->get()}) ||
        !cbor_map_add(map.get(), {data_key.get(), data.get()}))
        return core::fail(core::Errc::internal, "out of memory");
    auto encoded = webauthn::encode_cbor(*map);
    if (!encoded)
        return core::fail(encoded.error());
    return MadeCredential{copy(fido_cred_id_ptr(c.get()), fido_cred_id_len(c.get())),
                          std::move(*encoded)};
}

} // namespace latchkey::hostkey
