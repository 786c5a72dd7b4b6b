// SPDX-License-Identifier: Apache-2.0
// Back-channel logout delivery: a queue and a thread over daemon::http_post.
#include "oidc/backchannel.hpp"

#include <exception>
#include <utility>

#include "notify/http_client.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

core::Status post_logout_token(const std::string& uri, const std::string& token,
                               std::chrono::milliseconds timeout)
{
    auto status = notify::http_post(uri, "application/x-www-form-urlencoded",
                                    "logout_token=" + form_encode(token), timeout);
    if (!status) {
        if (status.error().is(core::Errc::invalid_argument))
            return core::fail(core::Errc::invalid_argument,
                              "the back-channel logout URI: " + status.error().message);
        return core::fail(std::move(status).error());
    }
    if (*status < 200 || *status > 299)
        return core::fail(core::Errc::io_failed,
                          "the client answered HTTP " + std::to_string(*status));
    return {};
}

BackchannelSender::BackchannelSender(std::chrono::milliseconds timeout, Report report)
    : timeout_(timeout)
    , report_(std::move(report))
    , thread_(
          max_queued,
          notify::SenderThread<LogoutDelivery>::AtStop::drop,
          [this](LogoutDelivery& d) {
              core::Status st;
              try {
                  st = post_logout_token(d.uri, d.logout_token, timeout_);
              } catch (const std::exception& e) {
                  st = core::fail(core::Errc::io_failed,
                                  std::string("the delivery failed: ") + e.what());
              }
              report_(d, st);
          },
          [this](LogoutDelivery& d) {
              report_(d, core::fail(core::Errc::io_failed,
                                    "latchkeyd stopped before delivering it"));
          })
{
}

} // namespace latchkey::oidc
