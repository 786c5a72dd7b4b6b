// SPDX-License-Identifier: Apache-2.0
// Where libnss_latchkey.so.2 finds the host's directory users, and the cache file's format.
//
// The module asks the daemon's NSS socket (read-only, any local process may connect); when the
// daemon does not answer, it reads the cache the daemon keeps: two files in the format of
// /etc/passwd and /etc/group (passwd(5), group(5)), which glibc's own parsers read.
#pragma once

#include <string>
#include <string_view>

#include "proto/messages.hpp"

namespace latchkey::proto {

/// The paths the module uses; the daemon's [sockets] nss and [unix] cache_dir default to them.
inline constexpr std::string_view nss_socket_path = "/run/latchkey/nss.sock";
inline constexpr std::string_view nss_cache_dir = "/var/cache/latchkey";
inline constexpr std::string_view nss_cache_passwd = "passwd"; ///< in the cache directory
inline constexpr std::string_view nss_cache_group = "group";

/// Set in latchkeyd's own environment: the module then answers nothing, so that the daemon's
/// lookups (its user, the admin group) never wait on its own socket.
inline constexpr const char* nss_off_variable = "LATCHKEY_NSS_OFF";

/// The lowest uid or gid the module ever hands out, whatever the daemon or the cache says
/// ([unix] uid_min may not be set lower): no answer can make anyone root or a system user.
inline constexpr std::uint32_t nss_min_id = 1000;

/// "alice:x:200000:200000:Alice Example:/home/alice:/bin/bash\n" (passwd(5)). The fields are
/// checked by the directory: no ':' or newline in any of them.
std::string passwd_line(const NssUser& user);
/// "latchkey-sudo:x:200001:alice,bob\n" (group(5)).
std::string group_line(const NssGroup& group);

} // namespace latchkey::proto
