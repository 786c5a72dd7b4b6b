// SPDX-License-Identifier: Apache-2.0
// TOTP through liboath, plus base32 and otpauth URIs.
//
// liboath's own validate functions compare with strcmp(), so verification goes through the
// *_callback variant with a constant-time comparison of our own.
#include "credentials/totp.hpp"

#include <liboath/oath.h>

#include <array>
#include <climits>
#include <cstddef>

#include "core/random.hpp"

namespace latchkey::credentials {

namespace {

constexpr std::size_t secret_bytes = 20;
constexpr std::size_t max_digits = 8;
constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// oath_init() once per process; C++ makes the static's initialisation thread-safe. The
/// library is never deinitialised: oath_done() at exit would race with other threads.
bool oath_ready() noexcept
{
    static const bool ready = ::oath_init() == OATH_OK;
    return ready;
}

/// The liboath time-step size, or 0 when the params cannot be used.
unsigned usable_step(const TotpParams& p) noexcept
{
    if (p.digits < 6 || p.digits > max_digits)
        return 0;
    const auto step = p.step.count();
    if (step <= 0 || step > UINT_MAX)
        return 0;
    return static_cast<unsigned>(step);
}

bool is_unreserved(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view s)
{
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (is_unreserved(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(hex[b >> 4]);
            out.push_back(hex[b & 0xf]);
        }
    }
    return out;
}

int base32_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

bool is_code(std::string_view code, unsigned digits) noexcept
{
    if (code.size() != digits)
        return false;
    for (const char c : code)
        if (c < '0' || c > '9')
            return false;
    return true;
}

/// liboath's strcmp-like callback: 0 on a match, positive otherwise.
int compare_code(void* handle, const char* candidate)
{
    const auto* code = static_cast<const std::string_view*>(handle);
    return core::constant_time_equal(*code, candidate) ? 0 : 1;
}

} // namespace

core::Secret generate_totp_secret()
{
    std::array<char, secret_bytes> raw{};
    core::random_bytes(raw.data(), raw.size());
    core::Secret secret(std::string_view(raw.data(), raw.size()));
    core::wipe(raw.data(), raw.size());
    return secret;
}

std::string base32_encode(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const unsigned char c : bytes) {
        acc = ((acc << 8) | c) & 0xfff; // at most 4 + 8 live bits
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(base32_alphabet[(acc >> bits) & 31]);
        }
    }
    if (bits > 0)
        out.push_back(base32_alphabet[(acc << (5 - bits)) & 31]);
    return out;
}

std::optional<std::string> base32_decode(std::string_view text)
{
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    switch (text.size() % 8) {
    case 1:
    case 3:
    case 6:
        return std::nullopt; // no whole number of bytes ends there
    default:
        break;
    }
    std::string out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = base32_value(c);
        if (v < 0) {
            core::wipe(out.data(), out.size());
            return std::nullopt;
        }
        acc = ((acc << 5) | static_cast<std::uint32_t>(v)) & 0xfff; // at most 7 + 5 live bits
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

std::string otpauth_uri(std::string_view issuer,
                        std::string_view label,
                        const core::Secret& secret,
                        const TotpParams& params)
{
    const std::string encoded_issuer = percent_encode(issuer);
    std::string uri = "otpauth://totp/";
    uri += encoded_issuer;
    uri += ':';
    uri += percent_encode(label);
    uri += "?secret=";
    uri += base32_encode(secret.view());
    uri += "&issuer=";
    uri += encoded_issuer;
    uri += "&algorithm=SHA1&digits=";
    uri += std::to_string(params.digits);
    uri += "&period=";
    uri += std::to_string(params.step.count());
    return uri;
}

std::optional<std::int64_t> verify_totp(const core::Secret& secret,
                                        std::string_view code,
                                        core::TimePoint now,
                                        const TotpParams& params,
                                        std::optional<std::int64_t> last_used_step)
{
    const unsigned step = usable_step(params);
    const std::int64_t unix_now = core::to_unix(now);
    if (step == 0 || unix_now < 0 || !is_code(code, params.digits) || !oath_ready())
        return std::nullopt;

    int position = 0;
    const int rc = ::oath_totp_validate2_callback(secret.view().data(),
                                                  secret.size(),
                                                  static_cast<time_t>(unix_now),
                                                  step,
                                                  OATH_TOTP_DEFAULT_START_TIME,
                                                  params.digits,
                                                  params.window,
                                                  &position,
                                                  compare_code,
                                                  &code);
    if (rc < 0) // OATH_INVALID_OTP, or an internal failure: either way, no match
        return std::nullopt;

    const std::int64_t matched = unix_now / step + position;
    // Before the epoch liboath's unsigned counter wraps; no real code lives there.
    if (matched < 0)
        return std::nullopt;
    // liboath stops at the first match, so a replayed step also hides the (one in a million)
    // chance of the same code at a later step in the window: a refusal, never a false accept.
    if (last_used_step && matched <= *last_used_step)
        return std::nullopt;
    return matched;
}

std::string totp_code(const core::Secret& secret, core::TimePoint at, const TotpParams& params)
{
    const unsigned step = usable_step(params);
    const std::int64_t unix_at = core::to_unix(at);
    if (step == 0 || unix_at < 0 || !oath_ready())
        return {};
    std::array<char, max_digits + 1> out{};
    const int rc = ::oath_totp_generate(secret.view().data(),
                                        secret.size(),
                                        static_cast<time_t>(unix_at),
                                        step,
                                        OATH_TOTP_DEFAULT_START_TIME,
                                        params.digits,
                                        out.data());
    if (rc != OATH_OK)
        return {};
    return {out.data(), params.digits};
}

} // namespace latchkey::credentials
