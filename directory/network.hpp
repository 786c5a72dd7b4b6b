// SPDX-License-Identifier: Apache-2.0
// IPv4/IPv6 CIDR networks for the allowed-logon-networks setting.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::directory {

struct Cidr {
    std::array<std::uint8_t, 16> address{}; ///< IPv4 as IPv4-mapped IPv6
    std::uint32_t prefix = 0;               ///< over the 128-bit form
};

/// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
std::optional<Cidr> parse_cidr(std::string_view text);

/// Whether `text` is an IPv4 or IPv6 address (not a host name).
bool is_address(std::string_view text);

/// The usual text of an IPv4 or IPv6 address, an IPv4-mapped IPv6 address as IPv4 (as the HTTP
/// server writes a peer's: "::ffff:10.0.0.1" ──► "10.0.0.1", "2001:DB8::1" ──► "2001:db8::1"),
/// or nullopt when `text` is none.
std::optional<std::string> canonical_address(std::string_view text);

/// True when `address` (a textual IPv4 or IPv6 address) lies in `net`.
bool contains(const Cidr& net, std::string_view address);

} // namespace latchkey::directory
