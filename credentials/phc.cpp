// SPDX-License-Identifier: Apache-2.0
// PHC string parsing and formatting.
#include "credentials/phc.hpp"

#include <charconv>
#include <vector>

#include "core/random.hpp"

namespace latchkey::credentials {

namespace {

core::Unexpected malformed(std::string_view what)
{
    return core::fail(core::Errc::invalid_argument, "malformed password hash: " + std::string(what));
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos)
            return parts;
        start = pos + 1;
    }
}

bool parse_param(std::string_view kv, std::string_view key, std::uint32_t& out)
{
    if (kv.size() <= key.size() + 1 || kv.substr(0, key.size()) != key || kv[key.size()] != '=')
        return false;
    const auto v = kv.substr(key.size() + 1);
    if (v.size() > 1 && v[0] == '0')
        return false; // PHC forbids leading zeros
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc{} && p == v.data() + v.size();
}

bool is_b64(std::string_view s)
{
    for (const char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    return true;
}

} // namespace

core::Result<PhcHash> parse_phc(std::string_view text)
{
    if (text.size() > 512)
        return malformed("too long");
    const auto parts = split(text, '$');
    // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
    if (parts.size() != 6 || !parts[0].empty())
        return malformed("wrong number of fields");
    if (parts[1] != "argon2id")
        return malformed("not argon2id");
    PhcHash h;
    if (!parse_param(parts[2], "v", h.version) || h.version != 0x13)
        return malformed("unsupported version");
    const auto params = split(parts[3], ',');
    if (params.size() != 3 || !parse_param(params[0], "m", h.memory_kib) ||
        !parse_param(params[1], "t", h.iterations) || !parse_param(params[2], "p", h.parallelism))
        return malformed("bad parameters");
    if (h.parallelism < 1 || h.parallelism > 255 || h.iterations < 1 ||
        h.memory_kib < 8 * h.parallelism || h.memory_kib > 4u * 1024 * 1024)
        return malformed("parameters out of range");
    if (!is_b64(parts[4]) || !is_b64(parts[5]))
        return malformed("bad base64");
    auto salt = core::base64_decode(parts[4]);
    auto hash = core::base64_decode(parts[5]);
    if (!salt || !hash || salt->size() < 8 || hash->size() < 16 || hash->size() > 64)
        return malformed("bad salt or hash length");
    h.salt = std::move(*salt);
    h.hash = std::move(*hash);
    return h;
}

std::string format_phc(const PhcHash& h)
{
    return "$argon2id$v=" + std::to_string(h.version) + "$m=" + std::to_string(h.memory_kib) +
           ",t=" + std::to_string(h.iterations) + ",p=" + std::to_string(h.parallelism) + "$" +
           core::base64_encode(h.salt, false, false) + "$" +
           core::base64_encode(h.hash, false, false);
}

} // namespace latchkey::credentials
