// SPDX-License-Identifier: Apache-2.0
// Admission: who gets one of a socket's connection slots, so no local user can take them all.
//
//   peer ──privileged?──yes──► its own pool of max_connections (root, the daemon's user, the
//     │                        admin group: sshd, login and sudo run PAM as root, latchkeyctl
//     │                        as an administrator; nobody else can fill this pool)
//     no
//     ▼
//   ordinary pool full? ──yes──► refused (socket_full)
//     │no
//     ▼
//   this uid holds max_per_uid? ──yes──► refused (uid_full)
//     │no
//     ▼
//   admitted: a Ticket holds the slot until the connection ends
//
// One Admission per socket, so a flood on the PAM socket cannot refuse the admin socket.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <variant>

namespace latchkey::daemon {

struct AdmissionLimits {
    std::uint32_t max_connections = 256; ///< per pool: ordinary peers, and privileged ones
    std::uint32_t max_per_uid = 32;      ///< connections one ordinary uid may hold
};

enum class Refusal : std::uint8_t { socket_full, uid_full };

class Admission {
    struct Counts;

public:
    /// Holds one slot; gives it back when destroyed. Movable, not copyable.
    class Ticket {
    public:
        Ticket(Ticket&&) noexcept = default;
        Ticket& operator=(Ticket&&) noexcept = default;
        ~Ticket();

    private:
        friend class Admission;
        Ticket(std::shared_ptr<Counts> counts, uid_t uid, bool privileged)
            : counts_(std::move(counts))
            , uid_(uid)
            , privileged_(privileged)
        {
        }

        std::shared_ptr<Counts> counts_;
        uid_t uid_;
        bool privileged_;
    };

    Admission();

    /// A slot for a peer of `uid`, or why not. Thread-safe.
    std::variant<Ticket, Refusal> admit(uid_t uid, bool privileged);

    /// Applies to later admissions; connections already open keep their slots.
    void set_limits(AdmissionLimits limits);

    /// Open connections: ordinary, privileged, and of one uid (ordinary ones only).
    [[nodiscard]] std::uint32_t ordinary() const;
    [[nodiscard]] std::uint32_t privileged() const;
    [[nodiscard]] std::uint32_t of_uid(uid_t uid) const;

private:
    std::shared_ptr<Counts> counts_;
};

} // namespace latchkey::daemon
