// SPDX-License-Identifier: Apache-2.0
// latchkeyd: parses its arguments and runs the daemon.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "daemon/config.hpp"
#include "daemon/daemon.hpp"

namespace {

void usage(std::FILE* out)
{
    std::fputs("usage: latchkeyd [--config PATH] [--check-config] [--version]\n"
               "  --config PATH    configuration file (default /etc/latchkey/latchkey.toml)\n"
               "  --check-config   parse the configuration, report, and exit\n",
               out);
}

} // namespace

int main(int argc, char** argv)
try {
    std::string config = "/etc/latchkey/latchkey.toml";
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) {
            config = argv[++i];
        } else if (a.rfind("--config=", 0) == 0) {
            config = a.substr(9);
        } else if (a == "--check-config") {
            check_only = true;
        } else if (a == "--version") {
            std::puts("latchkeyd " LATCHKEY_VERSION);
            return 0;
        } else if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "latchkeyd: unknown argument '%s'\n", a.c_str());
            usage(stderr);
            return 64; // EX_USAGE
        }
    }
    if (check_only) {
        const auto c = latchkey::daemon::load_config(config);
        if (!c) {
            std::fprintf(stderr, "latchkeyd: %s\n", c.error().message.c_str());
            return 78;
        }
        std::printf("%s: ok\n", config.c_str());
        return 0;
    }
    return latchkey::daemon::run(config);
} catch (const std::exception& e) {
    std::fprintf(stderr, "latchkeyd: fatal: %s\n", e.what());
    return 70; // EX_SOFTWARE
} catch (...) {
    std::fprintf(stderr, "latchkeyd: fatal error\n");
    return 70;
}
