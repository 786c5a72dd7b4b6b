// SPDX-License-Identifier: Apache-2.0
// UniqueFd's out-of-line part (keeps <unistd.h> out of the header).
#include "core/c_handle.hpp"

#include <unistd.h>

namespace latchkey::core {

void UniqueFd::reset(int fd) noexcept
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

} // namespace latchkey::core
