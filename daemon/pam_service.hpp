// SPDX-License-Identifier: Apache-2.0
// The PAM socket: open to every local program; what a caller may ask is decided per request.
#pragma once

#include "daemon/directory.hpp"
#include "daemon/unix_server.hpp"

namespace latchkey::daemon {

/// Every peer is admitted (the socket is 0666, like unix_chkpwd's); requests that belong on
/// the admin socket are refused.
ConnectionFactory pam_connections(Directory& directory);

} // namespace latchkey::daemon
