// SPDX-License-Identifier: Apache-2.0
// latchkey-fido: runs one security key ceremony for pam_latchkey.so, which starts it with one
// end of a socketpair as its standard input (proto/security_key.hpp). Not for people to run.
#include <cstdio>
#include <cstring>

#include <sys/socket.h>
#include <sys/stat.h>

#include "hostkey/helper.hpp"

int main(int argc, char** argv)
{
    using namespace latchkey;
    if (argc != 1) {
        std::fprintf(stderr, "latchkey-fido takes no arguments; pam_latchkey.so starts it\n");
        return 2;
    }
    (void)argv;

    struct stat st {};

    int type = 0;
    socklen_t len = sizeof type;
    if (::fstat(0, &st) != 0 || !S_ISSOCK(st.st_mode) ||
        ::getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
        std::fprintf(stderr, "latchkey-fido: standard input is not the PAM module's socket\n");
        return 2;
    }
    // The module bounds the whole ceremony; this bounds each wait for it.
    proto::Channel module(
        core::UniqueFd(0), std::chrono::seconds(330),
        proto::Peer{"pam_latchkey.so", core::Errc::io_failed, core::Errc::io_failed});
    const auto served = hostkey::serve_ceremony(module);
    if (!served) {
        std::fprintf(stderr, "latchkey-fido: %s\n", served.error().message.c_str());
        return 1;
    }
    return 0;
}
