// SPDX-License-Identifier: Apache-2.0
// CTAP messages over a Unix stream socket: a security key that is a program rather than a USB
// device (a software authenticator, or the one the tests plug in). Each message is a frame:
// the CTAP command byte (CTAP_CMD_INIT, CTAP_CMD_CBOR, ...), its length as 4 bytes big-endian,
// then the payload; the key answers each request with one frame of the same command.
//
// libfido2 reaches such a key through its transport hooks: socket_io() and socket_transport()
// are the fido_dev_io_t and fido_dev_transport_t of a device whose path is the socket's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fido.h>

#include "core/result.hpp"

namespace latchkey::hostkey {

/// The largest payload either side sends or accepts (CTAP's own messages are far smaller).
inline constexpr std::size_t max_ctap_payload = 16 * 1024;

struct CtapFrame {
    std::uint8_t command = 0;
    std::string payload;
};

/// Writes one frame; a payload over max_ctap_payload is Errc::invalid_argument.
core::Status write_ctap_frame(int fd, std::uint8_t command, std::string_view payload);

/// Reads one frame within `timeout_ms` (negative: no limit). Errc::device_failed when the time
/// runs out, the peer closed, or the frame is too long.
core::Result<CtapFrame> read_ctap_frame(int fd, int timeout_ms);

const fido_dev_io_t& socket_io();
const fido_dev_transport_t& socket_transport();

} // namespace latchkey::hostkey
