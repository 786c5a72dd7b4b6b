// SPDX-License-Identifier: Apache-2.0
// The NSS cache's lines.
#include "proto/nss.hpp"

namespace latchkey::proto {

std::string passwd_line(const NssUser& u)
{
    return u.name + ":x:" + std::to_string(u.uid) + ":" + std::to_string(u.gid) + ":" + u.gecos +
           ":" + u.home + ":" + u.shell + "\n";
}

std::string group_line(const NssGroup& g)
{
    std::string line = g.name + ":x:" + std::to_string(g.gid) + ":";
    for (std::size_t i = 0; i < g.members.size(); ++i)
        line += (i == 0 ? "" : ",") + g.members[i];
    return line + "\n";
}

} // namespace latchkey::proto
