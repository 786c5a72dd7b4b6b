// SPDX-License-Identifier: Apache-2.0
// CIDR parsing and matching with inet_pton.
#include "directory/network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace latchkey::directory {

namespace {

std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text, bool& v4)
{
    std::array<std::uint8_t, 16> out{};
    const std::string s(text);
    in_addr a4{};
    if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
        out[10] = 0xff;
        out[11] = 0xff;
        const auto* b = reinterpret_cast<const std::uint8_t*>(&a4);
        for (int i = 0; i < 4; ++i)
            out[static_cast<std::size_t>(12 + i)] = b[i];
        v4 = true;
        return out;
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
        const auto* b = reinterpret_cast<const std::uint8_t*>(&a6);
        for (std::size_t i = 0; i < 16; ++i)
            out[i] = b[i];
        v4 = false;
        return out;
    }
    return std::nullopt;
}

} // namespace

bool is_address(std::string_view text)
{
    bool v4 = false;
    return text.size() <= 64 && parse_address(text, v4).has_value();
}

std::optional<std::string> canonical_address(std::string_view text)
{
    bool v4 = false;
    const auto raw = text.size() <= 64 ? parse_address(text, v4) : std::nullopt;
    if (!raw)
        return std::nullopt;
    const bool mapped = std::all_of(raw->begin(), raw->begin() + 10, [](auto b) { return b == 0; }) &&
                        (*raw)[10] == 0xff && (*raw)[11] == 0xff;
    char out[INET6_ADDRSTRLEN]{};
    if (v4 || mapped)
        return std::string(inet_ntop(AF_INET, raw->data() + 12, out, sizeof out));
    return std::string(inet_ntop(AF_INET6, raw->data(), out, sizeof out));
}

std::optional<Cidr> parse_cidr(std::string_view text)
{
    if (text.size() > 64)
        return std::nullopt;
    const auto slash = text.find('/');
    bool v4 = false;
    const auto addr = parse_address(text.substr(0, slash), v4);
    if (!addr)
        return std::nullopt;
    Cidr c;
    c.address = *addr;
    const std::uint32_t max = v4 ? 32 : 128;
    std::uint32_t prefix = max;
    if (slash != std::string_view::npos) {
        const auto p = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (ec != std::errc{} || end != p.data() + p.size() || p.empty() || prefix > max)
            return std::nullopt;
    }
    c.prefix = v4 ? prefix + 96 : prefix;
    return c;
}

bool contains(const Cidr& net, std::string_view address)
{
    bool v4 = false;
    const auto a = parse_address(address, v4);
    if (!a)
        return false;
    std::uint32_t bits = net.prefix;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i) {
        const std::uint32_t take = bits >= 8 ? 8 : bits;
        const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
        if ((net.address[i] & mask) != ((*a)[i] & mask))
            return false;
        bits -= take;
    }
    return true;
}

} // namespace latchkey::directory
