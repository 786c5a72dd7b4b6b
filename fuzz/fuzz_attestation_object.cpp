// SPDX-License-Identifier: Apache-2.0
// Fuzzes attestation object decoding and the statement verification of every format (none,
// packed, fido-u2f, tpm, android-key, apple) on whatever decodes. Input: a line with the
// clientDataJSON the statement should cover, then the attestation object's bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness.hpp"
#include "webauthn/attestation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace latchkey::webauthn;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto client_data = fuzz::take_line(in);
    if (!client_data)
        return 0;
    auto object = parse_attestation_object(in);
    if (!object || !object->auth_data.credential)
        return 0;
    TrustPolicy policy;
    (void)verify_statement(*object, "example.org", *client_data, false, policy,
                           latchkey::core::from_unix(1'735'689'600));
    return 0;
}
