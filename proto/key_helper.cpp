// SPDX-License-Identifier: Apache-2.0
// Starting latchkey-fido and relaying its conversation.
#include "proto/key_helper.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/c_handle.hpp"
#include "proto/channel.hpp"
#include "proto/wire.hpp"

namespace latchkey::proto {

namespace {

/// The helper's process: killed and reaped when it is left behind.
class Child {
public:
    explicit Child(pid_t pid) noexcept
        : pid_(pid)
    {
    }

    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    ~Child()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            reap();
        }
    }

    /// Waits for it to end (it does, once key.done is sent or its socket closes).
    void reap() noexcept
    {
        int status = 0;
        // A host that reaps its children itself (ECHILD) has done this for us.
        while (pid_ > 0 && ::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    pid_t pid_;
};

core::Unexpected spawn_failed(const std::string& helper, int err)
{
    return core::fail(core::Errc::io_failed,
                      "cannot start the security key helper " + helper + ": " + std::strerror(err));
}

} // namespace

HelperKeys::HelperKeys(std::string helper, std::string device)
    : helper_(std::move(helper))
    , device_(std::move(device))
{
}

core::Result<SecurityKeyResult> HelperKeys::run(const SecurityKeyCeremony& ceremony,
                                                const KeyPrompts& prompts)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return core::fail(core::Errc::io_failed,
                          std::string("socketpair: ") + std::strerror(errno));
    core::UniqueFd mine(fds[0]);
    core::UniqueFd theirs(fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&actions) != 0)
        return spawn_failed(helper_, ENOMEM);
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return spawn_failed(helper_, ENOMEM);
    }
    // Its socket as standard input, /dev/null for output, nothing else of the host's; default
    // signal handling and no blocked signals, whatever the host set.
    sigset_t all;
    sigset_t none;
    sigfillset(&all);
    sigemptyset(&none);
    int rc = posix_spawn_file_actions_adddup2(&actions, theirs.get(), 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char* argv[] = {helper_.data(), nullptr};
    char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* envp[] = {path_env, nullptr};
    pid_t pid = -1;
    if (rc == 0)
        rc = posix_spawn(&pid, helper_.c_str(), &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return spawn_failed(helper_, rc);
    Child child(pid);
    theirs.reset();

    if (::fcntl(mine.get(), F_SETFL, O_NONBLOCK) != 0)
        return core::fail(core::Errc::io_failed, std::string("fcntl: ") + std::strerror(errno));
    // The helper bounds each wait for the key by the ceremony's timeout; a little more here.
    Channel helper(
        std::move(mine), std::chrono::seconds(ceremony.timeout_s + 5),
        Peer{"the security key helper", core::Errc::device_failed, core::Errc::device_failed});
    LATCHKEY_TRY_STATUS(
        helper.send(encode(ToKeyHelper{KeyStart{ceremony, device_}}), max_key_message));
    for (;;) {
        LATCHKEY_TRY(text, helper.receive(max_key_message));
        LATCHKEY_TRY(message, decode_from_key_helper(text));
        if (auto* done = std::get_if<KeyDone>(&message)) {
            child.reap();
            return std::move(done->result);
        }
        if (const auto* need = std::get_if<KeyNeedPin>(&message)) {
            LATCHKEY_TRY(pin, prompts.ask_pin(need->retries));
            std::string sent = encode(ToKeyHelper{KeyPin{std::move(pin)}});
            const core::WipeOnExit wipe(sent.data(), sent.size());
            LATCHKEY_TRY_STATUS(helper.send(sent, max_key_message));
        } else {
            LATCHKEY_TRY_STATUS(prompts.touch());
        }
        helper.extend_deadline();
    }
}

} // namespace latchkey::proto
