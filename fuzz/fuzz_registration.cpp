// SPDX-License-Identifier: Apache-2.0
// Fuzzes the whole registration ceremony. Input: the RP id, the Unix time, then the
// RegistrationResponseJSON; the ceremony expects the challenge and origin the response holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness.hpp"
#include "webauthn/registration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace latchkey::webauthn;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto rp_id = fuzz::take_line(in);
    const auto time = fuzz::take_line(in);
    if (!rp_id || !time)
        return 0;
    auto response = parse_registration_response(in);
    if (!response)
        return 0;
    const auto now = fuzz::time_of(*time);
    const auto pending = fuzz::pending_for(PendingCeremony::Kind::registration,
                                           response->client_data_json, *rp_id, now);
    (void)verify_registration(pending, *response, TrustPolicy{}, now);
    return 0;
}
