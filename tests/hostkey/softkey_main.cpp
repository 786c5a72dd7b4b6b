// SPDX-License-Identifier: Apache-2.0
// latchkey-test-softkey: the tests' software security key as a process, for integration tests
// that run the real PAM module and helper. It serves a SoftwareKey at a Unix socket (the
// helper's "unix:PATH" device) until its standard input closes, and takes one command a line:
//
//   untouched   nobody touches it any more (ceremonies time out); touched: again
//   unplug      the socket goes away (no device); plug: it comes back
//   clone       remembers a copy of the key as it is now; use-clone: the key becomes that copy,
//               its signature counter back where the copy's was (a cloned key)
//
// and answers each with "ok" (or "?" for what it does not know). It prints "ready" when the
// socket listens. Throwaway keys, made at random for each run.
//
//   latchkey-test-softkey --socket PATH [--pin PIN] [--uv]
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "tests/hostkey/key_server.hpp"

int main(int argc, char** argv)
{
    using latchkey::hostkey::testing::KeyServer;
    using latchkey::hostkey::testing::SoftwareKey;
    std::string socket;
    SoftwareKey::Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--socket" && i + 1 < argc) {
            socket = argv[++i];
        } else if (arg == "--pin" && i + 1 < argc) {
            options.pin = argv[++i];
        } else if (arg == "--uv") {
            options.builtin_uv = true;
        } else {
            std::fprintf(stderr, "usage: latchkey-test-softkey --socket PATH [--pin PIN] [--uv]\n");
            return 2;
        }
    }
    if (socket.empty()) {
        std::fprintf(stderr, "latchkey-test-softkey: --socket is required\n");
        return 2;
    }
    SoftwareKey key(options);
    std::optional<SoftwareKey> copy;
    auto server = std::make_unique<KeyServer>(key, socket);
    std::cout << "ready" << std::endl;
    for (std::string line; std::getline(std::cin, line);) {
        bool known = true;
        if (line == "untouched" || line == "touched") {
            const bool touched = line == "touched";
            if (server)
                server->with_key([touched](SoftwareKey& k) { k.options().touched = touched; });
            else
                key.options().touched = touched;
        } else if (line == "unplug") {
            server.reset();
        } else if (line == "plug") {
            if (!server)
                server = std::make_unique<KeyServer>(key, socket);
        } else if (line == "clone") {
            copy = server ? server->with_key([](SoftwareKey& k) { return k; }) : key;
        } else if (line == "use-clone" && copy) {
            if (server)
                server->with_key([&copy](SoftwareKey& k) { k = *copy; });
            else
                key = *copy;
        } else {
            known = false;
        }
        std::cout << (known ? "ok" : "?") << std::endl;
    }
    return 0;
}
