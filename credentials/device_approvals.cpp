// SPDX-License-Identifier: Apache-2.0
// Codes to approve on another device: issuing, looking up, deciding and polling.
#include "credentials/device_approvals.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>

#include "core/random.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::credentials {

namespace {

/// RFC 8628 §6.1: consonants only (no words, no vowels to mistake), none like a digit.
constexpr std::string_view alphabet = "BCDFGHJKLMNPQRSTVWXZ";
constexpr std::size_t code_length = 8;

std::string random_user_code()
{
    std::string code;
    while (code.size() < code_length) {
        std::array<unsigned char, 16> bytes{};
        core::random_bytes(bytes.data(), bytes.size());
        for (const unsigned char b : bytes) {
            // 240 = 12 × 20: rejecting the rest keeps every letter equally likely.
            if (b < 240 && code.size() < code_length)
                code += alphabet[b % alphabet.size()];
        }
    }
    return code;
}

std::string device_key(std::string_view device_code)
{
    return webauthn::sha256(device_code);
}

core::Unexpected busy(std::string what)
{
    return core::fail(core::Errc::daemon_busy, std::move(what));
}

core::Unexpected unknown_code()
{
    return core::fail(core::Errc::not_found,
                      "that code is not waiting for approval: it may be mistyped, used already "
                      "or expired");
}

} // namespace

std::string page_with_code(const std::string& page, const std::string& user_code)
{
    return page + "?code=" + user_code; // the code's alphabet and '-' need no escaping
}

std::string format_user_code(std::string_view code)
{
    if (code.size() != code_length)
        return std::string(code);
    return std::string(code.substr(0, 4)) + "-" + std::string(code.substr(4));
}

std::optional<std::string> canonical_user_code(std::string_view typed)
{
    std::string out;
    for (const char ch : typed) {
        if (ch == '-' || ch == ' ')
            continue;
        const char up = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (alphabet.find(up) == std::string_view::npos || out.size() == code_length)
            return std::nullopt;
        out += up;
    }
    if (out.size() != code_length)
        return std::nullopt;
    return out;
}

DeviceApprovals::DeviceApprovals(Limits limits)
    : limits_(limits)
{
}

void DeviceApprovals::forget_expired(core::TimePoint now)
{
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (now >= it->second.expires + limits_.lifetime) {
            by_code_.erase(it->second.user_code);
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto* windows : {&issued_by_source_, &issued_for_user_, &wrong_guesses_}) {
        for (auto it = windows->begin(); it != windows->end();) {
            Window& w = it->second;
            while (!w.empty() && now - w.front() >= limits_.window)
                w.pop_front();
            it = w.empty() ? windows->erase(it) : std::next(it);
        }
    }
}

bool DeviceApprovals::over_limit(std::map<std::string, Window>& windows,
                                 const std::string& key,
                                 std::size_t limit,
                                 core::TimePoint now) const
{
    const auto it = windows.find(key);
    if (it == windows.end())
        return false;
    const auto recent = std::count_if(it->second.begin(), it->second.end(),
                                      [&](auto t) { return now - t < limits_.window; });
    return static_cast<std::size_t>(recent) >= limit;
}

core::Result<IssuedApproval> DeviceApprovals::issue(const DeviceRequest& request,
                                                    core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    forget_expired(now);
    if (entries_.size() >= limits_.total)
        return busy("too many approvals are waiting; try again in a few minutes");
    if (over_limit(issued_by_source_, request.source, limits_.per_source, now))
        return busy("too many approval codes were asked for from here; wait a few minutes");
    if (!request.user_id.empty() &&
        over_limit(issued_for_user_, request.user_id, limits_.per_user, now))
        return busy("too many approval codes were asked for this user; wait a few minutes");
    std::string code = random_user_code();
    while (by_code_.contains(code))
        code = random_user_code();
    std::string raw(32, '\0');
    core::random_bytes(raw.data(), raw.size());
    IssuedApproval out;
    out.device_code = core::base64_encode(raw, true, false);
    out.user_code = format_user_code(code);
    out.expires = now + limits_.lifetime;
    out.interval = limits_.interval;
    const std::string key = device_key(out.device_code);
    entries_.emplace(key, Entry{request, code, now, out.expires, limits_.interval, std::nullopt,
                                Entry::State::pending, std::nullopt});
    by_code_.emplace(code, key);
    issued_by_source_[request.source].push_back(now);
    if (!request.user_id.empty())
        issued_for_user_[request.user_id].push_back(now);
    return out;
}

