// SPDX-License-Identifier: Apache-2.0
// Fuzzes authenticatorData decoding (flags, attested credential data, COSE key, extensions).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "webauthn/authenticator_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    (void)latchkey::webauthn::parse_authenticator_data(in);
    return 0;
}
