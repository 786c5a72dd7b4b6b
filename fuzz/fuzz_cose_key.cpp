// SPDX-License-Identifier: Apache-2.0
// Fuzzes COSE_Key decoding and its import into OpenSSL.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "webauthn/cose_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto key = latchkey::webauthn::parse_cose_key(in))
        (void)latchkey::webauthn::to_evp_pkey(*key);
    return 0;
}
