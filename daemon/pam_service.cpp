// SPDX-License-Identifier: Apache-2.0
// PAM socket request dispatch.
#include "daemon/pam_service.hpp"

#include "daemon/hello.hpp"
#include "proto/wire.hpp"

namespace latchkey::daemon {

namespace {

class PamConnection final : public Connection {
public:
    PamConnection(Directory& dir, Peer peer)
        : dir_(dir)
        , peer_(std::move(peer))
    {
    }

    proto::Response handle(proto::Request&& request) override
    {
        if (const auto* hello = std::get_if<proto::Hello>(&request))
            return answer_hello(*hello);
        return proto::failure({core::Errc::permission_denied,
                               "'" + std::string(proto::type_name(request)) +
                                   "' is not available on the PAM socket"});
    }

private:
    [[maybe_unused]] Directory& dir_;
    Peer peer_;
};

} // namespace

ConnectionFactory pam_connections(Directory& directory)
{
    return [&directory](const Peer& peer) -> core::Result<std::unique_ptr<Connection>> {
        return std::unique_ptr<Connection>(new PamConnection(directory, peer));
    };
}

} // namespace latchkey::daemon
