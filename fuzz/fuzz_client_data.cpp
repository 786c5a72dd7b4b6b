// SPDX-License-Identifier: Apache-2.0
// Fuzzes clientDataJSON decoding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "webauthn/client_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    (void)latchkey::webauthn::parse_client_data(in);
    return 0;
}
