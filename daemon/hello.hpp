// SPDX-License-Identifier: Apache-2.0
// The version handshake every socket answers the same way.
#pragma once

#include "proto/messages.hpp"

namespace latchkey::daemon {

proto::Response answer_hello(const proto::Hello& hello);

} // namespace latchkey::daemon
