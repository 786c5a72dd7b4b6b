// SPDX-License-Identifier: Apache-2.0
// The NSS socket: read-only lookups of the host's Unix users and groups (libnss_latchkey.so.2).
#pragma once

#include "daemon/unix_server.hpp"
#include "directory/host_users.hpp"

namespace latchkey::daemon {

/// Every local process may connect (names and uids are no secret: /etc/passwd is world-readable
/// too); it may only look up (nss.lookup, hello), never change anything. Each uid's requests
/// are one fairness key, so one process resolving names in a loop delays only itself.
ConnectionFactory nss_connections(directory::HostUsers& users);

} // namespace latchkey::daemon
