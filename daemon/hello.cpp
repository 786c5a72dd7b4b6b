// SPDX-License-Identifier: Apache-2.0
// Version handshake.
#include "daemon/hello.hpp"

#include "proto/wire.hpp"

namespace latchkey::daemon {

proto::Response answer_hello(const proto::Hello& hello)
{
    if (hello.version != proto::protocol_version)
        return proto::failure({core::Errc::protocol_version,
                               "protocol version " + std::to_string(hello.version) +
                                   " is not supported; this latchkeyd speaks " +
                                   std::to_string(proto::protocol_version)});
    return proto::HelloReply{proto::protocol_version, "latchkeyd " LATCHKEY_VERSION};
}

} // namespace latchkey::daemon
