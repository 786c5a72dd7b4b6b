// SPDX-License-Identifier: Apache-2.0
// Fuzzes the whole authentication ceremony. Input: the RP id, the stored COSE key (base64url)
// and its counter, then the AuthenticationResponseJSON; the ceremony expects the challenge and
// origin the response holds, and the stored credential is the one it names.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/random.hpp"
#include "fuzz/harness.hpp"
#include "webauthn/authentication.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace latchkey::webauthn;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto rp_id = fuzz::take_line(in);
    const auto key = fuzz::take_line(in);
    const auto counter = fuzz::take_line(in);
    if (!rp_id || !key || !counter)
        return 0;
    auto response = parse_authentication_response(in);
    if (!response)
        return 0;
    StoredCredential stored;
    stored.id = response->id;
    stored.public_key = latchkey::core::base64_decode(*key).value_or("");
    std::from_chars(counter->data(), counter->data() + counter->size(), stored.sign_count);
    stored.user_handle = response->user_handle.value_or("user");
    const auto now = latchkey::core::from_unix(1'735'689'600);
    auto pending = fuzz::pending_for(PendingCeremony::Kind::authentication,
                                     response->client_data_json, *rp_id, now);
    pending.user_handle = stored.user_handle;
    (void)verify_authentication(pending, *response, stored, now);
    return 0;
}
