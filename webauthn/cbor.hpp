// SPDX-License-Identifier: Apache-2.0
// CBOR from authenticators through libcbor, with explicit bounds checked before any allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <cbor.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"

namespace latchkey::webauthn {

using CborItem = std::unique_ptr<cbor_item_t, core::CFreeRef<cbor_item_t, cbor_decref>>;

/// What a peer may make us decode. The defaults fit every real attestation object (a TPM one
/// with two certificates is about 2 KiB) with a wide margin.
struct CborLimits {
    std::size_t max_size = 64 * 1024;
    std::size_t max_depth = 8;
    std::size_t max_items = 512;
    std::size_t max_string = 16 * 1024;
};

/// Decodes one item from the front of `bytes`. Before libcbor builds anything, a streaming pass
/// checks the limits, that every declared length fits in the bytes that remain, and that the
/// item uses neither indefinite lengths nor tags (CTAP2 canonical CBOR has neither).
/// With `consumed`, trailing bytes are allowed and their start is stored there; without it they
/// are an error. Errors: Reason::too_large, Reason::malformed_cbor.
core::Result<CborItem>
decode_cbor(std::string_view bytes, const CborLimits& limits, std::size_t* consumed = nullptr);

/// The item's encoding (definite lengths, shortest integer forms).
core::Result<std::string> encode_cbor(const cbor_item_t& item);

/// A map's encoding with its keys in CTAP2 canonical order (shorter encoded key first, then
/// bytewise), as libfido2 expects of an attestation statement.
core::Result<std::string> encode_canonical_map(const cbor_item_t& map);

/// True if no two keys of the map are equal (integer, text and byte string keys compared).
bool has_unique_keys(const cbor_item_t& map);

/// The value under an integer or text key of a map; nullptr if absent or `map` is no map.
const cbor_item_t* map_find(const cbor_item_t* map, std::int64_t key);
const cbor_item_t* map_find(const cbor_item_t* map, std::string_view key);

/// An unsigned or negative integer that fits in int64_t.
std::optional<std::int64_t> as_int(const cbor_item_t* item);

/// The contents of a definite byte string / text string.
std::optional<std::string_view> as_bytes(const cbor_item_t* item);
std::optional<std::string_view> as_text(const cbor_item_t* item);

} // namespace latchkey::webauthn
