// SPDX-License-Identifier: Apache-2.0
// Attestation certificate chains through OpenSSL's X.509 code.
#include "webauthn/certificates.hpp"

#include <algorithm>
#include <ctime>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "webauthn/cbor.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

using X509Store = std::unique_ptr<X509_STORE, core::CFree<X509_STORE_free>>;
using X509StoreCtx = std::unique_ptr<X509_STORE_CTX, core::CFree<X509_STORE_CTX_free>>;
using Asn1Object = std::unique_ptr<ASN1_OBJECT, core::CFree<ASN1_OBJECT_free>>;
using Asn1OctetString = std::unique_ptr<ASN1_OCTET_STRING, core::CFree<ASN1_OCTET_STRING_free>>;

// sk_X509_free is a macro: a function to take its address. The stack does not own its certs.
void free_x509_stack(STACK_OF(X509) * s) noexcept
{
    sk_X509_free(s);
}

using X509Stack = std::unique_ptr<STACK_OF(X509), core::CFree<free_x509_stack>>;

/// id-fido-gen-ce-aaguid: the AAGUID of the authenticator model, in attestation certificates.
constexpr const char* oid_fido_aaguid = "1.3.6.1.4.1.45724.1.1.4";

X509_EXTENSION* find_extension(X509* cert, const char* oid)
{
    const Asn1Object object(OBJ_txt2obj(oid, 1));
    if (!object)
        return nullptr;
    const int index = X509_get_ext_by_OBJ(cert, object.get(), -1);
    return index < 0 ? nullptr : X509_get_ext(cert, index);
}

} // namespace

core::Result<Chain> chain_of(const cbor_item_t* x5c)
{
    auto* a = const_cast<cbor_item_t*>(x5c);
    if (a == nullptr || !cbor_isa_array(a) || cbor_array_size(a) == 0 ||
        cbor_array_size(a) > max_chain_length)
        return refuse(Reason::attestation_invalid, "x5c is not a list of 1 to 5 certificates");
    Chain out;
    for (std::size_t i = 0; i < cbor_array_size(a); ++i) {
        const auto der = as_bytes(cbor_array_handle(a)[i]);
        if (!der)
            return refuse(Reason::attestation_invalid, "x5c holds something other than bytes");
        LATCHKEY_TRY(cert, parse_certificate(*der));
        out.der.emplace_back(*der);
        out.certs.push_back(std::move(cert));
    }
    return out;
}

core::Status check_validity(const Chain& chain, core::TimePoint now)
{
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    for (const auto& cert : chain.certs) {
        if (X509_cmp_time(X509_get0_notBefore(cert.get()), &t) > 0 ||
            X509_cmp_time(X509_get0_notAfter(cert.get()), &t) < 0)
            return refuse(Reason::certificate_invalid,
                          "an attestation certificate is not valid at this time");
    }
    return {};
}

core::Status check_aaguid_extension(X509* cert, const Aaguid& aaguid)
{
    const OpensslErrorScope errors;
    X509_EXTENSION* ext = find_extension(cert, oid_fido_aaguid);
    if (ext == nullptr)
        return {};
    if (X509_EXTENSION_get_critical(ext) != 0)
        return refuse(Reason::attestation_invalid, "the AAGUID extension is marked critical");
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
    const unsigned char* p = ASN1_STRING_get0_data(value);
    const Asn1OctetString inner(d2i_ASN1_OCTET_STRING(nullptr, &p, ASN1_STRING_length(value)));
    if (!inner || ASN1_STRING_length(inner.get()) != static_cast<int>(aaguid.size()) ||
        !std::equal(aaguid.begin(), aaguid.end(), ASN1_STRING_get0_data(inner.get())))
        return refuse(Reason::aaguid_mismatch,
                      "the certificate's AAGUID is not the one in authenticatorData");
    return {};
}

bool is_ca(X509* cert)
{
    return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

std::optional<std::string_view> extension_der(X509* cert, const char* oid)
{
    const OpensslErrorScope errors;
    X509_EXTENSION* ext = find_extension(cert, oid);
    if (ext == nullptr)
        return std::nullopt;
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
    return std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                            static_cast<std::size_t>(ASN1_STRING_length(value)));
}

bool chain_ends_at(const Chain& chain, const std::vector<std::string>& anchors, core::TimePoint now)
{
    const OpensslErrorScope errors;
    const X509Store store(X509_STORE_new());
    const X509Stack untrusted(sk_X509_new_null());
    const X509StoreCtx ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx || chain.certs.empty())
        return false;
    bool any = false;
    for (const auto& der : anchors) {
        auto anchor = parse_certificate(der);
        if (anchor && X509_STORE_add_cert(store.get(), anchor->get()) == 1)
            any = true;
    }
    for (std::size_t i = 1; i < chain.certs.size(); ++i)
        if (sk_X509_push(untrusted.get(), chain.certs[i].get()) <= 0)
            return false;
    if (!any || X509_STORE_CTX_init(ctx.get(), store.get(), chain.leaf(), untrusted.get()) != 1)
        return false;
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(now));
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
    return X509_verify_cert(ctx.get()) == 1;
}

} // namespace latchkey::webauthn
