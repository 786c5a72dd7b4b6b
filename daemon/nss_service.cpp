// SPDX-License-Identifier: Apache-2.0
// NSS socket request dispatch.
#include "daemon/nss_service.hpp"

#include "daemon/hello.hpp"
#include "proto/wire.hpp"

namespace latchkey::daemon {

namespace {

class NssConnection final : public Connection {
public:
    NssConnection(directory::HostUsers& users, const Peer& peer)
        : users_(users)
        , key_("uid:" + std::to_string(peer.uid))
    {
    }

    proto::Response handle(proto::Request&& request) override
    {
        return std::visit([this](auto& m) { return on(m); }, request);
    }

    bool is_slow(const proto::Request&) const override { return false; }

    std::string fairness_key(const proto::Request&) const override { return key_; }

private:
    proto::Response on(proto::Hello& m) { return answer_hello(m); }

    proto::Response on(proto::NssLookup& m)
    {
        auto reply = users_.lookup(m);
        if (!reply)
            return proto::failure(reply.error());
        return std::move(*reply);
    }

    template <class Other>
    proto::Response on(Other&)
    {
        return proto::failure({core::Errc::permission_denied,
                               "'" + std::string(Other::type) +
                                   "' is not available on the NSS socket, which only looks up"});
    }

    directory::HostUsers& users_;
    std::string key_;
};

} // namespace

ConnectionFactory nss_connections(directory::HostUsers& users)
{
    return [&users](const Peer& peer) -> core::Result<std::unique_ptr<Connection>> {
        return std::unique_ptr<Connection>(new NssConnection(users, peer));
    };
}

} // namespace latchkey::daemon
