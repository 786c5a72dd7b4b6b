// SPDX-License-Identifier: Apache-2.0
// Test support: a SoftwareKey behind a Unix socket, served by a thread, so the host side's real
// "unix:PATH" device (hostkey/ctap_socket.hpp) reaches it as it would any key behind a socket.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "core/c_handle.hpp"
#include "tests/hostkey/software_key.hpp"

namespace latchkey::hostkey::testing {

class KeyServer {
public:
    /// Listens at `path` and serves `key` (which must outlive the server).
    KeyServer(SoftwareKey& key, std::string path);
    KeyServer(const KeyServer&) = delete;
    KeyServer& operator=(const KeyServer&) = delete;
    ~KeyServer();

    /// "unix:PATH", for Device::open().
    [[nodiscard]] std::string where() const { return "unix:" + path_; }

    /// The key is pulled out after answering `n` more CBOR commands: the connection closes
    /// in the middle of a ceremony.
    void remove_after(int n) { remove_after_ = n; }

    /// Runs `f` on the key while no exchange is under way.
    template <class F>
    auto with_key(F&& f)
    {
        const std::lock_guard lock(mutex_);
        return f(key_);
    }

private:
    void serve();

    SoftwareKey& key_;
    std::string path_;
    core::UniqueFd listener_;
    core::UniqueFd stop_read_, stop_write_;
    std::mutex mutex_;
    std::atomic<int> remove_after_{-1};
    std::thread thread_;
};

} // namespace latchkey::hostkey::testing
