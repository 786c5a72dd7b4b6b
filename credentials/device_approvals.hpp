// SPDX-License-Identifier: Apache-2.0
// Approvals on another device: a short code a person types (or scans) on the provider's
// /device page, where they sign in and approve or deny what asked for it. Two things ask:
//
//   - a logon at a host where no key can be touched (ssh): the PAM dialogue shows the code and
//     waits; only the user the logon is for may approve it;
//   - a command-line client, by the OAuth 2.0 Device Authorization Grant (RFC 8628): it polls
//     the token endpoint with its device code until someone signed in approves.
//
//   issue(request, now) ──► {device code (the poller's secret), user code "WDJB-MJHT"}
//   pending(typed code) ──► what the page shows; decide(code, approver, yes/no) once
//   poll(device code)   ──► pending, slow_down, approved (once), denied, expired
//
// User codes are 8 letters of an alphabet without vowels or look-alikes (RFC 8628 §6.1: 20
// consonants, about 34.6 bits), shown as two groups of four, typed in any case with or without
// the dash. They live minutes and are single use; issuing is rate-limited per source and per
// user, and wrong codes typed at the page per guesser. Held in memory, like authorization
// codes: a restart costs a person one retry. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace latchkey::credentials {

/// What asks for an approval, as the page shows it.
struct DeviceRequest {
    enum class Kind : std::uint8_t { host_logon, device_grant };
    Kind kind = Kind::host_logon;
    std::string source; ///< for the rate limit: the logon's remote address, or the client id
    // host_logon:
    std::string user_id;   ///< the only user who may approve
    std::string user_name; ///< logon name, to show
    std::string host;
    std::string service;
    std::optional<std::string> rhost;
    // device_grant:
    std::string client_id;
    std::string client_name;
    std::vector<std::string> scopes;
};

/// Who approved, for the poller and the audit.
struct DeviceApprover {
    std::string user_id;
    std::string session_id; ///< the approving browser session
    std::string method;     ///< how that session signed in ("hwk+uv", "pwd+otp", ...)
};

/// A request waiting for its decision, as the page shows it.
struct PendingApproval {
    DeviceRequest request;
    std::string user_code; ///< "WDJB-MJHT"
    core::TimePoint created;
    core::TimePoint expires;
};

struct IssuedApproval {
    std::string device_code; ///< the poller's secret (43 characters of base64url)
    std::string user_code;   ///< "WDJB-MJHT"
    core::TimePoint expires;
    std::chrono::seconds interval;
};

/// What a poll finds.
struct DevicePoll {
    enum class State : std::uint8_t { pending, slow_down, approved, denied, expired, unknown };
    State state = State::unknown;
    std::optional<DeviceRequest> request;   ///< approved: what was approved
    std::optional<DeviceApprover> approver; ///< approved: by whom
};

/// The user code as the page and the terminal show it: "WDJBMJHT" ──► "WDJB-MJHT".
std::string format_user_code(std::string_view code);

/// The device page with the code filled in (RFC 8628 verification_uri_complete), for a link or
/// a QR code: "https://id.example/device?code=WDJB-MJHT".
std::string page_with_code(const std::string& page, const std::string& user_code);

/// A typed code in canonical form (upper case, no dash or spaces), or nullopt when it cannot be
/// a user code (wrong length, a letter outside the alphabet).
std::optional<std::string> canonical_user_code(std::string_view typed);

class DeviceApprovals {
public:
    struct Limits {
        std::chrono::seconds lifetime{300}; ///< a code's life
        std::chrono::seconds interval{5};   ///< the least time between polls
        std::chrono::seconds window{600};   ///< the rate limits' window
        std::size_t per_source = 10;        ///< codes issued per source in the window
        std::size_t per_user = 5;           ///< host logon codes per user in the window
        std::size_t wrong_guesses = 10;     ///< wrong codes typed per guesser in the window
        std::size_t total = 4096;           ///< waiting at once, everyone's
    };

    explicit DeviceApprovals(Limits limits);

    /// A new code for `request`. Errors: daemon_busy at a rate limit or the total (the message
    /// says to wait), with nothing issued.
    core::Result<IssuedApproval> issue(const DeviceRequest& request, core::TimePoint now);

    /// The request waiting under a typed code. Errors: not_found for a code that is unknown,
    /// expired, decided already or mistyped (counted against `guesser`, a browser session or
    /// address); daemon_busy once `guesser` has typed too many wrong codes in the window.
    core::Result<PendingApproval>
    pending(std::string_view typed, const std::string& guesser, core::TimePoint now);

    /// Approves or denies the request under `typed`, once; returns what was decided. A host
    /// logon may be decided only by its own user (permission_denied for anyone else, and the
    /// code is then void: a code shown to the wrong person is spent). Errors as pending().
    core::Result<PendingApproval> decide(std::string_view typed,
                                         const DeviceApprover& approver,
                                         bool approve,
                                         const std::string& guesser,
                                         core::TimePoint now);

    /// What the holder of `device_code` finds. Polling faster than the interval is answered
    /// slow_down and adds five seconds to it (RFC 8628 §3.5); an approval is handed out once,
    /// then the code is gone.
    DevicePoll poll(std::string_view device_code, core::TimePoint now);

    /// Forgets a request whose poller gave up (the PAM dialogue ended).
    void withdraw(std::string_view device_code);

    /// Requests held now (an expired one is kept another lifetime, so that its poller hears
    /// "expired" rather than "unknown").
    [[nodiscard]] std::size_t size() const;

private:
    struct Entry {
        DeviceRequest request;
        std::string user_code;
        core::TimePoint created;
        core::TimePoint expires;
        std::chrono::seconds interval;
        std::optional<core::TimePoint> last_poll;
        enum class State : std::uint8_t { pending, approved, denied } state = State::pending;
        std::optional<DeviceApprover> approver;
    };

    using Window = std::deque<core::TimePoint>;

    void forget_expired(core::TimePoint now);
    bool over_limit(std::map<std::string, Window>& windows,
                    const std::string& key,
                    std::size_t limit,
                    core::TimePoint now) const;
    /// The pending, unexpired entry of a typed code, or the error (a wrong code counts
    /// against `guesser`). mutex_ held.
    core::Result<Entry*>
    waiting(std::string_view typed, const std::string& guesser, core::TimePoint now);

    Limits limits_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;       ///< sha256(device code) ->
    std::map<std::string, std::string> by_code_; ///< canonical user code -> entries_ key
    std::map<std::string, Window> issued_by_source_;
    std::map<std::string, Window> issued_for_user_;
    std::map<std::string, Window> wrong_guesses_;
};

} // namespace latchkey::credentials
