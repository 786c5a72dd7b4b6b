// SPDX-License-Identifier: Apache-2.0
// Terminal input without echo (termios), with the terminal restored on every way out.
//
// While a password is read, the signals that would leave the terminal without echo (INT, TERM,
// HUP, QUIT, and the stop signals) are blocked except inside ppoll(), where a handler only
// records them. The read loop then returns, the terminal is restored, the old dispositions come
// back, and the signal is raised again to take its usual effect (as OpenBSD readpassphrase).
#include "cli/password_input.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "core/c_handle.hpp"

namespace latchkey::cli {

namespace {

volatile std::sig_atomic_t caught_signal = 0;

void on_signal(int sig)
{
    caught_signal = sig;
}

constexpr std::array watched_signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};

bool is_stop_signal(int sig)
{
    return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/// While alive, the watched signals are blocked, and caught (only recorded) inside ppoll().
class SignalWatch {
public:
    SignalWatch()
    {
        caught_signal = 0;
        struct sigaction sa = {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; // no SA_RESTART: the wait must end
        sigset_t block;
        sigemptyset(&block);
        for (std::size_t k = 0; k < watched_signals.size(); ++k) {
            sigaddset(&block, watched_signals[k]);
            ::sigaction(watched_signals[k], &sa, &old_actions_[k]);
        }
        ::sigprocmask(SIG_BLOCK, &block, &old_mask_);
    }

    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

    ~SignalWatch()
    {
        // Dispositions first, then the mask: a signal still pending meets its old disposition.
        for (std::size_t k = 0; k < watched_signals.size(); ++k)
            ::sigaction(watched_signals[k], &old_actions_[k], nullptr);
        ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    }

    /// The mask to wait with: the one from before, where these signals are deliverable.
    [[nodiscard]] const sigset_t& wait_mask() const noexcept { return old_mask_; }

private:
    std::array<struct sigaction, watched_signals.size()> old_actions_{};
    sigset_t old_mask_{};
};

/// Turns echo off on a terminal, and back to what it was on destruction.
class EchoOff {
public:
    explicit EchoOff(int fd) noexcept
        : fd_(fd)
    {
    }

    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

    ~EchoOff()
    {
        // A destructor has no one to tell; restoring is all that can be tried.
        if (engaged_)
            static_cast<void>(set(saved_, TCSANOW));
    }

    core::Status engage()
    {
        if (::tcgetattr(fd_, &saved_) != 0)
            return core::fail(core::Errc::io_failed,
                              std::string("cannot read the terminal's settings: ") +
                                  std::strerror(errno));
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
        quiet.c_lflag |= static_cast<tcflag_t>(ECHONL); // Enter still moves to the next line
        if (!set(quiet, TCSAFLUSH))
            return core::fail(core::Errc::io_failed,
                              std::string("cannot turn off the terminal's echo: ") +
                                  std::strerror(errno));
        engaged_ = true;
        return {};
    }

private:
    [[nodiscard]] bool set(const termios& t, int when) const noexcept
    {
        int r = 0;
        do
            r = ::tcsetattr(fd_, when, &t);
        while (r != 0 && errno == EINTR);
        return r == 0;
    }

    int fd_;
    bool engaged_ = false;
    termios saved_{};
};

using core::WipeOnExit;

enum class LineEnd : std::uint8_t { newline, eof, too_long, interrupted, failed };

struct Line {
    LineEnd end = LineEnd::failed;
    std::size_t size = 0;
    int signal = 0; ///< for LineEnd::interrupted
    int error = 0;  ///< errno, for LineEnd::failed
};

/// Reads bytes up to a newline into `buf`. With `wait_mask`, waits in ppoll() so that the watched
/// signals end the read; a line longer than `buf` is consumed to its end and reported too long,
/// so that its rest does not reach the shell.
Line read_line(int fd, char* buf, std::size_t cap, const sigset_t* wait_mask)
{
    Line line;
    bool overflow = false;
    for (;;) {
        if (wait_mask != nullptr) {
            pollfd p{fd, POLLIN, 0};
            const int r = ::ppoll(&p, 1, nullptr, wait_mask);
            if (caught_signal != 0) {
                line.end = LineEnd::interrupted;
                line.signal = caught_signal;
                return line;
            }
            if (r < 0 && errno != EINTR) {
                line.error = errno;
                return line;
            }
            if (r <= 0)
                continue;
        }
        char c = 0;
        const ssize_t k = ::read(fd, &c, 1);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            line.error = errno;
            return line;
        }
        if (k == 0 || c == '\n') {
            line.end = overflow ? LineEnd::too_long : (k == 0 ? LineEnd::eof : LineEnd::newline);
            return line;
        }
        if (line.size == cap)
            overflow = true;
        else
            buf[line.size++] = c;
        c = 0;
    }
}

void write_all(int fd, std::string_view s) noexcept
{
    while (!s.empty()) {
        const ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// Prompts go to the controlling terminal, so that they are seen even with stderr redirected.
void write_prompt(std::string_view prompt) noexcept
{
    const core::UniqueFd tty(::open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY));
    write_all(tty.valid() ? tty.get() : STDERR_FILENO, prompt);
}

core::Unexpected too_long()
{
    return core::fail(core::Errc::invalid_argument,
                      "the input is longer than " + std::to_string(max_input_size) + " bytes");
}

core::Unexpected read_failed(int err)
{
    return core::fail(core::Errc::io_failed,
                      std::string("cannot read standard input: ") + std::strerror(err));
}

} // namespace

bool stdin_is_terminal() noexcept
{
    return ::isatty(STDIN_FILENO) == 1;
}

core::Result<core::Secret> read_password(std::string_view prompt)
{
    if (!stdin_is_terminal())
        return core::fail(core::Errc::io_failed, "standard input is not a terminal");
    std::array<char, max_input_size> buf{};
    const WipeOnExit wipe_buf(buf.data(), buf.size());
    for (;;) {
        Line line;
        {
            const SignalWatch signals; // first, so no signal finds echo off unwatched
            EchoOff echo(STDIN_FILENO);
            LATCHKEY_TRY_STATUS(echo.engage());
            write_prompt(prompt);
            line = read_line(STDIN_FILENO, buf.data(), buf.size(), &signals.wait_mask());
            if (line.end != LineEnd::newline && line.end != LineEnd::too_long)
                write_prompt("\n"); // the terminal did not echo one
        } // the terminal's settings, then the signal dispositions, are restored here

        switch (line.end) {
        case LineEnd::newline:
            return core::Secret(std::string_view(buf.data(), line.size));
        case LineEnd::interrupted:
            // The terminal is sane again: let the signal do what it would have done.
            ::raise(line.signal);
            if (is_stop_signal(line.signal))
                continue; // resumed after Ctrl-Z: ask again
            return core::fail(core::Errc::failed_precondition, "interrupted");
        case LineEnd::eof:
            return core::fail(core::Errc::io_failed, "no password entered");
        case LineEnd::too_long:
            return too_long();
        case LineEnd::failed:
            return read_failed(line.error);
        }
    }
}

core::Result<core::Secret> read_secret_line()
{
    std::array<char, max_input_size> buf{};
    const WipeOnExit wipe_buf(buf.data(), buf.size());
    const Line line = read_line(STDIN_FILENO, buf.data(), buf.size(), nullptr);
    switch (line.end) {
    case LineEnd::failed:
        return read_failed(line.error);
    case LineEnd::too_long:
        return too_long();
    case LineEnd::eof:
        if (line.size == 0)
            return core::fail(core::Errc::io_failed, "no password on standard input");
        break;
    case LineEnd::newline:
    case LineEnd::interrupted:
        break;
    }
    std::size_t n = line.size;
    if (n > 0 && buf[n - 1] == '\r')
        --n;
    return core::Secret(std::string_view(buf.data(), n));
}

core::Result<std::string> ask(std::string_view prompt)
{
    write_prompt(prompt);
    std::array<char, max_input_size> buf{};
    const Line line = read_line(STDIN_FILENO, buf.data(), buf.size(), nullptr);
    switch (line.end) {
    case LineEnd::failed:
        return read_failed(line.error);
    case LineEnd::too_long:
        return too_long();
    case LineEnd::eof:
        write_prompt("\n");
        break;
    case LineEnd::newline:
    case LineEnd::interrupted:
        break;
    }
    return std::string(buf.data(), line.size);
}

core::Result<core::Secret> read_new_password(bool retype)
{
    core::Secret password;
    if (!stdin_is_terminal()) {
        LATCHKEY_TRY(line, read_secret_line());
        password = std::move(line);
    } else {
        LATCHKEY_TRY(first, read_password("New password: "));
        if (retype) {
            LATCHKEY_TRY(second, read_password("Retype new password: "));
            if (!first.equals(second.view()))
                return core::fail(core::Errc::invalid_argument,
                                  "the passwords do not match; nothing was changed");
        }
        password = std::move(first);
    }
    if (password.empty())
        return core::fail(core::Errc::invalid_argument,
                          "the new password is empty; nothing was changed");
    return password;
}

core::Result<core::Secret> read_verification_code()
{
    core::Secret code;
    if (stdin_is_terminal()) {
        LATCHKEY_TRY(typed, read_password("Verification code: "));
        code = std::move(typed);
    } else {
        auto line = read_secret_line();
        if (!line && line.error().is(core::Errc::io_failed))
            return core::fail(core::Errc::io_failed, "no verification code on standard input");
        if (!line)
            return core::fail(std::move(line).error());
        code = std::move(*line);
    }
    if (code.empty())
        return core::fail(core::Errc::invalid_argument, "the verification code is empty");
    return code;
}

} // namespace latchkey::cli