core::Result<DeviceApprovals::Entry*>
DeviceApprovals::waiting(std::string_view typed, const std::string& guesser, core::TimePoint now)
{
    forget_expired(now);
    if (over_limit(wrong_guesses_, guesser, limits_.wrong_guesses, now))
        return busy("too many wrong codes; wait a few minutes and try again");
    const auto code = canonical_user_code(typed);
    const auto key = code ? by_code_.find(*code) : by_code_.end();
    const auto it = key == by_code_.end() ? entries_.end() : entries_.find(key->second);
    if (it == entries_.end() || it->second.state != Entry::State::pending ||
        now >= it->second.expires) {
        wrong_guesses_[guesser].push_back(now);
        return unknown_code();
    }
    return &it->second;
}

namespace {

PendingApproval shown(const DeviceRequest& request,
                      const std::string& user_code,
                      core::TimePoint created,
                      core::TimePoint expires)
{
    return PendingApproval{request, format_user_code(user_code), created, expires};
}

} // namespace

core::Result<PendingApproval>
DeviceApprovals::pending(std::string_view typed, const std::string& guesser, core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    LATCHKEY_TRY(found, waiting(typed, guesser, now));
    return shown(found->request, found->user_code, found->created, found->expires);
}

core::Result<PendingApproval> DeviceApprovals::decide(std::string_view typed,
                                                      const DeviceApprover& approver,
                                                      bool approve,
                                                      const std::string& guesser,
                                                      core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    LATCHKEY_TRY(found, waiting(typed, guesser, now));
    Entry& e = *found;
    if (e.request.kind == DeviceRequest::Kind::host_logon &&
        e.request.user_id != approver.user_id) {
        // Spent: whoever was shown it, the logon it was for has to ask again.
        e.state = Entry::State::denied;
        return core::fail(core::Errc::permission_denied,
                          "this code is for another user's logon; only they can approve it");
    }
    e.state = approve ? Entry::State::approved : Entry::State::denied;
    if (approve)
        e.approver = approver;
    return shown(e.request, e.user_code, e.created, e.expires);
}

DevicePoll DeviceApprovals::poll(std::string_view device_code, core::TimePoint now)
{
    const std::lock_guard lock(mutex_);
    DevicePoll out;
    const auto it = entries_.find(device_key(device_code));
    if (it == entries_.end())
        return out; // unknown
    Entry& e = it->second;
    using State = DevicePoll::State;
    if (e.state == Entry::State::approved) {
        out.state = State::approved;
        out.request = std::move(e.request);
        out.approver = std::move(e.approver);
    } else if (e.state == Entry::State::denied) {
        out.state = State::denied;
    } else if (now >= e.expires) {
        out.state = State::expired;
        return out; // kept, so that later polls hear the same
    } else {
        const bool early = e.last_poll && now - *e.last_poll < e.interval;
        e.last_poll = now;
        if (early)
            e.interval += std::chrono::seconds(5);
        out.state = early ? State::slow_down : State::pending;
        return out;
    }
    // Decided: told once, then gone.
    by_code_.erase(e.user_code);
    entries_.erase(it);
    return out;
}

void DeviceApprovals::withdraw(std::string_view device_code)
{
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(device_key(device_code));
    if (it == entries_.end())
        return;
    by_code_.erase(it->second.user_code);
    entries_.erase(it);
}

std::size_t DeviceApprovals::size() const
{
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

} // namespace latchkey::credentials
