// SPDX-License-Identifier: Apache-2.0
// The PAM socket: open to every local program; the AuthEngine decides what each caller may ask.
#pragma once

#include "credentials/auth_engine.hpp"
#include "credentials/mfa.hpp"
#include "daemon/unix_server.hpp"

namespace latchkey::daemon {

/// Every peer is admitted (the socket is 0666, like unix_chkpwd's helper); each connection
/// carries at most one dialogue at a time. Requests that belong on the admin socket are refused.
/// `answer_timeout` bounds how long a dialogue waits for a person to answer a prompt.
ConnectionFactory pam_connections(credentials::AuthEngine& engine,
                                  credentials::Mfa& mfa,
                                  std::chrono::seconds answer_timeout);

} // namespace latchkey::daemon
