// SPDX-License-Identifier: Apache-2.0
// Listening Unix sockets: taken from systemd socket activation, or bound by the daemon.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "core/c_handle.hpp"
#include "core/result.hpp"

namespace latchkey::daemon {

/// The stream Unix sockets systemd passed (LISTEN_FDS), keyed by their filesystem path.
/// Others are closed and logged. Clears the LISTEN_* variables.
std::map<std::string, core::UniqueFd> activated_sockets();

/// Binds and listens on `path` with `mode` (and `group`, when running as root). Creates the
/// parent directory (0755) if missing; replaces a stale socket file, but refuses when another
/// process still listens there.
core::Result<core::UniqueFd> bind_unix(const std::string& path, mode_t mode,
                                       std::optional<gid_t> group);

} // namespace latchkey::daemon
