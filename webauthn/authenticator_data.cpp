// SPDX-License-Identifier: Apache-2.0
// authenticatorData decoding. Layout (§6.1, §6.5.1):
//
//   rpIdHash 32 | flags 1 | signCount 4 (big-endian)
//   [AT] aaguid 16 | credentialIdLength 2 | credentialId L | credentialPublicKey (COSE_Key CBOR)
//   [ED] extensions (CBOR map)
#include "webauthn/authenticator_data.hpp"

#include "webauthn/cbor.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

constexpr std::size_t rp_id_hash_size = 32;
constexpr std::size_t fixed_size = rp_id_hash_size + 1 + 4;
constexpr std::size_t aaguid_size = 16;

core::Unexpected malformed(std::string what)
{
    return core::fail(core::Error{Reason::malformed_authenticator_data, std::move(what)});
}

std::uint32_t big_endian(std::string_view b, std::size_t n) noexcept
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v = (v << 8) | static_cast<std::uint8_t>(b[i]);
    return v;
}

} // namespace

core::Result<AuthenticatorData> parse_authenticator_data(std::string_view bytes)
{
    if (bytes.size() > max_authenticator_data_size)
        return core::fail(core::Error{Reason::too_large, "authenticatorData is too large"});
    if (bytes.size() < fixed_size)
        return malformed("authenticatorData is shorter than 37 bytes");
    AuthenticatorData out;
    out.raw = std::string(bytes);
    out.rp_id_hash = std::string(bytes.substr(0, rp_id_hash_size));
    out.flags = static_cast<std::uint8_t>(bytes[rp_id_hash_size]);
    out.sign_count = big_endian(bytes.substr(rp_id_hash_size + 1), 4);
    if (out.backed_up() && !out.backup_eligible())
        return core::fail(core::Error{Reason::backup_state_invalid,
                                      "authenticatorData says backed up but not backup eligible"});
    std::string_view rest = bytes.substr(fixed_size);

    if ((out.flags & flag::at) != 0) {
        if (rest.size() < aaguid_size + 2)
            return malformed("attested credential data is truncated");
        AttestedCredential cred;
        for (std::size_t i = 0; i < aaguid_size; ++i)
            cred.aaguid[i] = static_cast<std::uint8_t>(rest[i]);
        const std::size_t id_length = big_endian(rest.substr(aaguid_size), 2);
        rest.remove_prefix(aaguid_size + 2);
        if (id_length > max_credential_id_size)
            return core::fail(core::Error{Reason::credential_id_too_long,
                                          "credential id is longer than 1023 bytes"});
        if (id_length == 0 || rest.size() < id_length)
            return malformed("credential id is empty or truncated");
        cred.id = std::string(rest.substr(0, id_length));
        rest.remove_prefix(id_length);

        std::size_t key_length = 0;
        auto key_item = decode_cbor(rest, CborLimits{}, &key_length);
        if (!key_item)
            return malformed("credential public key is not well-formed CBOR");
        LATCHKEY_TRY(key, parse_cose_key(**key_item, std::string(rest.substr(0, key_length))));
        cred.public_key = std::move(key);
        rest.remove_prefix(key_length);
        out.credential = std::move(cred);
    }

    if ((out.flags & flag::ed) != 0) {
        std::size_t ext_length = 0;
        auto ext = decode_cbor(rest, CborLimits{}, &ext_length);
        if (!ext || !cbor_isa_map(ext->get()) || !has_unique_keys(**ext))
            return malformed("extensions are not a well-formed CBOR map");
        out.extensions = std::string(rest.substr(0, ext_length));
        rest.remove_prefix(ext_length);
    }
    if (!rest.empty())
        return malformed("authenticatorData has trailing bytes");
    return out;
}

std::string aaguid_string(const Aaguid& aaguid)
{
    std::string out;
    out.reserve(36);
    static constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < aaguid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[aaguid[i] >> 4];
        out += hex[aaguid[i] & 0xf];
    }
    return out;
}

} // namespace latchkey::webauthn
