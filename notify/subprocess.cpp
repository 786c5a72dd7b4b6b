// SPDX-License-Identifier: Apache-2.0
// run_process on posix_spawn: a socketpair for stdin (writes use MSG_NOSIGNAL, so a child that
// exits early cannot SIGPIPE the daemon), a pipe for output, poll(2) with a deadline.
#include "notify/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "core/c_handle.hpp"

extern char** environ; // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace latchkey::notify {

namespace {

using Clock = std::chrono::steady_clock;

/// A spawned child, killed (with its process group) and reaped unless it was reaped already.
class Child {
public:
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    ~Child()
    {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            wait_blocking();
        }
    }

    pid_t* out() noexcept { return &pid_; }

    /// Whether it has exited (reaping it); `status` is its wait status then, or nullopt when
    /// someone else reaped it (SIGCHLD ignored), so that nobody knows how it ended.
    bool try_reap(std::optional<int>& status) noexcept
    {
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_ || (r < 0 && errno == ECHILD)) {
            pid_ = -1;
            if (r > 0)
                status = st;
            return true;
        }
        return false;
    }

    /// Kills its whole process group and reaps it.
    void kill_group() noexcept
    {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            wait_blocking();
        }
    }

private:
    void wait_blocking() noexcept
    {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    pid_t pid_ = -1;
};

/// posix_spawn's attribute and file-action objects, destroyed whichever way we leave.
struct SpawnSetup {
    posix_spawnattr_t attr{};
    posix_spawn_file_actions_t actions{};
    bool attr_ok = false;
    bool actions_ok = false;

    SpawnSetup() = default;
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    ~SpawnSetup()
    {
        if (actions_ok)
            posix_spawn_file_actions_destroy(&actions);
        if (attr_ok)
            posix_spawnattr_destroy(&attr);
    }
};

std::string errno_text(int e)
{
    return std::strerror(e); // NOLINT(concurrency-mt-unsafe): glibc's is thread-safe for errnos
}

core::Status set_nonblocking(int fd)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return core::fail(core::Errc::io_failed, "fcntl: " + errno_text(errno));
    return {};
}

} // namespace

core::Result<ProcessOutcome> run_process(const std::vector<std::string>& argv,
                                         std::string_view input,
                                         std::chrono::milliseconds timeout)
{
    if (argv.empty() || argv.front().empty())
        return core::fail(core::Errc::invalid_argument, "no program to run");
    const std::string& program = argv.front();

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return core::fail(core::Errc::io_failed, "socketpair: " + errno_text(errno));
    core::UniqueFd in_parent(sv[0]);
    core::UniqueFd in_child(sv[1]);
    int pfd[2];
    if (::pipe2(pfd, O_CLOEXEC) < 0)
        return core::fail(core::Errc::io_failed, "pipe: " + errno_text(errno));
    core::UniqueFd out_parent(pfd[0]);
    core::UniqueFd out_child(pfd[1]);

    SpawnSetup setup;
    if (posix_spawnattr_init(&setup.attr) != 0)
        return core::fail(core::Errc::io_failed, "posix_spawnattr_init failed");
    setup.attr_ok = true;
    if (posix_spawn_file_actions_init(&setup.actions) != 0)
        return core::fail(core::Errc::io_failed, "posix_spawn_file_actions_init failed");
    setup.actions_ok = true;
    // A group of its own, so a timeout kills what it started too; no mask or ignored signal of
    // the daemon's carries over.
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (const int s : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2})
        sigaddset(&defaults, s);
    if (posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setpgroup(&setup.attr, 0) != 0 ||
        posix_spawnattr_setsigmask(&setup.attr, &empty) != 0 ||
        posix_spawnattr_setsigdefault(&setup.attr, &defaults) != 0 ||
        posix_spawn_file_actions_adddup2(&setup.actions, in_child.get(), STDIN_FILENO) != 0 ||
        posix_spawn_file_actions_adddup2(&setup.actions, out_child.get(), STDOUT_FILENO) != 0 ||
        posix_spawn_file_actions_adddup2(&setup.actions, out_child.get(), STDERR_FILENO) != 0)
        return core::fail(core::Errc::io_failed, "cannot prepare to run " + program);

    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str())); // NOLINT: posix_spawn's historical type
    args.push_back(nullptr);

    Child child;
    const int spawned =
        ::posix_spawn(child.out(), program.c_str(), &setup.actions, &setup.attr, args.data(),
                      environ);
    if (spawned != 0)
        return core::fail(core::Errc::io_failed, "cannot run " + program + ": " +
                                                     errno_text(spawned));
    in_child.reset();
    out_child.reset();
    LATCHKEY_TRY_STATUS(set_nonblocking(in_parent.get()));
    LATCHKEY_TRY_STATUS(set_nonblocking(out_parent.get()));

    ProcessOutcome outcome;
    const auto deadline = Clock::now() + timeout;
    std::size_t written = 0;
    if (input.empty())
        in_parent.reset();
    char buf[4096];
    const auto drain = [&]() {
        for (;;) {
            const ssize_t n = ::read(out_parent.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                if (n == 0 || errno != EAGAIN)
                    out_parent.reset();
                return;
            }
            const auto got = static_cast<std::size_t>(n);
            outcome.output_size += got;
            const std::size_t room = ProcessOutcome::max_kept_output - outcome.output.size();
            outcome.output.append(buf, std::min(room, got));
        }
    };
    // Poll in short slices: without a pidfd, waitpid(WNOHANG) is how we notice the exit.
    constexpr auto slice = std::chrono::milliseconds(10);
    for (;;) {
        std::optional<int> status;
        if (child.try_reap(status)) {
            if (out_parent.valid())
                drain(); // what it wrote before exiting; a grandchild may hold the pipe open
            if (status && WIFEXITED(*status))
                outcome.exit_status = WEXITSTATUS(*status);
            else if (status && WIFSIGNALED(*status))
                outcome.signal = WTERMSIG(*status);
            return outcome;
        }
        const auto now = Clock::now();
        if (now >= deadline) {
            child.kill_group();
            outcome.timed_out = true;
            return outcome;
        }
        pollfd fds[2] = {};
        nfds_t nfds = 0;
        if (in_parent.valid())
            fds[nfds++] = {in_parent.get(), POLLOUT, 0};
        if (out_parent.valid())
            fds[nfds++] = {out_parent.get(), POLLIN, 0};
        const auto wait = std::min<Clock::duration>(slice, deadline - now);
        const int ready =
            ::poll(fds, nfds,
                   static_cast<int>(
                       std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
        if (ready < 0 && errno != EINTR)
            return core::fail(core::Errc::io_failed, "poll: " + errno_text(errno));
        if (ready <= 0)
            continue;
        if (in_parent.valid() && fds[0].revents != 0) {
            const ssize_t n = ::send(in_parent.get(), input.data() + written,
                                     input.size() - written, MSG_NOSIGNAL);
            if (n > 0)
                written += static_cast<std::size_t>(n);
            // Done, or the child will not read (EPIPE): its exit status says how it went.
            if (written == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR))
                in_parent.reset();
        }
        if (out_parent.valid())
            drain();
    }
}

} // namespace latchkey::notify
