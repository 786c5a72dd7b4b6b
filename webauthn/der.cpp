// SPDX-License-Identifier: Apache-2.0
// DER walking over OpenSSL's ASN1_get_object and d2i_ASN1_INTEGER.
#include "webauthn/der.hpp"

#include <climits>
#include <memory>

#include <openssl/asn1.h>

#include "core/c_handle.hpp"

namespace latchkey::webauthn {

std::optional<Der> DerReader::next()
{
    if (rest_.empty() || failed_ || rest_.size() > static_cast<std::size_t>(LONG_MAX))
        return std::nullopt;
    const auto* start = reinterpret_cast<const unsigned char*>(rest_.data());
    const unsigned char* p = start;
    long length = 0;
    int tag = 0;
    int cls = 0;
    const int r = ASN1_get_object(&p, &length, &tag, &cls, static_cast<long>(rest_.size()));
    // 0x80: an error; indefinite lengths (constructed with r & 1) are not DER.
    const std::size_t header = static_cast<std::size_t>(p - start);
    if ((r & 0x80) != 0 || r == (V_ASN1_CONSTRUCTED | 1) || length < 0 ||
        static_cast<std::size_t>(length) > rest_.size() - header) {
        failed_ = true;
        return std::nullopt;
    }
    Der out;
    out.cls = cls;
    out.tag = tag;
    out.constructed = (r & V_ASN1_CONSTRUCTED) != 0;
    out.contents = rest_.substr(header, static_cast<std::size_t>(length));
    rest_.remove_prefix(header + static_cast<std::size_t>(length));
    return out;
}

std::optional<Der> only(std::string_view der)
{
    DerReader r(der);
    auto tlv = r.next();
    if (!tlv || !r.done())
        return std::nullopt;
    return tlv;
}

std::optional<long> small_integer(const Der& tlv)
{
    if (tlv.cls != V_ASN1_UNIVERSAL ||
        (tlv.tag != V_ASN1_INTEGER && tlv.tag != V_ASN1_ENUMERATED) || tlv.contents.empty() ||
        tlv.contents.size() > sizeof(long) - 1)
        return std::nullopt;
    // Rebuild the TLV as an INTEGER for OpenSSL to decode (ENUMERATED has the same contents).
    std::string der;
    der += static_cast<char>(V_ASN1_INTEGER);
    der += static_cast<char>(tlv.contents.size());
    der.append(tlv.contents);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ASN1_INTEGER, core::CFree<ASN1_INTEGER_free>> value(
        d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(der.size())));
    if (!value)
        return std::nullopt;
    long out = 0;
    if (ASN1_INTEGER_get_int64(reinterpret_cast<int64_t*>(&out), value.get()) != 1)
        return std::nullopt;
    return out;
}

} // namespace latchkey::webauthn
