// SPDX-License-Identifier: Apache-2.0
// Walking DER with OpenSSL's ASN1_get_object, for the certificate extensions that OpenSSL has
// no type for (Android's key description, Apple's nonce).
#pragma once

#include <optional>
#include <string_view>

namespace latchkey::webauthn {

/// One TLV: its class (V_ASN1_UNIVERSAL, V_ASN1_CONTEXT_SPECIFIC, ...), tag and contents.
struct Der {
    int cls = 0;
    int tag = 0;
    bool constructed = false;
    std::string_view contents;
};

/// Reads the TLVs of a DER string one after the other.
class DerReader {
public:
    explicit DerReader(std::string_view der)
        : rest_(der)
    {
    }

    /// The next TLV; nullopt at the end or on malformed DER (then failed() is true).
    std::optional<Der> next();

    [[nodiscard]] bool failed() const { return failed_; }

    [[nodiscard]] bool done() const { return rest_.empty(); }

private:
    std::string_view rest_;
    bool failed_ = false;
};

/// The single TLV `der` holds, with nothing after it.
std::optional<Der> only(std::string_view der);

/// The value of a small DER INTEGER or ENUMERATED's contents, if it fits in a long.
std::optional<long> small_integer(const Der& tlv);

} // namespace latchkey::webauthn
