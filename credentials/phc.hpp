// SPDX-License-Identifier: Apache-2.0
// PHC string format for Argon2id hashes: $argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace latchkey::credentials {

struct PhcHash {
    std::uint32_t version = 0x13;
    std::uint32_t memory_kib = 0;
    std::uint32_t iterations = 0;
    std::uint32_t parallelism = 0;
    std::string salt; ///< raw bytes
    std::string hash; ///< raw bytes
};

/// Parses an argon2id PHC string (salt and hash in unpadded standard base64). Only argon2id
/// version 19 is accepted; parameters must be in libargon2's ranges.
core::Result<PhcHash> parse_phc(std::string_view text);

std::string format_phc(const PhcHash& h);

} // namespace latchkey::credentials
