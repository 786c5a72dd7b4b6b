// SPDX-License-Identifier: Apache-2.0
// Randomness from the kernel, and the identifiers and encodings made from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::core {

/// Fills `out` from getrandom(2); aborts the process if the kernel cannot supply entropy,
/// because continuing with weak randomness would be worse than stopping.
void random_bytes(void* out, std::size_t n) noexcept;

std::string random_string(std::size_t n);

/// A random (version 4) UUID in its canonical lower-case form.
std::string uuid_v4();

bool is_uuid(std::string_view s) noexcept;

/// Uniform in [0, bound), without modulo bias.
std::uint32_t random_below(std::uint32_t bound) noexcept;

std::string to_hex(std::string_view bytes);

/// RFC 4648 base64; `url` selects the URL-safe alphabet, `pad` the trailing '='.
std::string base64_encode(std::string_view bytes, bool url, bool pad);

/// Accepts either alphabet, with or without padding; nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace latchkey::core
