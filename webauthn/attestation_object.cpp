// SPDX-License-Identifier: Apache-2.0
// Attestation object decoding, bounded, with exactly the three members of §6.5.4.
#include "webauthn/attestation_object.hpp"

#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

constexpr std::size_t max_format_length = 32;

core::Unexpected malformed(std::string what)
{
    return core::fail(core::Error{Reason::malformed_attestation, std::move(what)});
}

} // namespace

core::Result<AttestationObject> parse_attestation_object(std::string_view bytes)
{
    CborLimits limits;
    limits.max_size = max_attestation_object_size;
    auto decoded = decode_cbor(bytes, limits);
    if (!decoded)
        return core::fail(std::move(decoded).error());
    const cbor_item_t* root = decoded->get();
    if (!cbor_isa_map(const_cast<cbor_item_t*>(root)) || cbor_map_size(root) != 3 ||
        !has_unique_keys(*root))
        return malformed("attestation object is not a map of fmt, attStmt and authData");
    const auto fmt = as_text(map_find(root, "fmt"));
    const cbor_item_t* statement = map_find(root, "attStmt");
    const auto auth_data = as_bytes(map_find(root, "authData"));
    if (!fmt || fmt->empty() || fmt->size() > max_format_length || statement == nullptr ||
        !cbor_isa_map(const_cast<cbor_item_t*>(statement)) || !has_unique_keys(*statement) ||
        !auth_data)
        return malformed("attestation object lacks fmt, attStmt or authData");

    AttestationObject out;
    out.fmt = std::string(*fmt);
    LATCHKEY_TRY(encoded, encode_canonical_map(*statement));
    out.statement_encoded = std::move(encoded);
    LATCHKEY_TRY(parsed, parse_authenticator_data(*auth_data));
    out.auth_data = std::move(parsed);
    out.statement = CborItem(cbor_incref(const_cast<cbor_item_t*>(statement)));
    return out;
}

} // namespace latchkey::webauthn
