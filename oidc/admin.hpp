// SPDX-License-Identifier: Apache-2.0
// The OpenID Connect provider's administration (clients, keys) as the admin socket reaches it:
// latchkeyd forwards `latchkeyctl oidc ...` requests here when the provider is configured.
#pragma once

#include "directory/directory.hpp"
#include "proto/messages.hpp"

namespace latchkey::oidc {

class Admin {
public:
    virtual ~Admin() = default;
    virtual proto::Response handle(proto::Request& request, const directory::Actor& actor) = 0;
};

} // namespace latchkey::oidc
