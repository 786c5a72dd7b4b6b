// SPDX-License-Identifier: Apache-2.0
// BackchannelSender: delivers logout tokens (OpenID Connect Back-Channel Logout 1.0) to the
// clients that registered a back-channel logout URI, off the request path, on a thread of its
// own, each POST bounded in time. A client that does not answer 2xx is reported, not retried.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "core/result.hpp"
#include "notify/sender_thread.hpp"

namespace latchkey::oidc {

struct LogoutDelivery {
    std::string client_id;
    std::string uri;           ///< the client's back-channel logout URI (http or https)
    std::string logout_token;  ///< signed JWT, typ logout+jwt
    std::string sid;           ///< for the report
};

/// POSTs `logout_token=<token>` to `uri` and waits at most `timeout` for the whole exchange.
/// Errors: invalid_argument for a URI that is not http(s), io_failed for the network or a
/// status other than 2xx (the message says which).
core::Status post_logout_token(const std::string& uri, const std::string& token,
                               std::chrono::milliseconds timeout);

class BackchannelSender {
public:
    /// Called on the sender's thread after each delivery, with its outcome.
    using Report = std::function<void(const LogoutDelivery&, const core::Status&)>;

    static constexpr std::size_t max_queued = 1000;

    /// Deliveries still queued when it is destroyed are dropped (and reported as such).
    BackchannelSender(std::chrono::milliseconds timeout, Report report);

    /// Queues a delivery; false (and nothing queued) when max_queued are waiting already.
    bool send(LogoutDelivery delivery) { return thread_.post(std::move(delivery)); }

private:
    std::chrono::milliseconds timeout_;
    Report report_;
    notify::SenderThread<LogoutDelivery> thread_; ///< last: starts once the above are ready
};

} // namespace latchkey::oidc
