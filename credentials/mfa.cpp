// SPDX-License-Identifier: Apache-2.0
// Second factors: enrolment, logon checks, recovery codes.
#include "credentials/mfa.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <utility>

#include "core/random.hpp"
#include "credentials/qr.hpp"
#include "proto/codec.hpp"
#include "proto/wire.hpp"

namespace latchkey::credentials {

namespace {

using core::Errc;

/// No 0/o, 1/i/l: a code read from paper is typed back without guessing.
constexpr std::string_view recovery_alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr std::size_t recovery_length = 12; // 31^12, about 2^59
constexpr std::size_t recovery_group = 4;   // shown as xxxx-xxxx-xxxx

/// An enrolment left unfinished this long is void: its secret was on a screen for too long.
constexpr auto enrolment_lifetime = std::chrono::minutes(15);
constexpr unsigned max_wrong_enrolment_codes = 5;

std::string totp_context(const std::string& user_id)
{
    return "totp:" + user_id;
}

std::string logon_name(const directory::ResolvedUser& who)
{
    return who.user.name + "@" + who.account.default_domain;
}

/// Lower case without separators; empty when anything else is in it.
core::Secret normalize_recovery(const core::Secret& answer)
{
    std::array<char, recovery_length> buf{};
    const core::WipeOnExit wipe_buf(buf.data(), buf.size());
    std::size_t n = 0;
    for (const char raw : answer.view()) {
        const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
        if (c == '-' || c == ' ')
            continue;
        if (n == buf.size() || recovery_alphabet.find(c) == std::string_view::npos)
            return {};
        buf[n++] = c;
    }
    if (n != recovery_length)
        return {};
    return core::Secret(std::string_view(buf.data(), n));
}

bool all_digits(std::string_view s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

TotpParams device_params(const directory::MfaDeviceRecord& d, const TotpParams& base)
{
    TotpParams p = base;
    p.digits = d.digits;
    p.step = std::chrono::seconds(d.period_s);
    return p;
}

} // namespace

Mfa::Mfa(directory::Store& store,
         const SecretBox& box,
         directory::Audit& audit,
         const core::Clock& clock,
         TotpParams params)
    : store_(store)
    , box_(box)
    , audit_(audit)
    , clock_(clock)
    , params_(params)
{
}

bool Mfa::required(const directory::AccountRecord& account, const directory::UserRecord& user)
{
    return account.settings.mfa_required ||
           (account.kind == proto::AccountKind::cloud && user.name == "root");
}

core::Result<std::optional<directory::MfaDeviceRecord>>
Mfa::device(const directory::UserRecord& user)
{
    return store_.mfa_device(user.id);
}

core::Result<PendingEnrolment> Mfa::start(const directory::ResolvedUser& who)
{
    LATCHKEY_TRY(existing, store_.mfa_device(who.user.id));
    if (existing)
        return core::fail(Errc::failed_precondition,
                          logon_name(who) + " already has an MFA device; remove it first "
                                            "(latchkeyctl mfa remove " + logon_name(who) + ")");
    return PendingEnrolment{who, generate_totp_secret(), clock_.now(), std::nullopt, 0};
}

core::Result<proto::MfaChallenge> Mfa::challenge(const PendingEnrolment& pending)
{
    LATCHKEY_TRY(dir, store_.directory());
    const std::string issuer = dir ? dir->domain : std::string("latchkey");
    proto::MfaChallenge c;
    c.user = logon_name(pending.who);
    c.uri = core::Secret(otpauth_uri(issuer, c.user, pending.secret, params_));
    c.key = core::Secret(base32_encode(pending.secret.view()));
    LATCHKEY_TRY(lines, qr_lines(c.uri.view()));
    c.qr.reserve(lines.size());
    for (auto& line : lines) {
        c.qr.emplace_back(line);
        core::wipe(line.data(), line.size());
    }
    c.digits = params_.digits;
    c.period_s = static_cast<std::uint32_t>(params_.step.count());
    return c;
}

core::Status Mfa::accept_first(PendingEnrolment& pending, const core::Secret& code,
                              const std::string& by)
{
    const auto now = clock_.now();
    if (now > pending.started + enrolment_lifetime) {
        record(directory::Severity::warning, "mfa.enroll.fail", pending.who, by,
               {{"reason", "expired"}});
        return core::fail(Errc::failed_precondition,
                          "this enrolment has expired; start again for a new key");
    }
    if (pending.wrong_codes >= max_wrong_enrolment_codes) {
        record(directory::Severity::warning, "mfa.enroll.fail", pending.who, by,
               {{"reason", "too_many_codes"}});
        return core::fail(Errc::failed_precondition,
                          "too many wrong codes; start the enrolment again");
    }
    const auto step = verify_totp(pending.secret, code.view(), now, params_, std::nullopt);
    if (!step) {
        ++pending.wrong_codes;
        record(directory::Severity::warning, "mfa.enroll.fail", pending.who, by,
               {{"reason", "bad_code"}});
        return core::fail(Errc::invalid_argument,
                          "the code is not valid now: check the device's clock and that the "
                          "key was entered correctly");
    }
    pending.first_step = *step;
    return {};
}

core::Result<proto::MfaEnrolled> Mfa::accept_second(PendingEnrolment& pending,
                                                    const core::Secret& code,
                                                    const std::string& by)
{
    if (!pending.first_step)
        return core::fail(Errc::failed_precondition, "the first code has not been accepted");
    const auto now = clock_.now();
    if (now > pending.started + enrolment_lifetime)
        return core::fail(Errc::failed_precondition,
                          "this enrolment has expired; start again for a new key");
    const auto step = verify_totp(pending.secret, code.view(), now, params_, std::nullopt);
    if (!step || *step != *pending.first_step + 1) {
        const bool same = step && *step == *pending.first_step;
        ++pending.wrong_codes;
        pending.first_step.reset(); // start over with a new first code
        record(directory::Severity::warning, "mfa.enroll.fail", pending.who, by,
               {{"reason", same ? "same_code" : "bad_code"}});
        return core::fail(Errc::invalid_argument,
                          "the second code must be the next one the device shows, after the "
                          "first (codes change every " +
                              std::to_string(params_.step.count()) + " seconds)");
    }
    const std::string context = totp_context(pending.who.user.id);
    LATCHKEY_TRY(sealed, box_.seal(pending.secret, context));
    directory::MfaDeviceRecord d;
    d.id = core::uuid_v4();
    d.user_id = pending.who.user.id;
    d.sealed_secret = std::move(sealed);
    d.digits = params_.digits;
    d.period_s = static_cast<std::uint32_t>(params_.step.count());
    d.created_at = now;
    d.last_used_step = *step; // both enrolment codes are spent
    std::vector<std::string> hashes;
    LATCHKEY_TRY(codes, make_recovery_codes(d.user_id, hashes));
    LATCHKEY_TRY_STATUS(store_.add_mfa_device(d, hashes));
    pending.secret.clear();
    record(directory::Severity::notice, "mfa.enroll", pending.who, by, {{"device_id", d.id}});
    LATCHKEY_TRY(device, info(d, logon_name(pending.who)));
    return proto::MfaEnrolled{std::move(device), std::move(codes)};
}

core::Result<proto::MfaEnrolled> Mfa::confirm(PendingEnrolment& pending, const core::Secret& first,
                                              const core::Secret& second, const std::string& by)
{
    LATCHKEY_TRY_STATUS(accept_first(pending, first, by));
    return accept_second(pending, second, by);
}

core::Result<CodeCheck> Mfa::check(const directory::ResolvedUser& who,
                                   const directory::MfaDeviceRecord& device,
                                   const core::Secret& answer)
{
    const auto now = clock_.now();
    if (all_digits(answer.view()) && answer.size() == device.digits) {
        LATCHKEY_TRY(secret, box_.open_sealed(device.sealed_secret, totp_context(who.user.id)));
        const auto step =
            verify_totp(secret, answer.view(), now, device_params(device, params_), std::nullopt);
        if (!step)
            return CodeCheck::wrong;
        if (device.last_used_step && *step <= *device.last_used_step)
            return CodeCheck::replayed;
        LATCHKEY_TRY(fresh, store_.use_totp_step(device.id, *step));
        return fresh ? CodeCheck::totp : CodeCheck::replayed;
    }
    const core::Secret normalized = normalize_recovery(answer);
    if (normalized.empty())
        return CodeCheck::wrong;
    LATCHKEY_TRY(hash, recovery_hash(who.user.id, normalized));
    LATCHKEY_TRY(used, store_.use_recovery_code(who.user.id, hash, now));
    if (!used)
        return CodeCheck::wrong;
    LATCHKEY_TRY(left, store_.recovery_codes_left(who.user.id));
    record(directory::Severity::warning, "mfa.recovery_code.use", who, "logon",
           {{"left", std::to_string(left)}});
    return CodeCheck::recovery;
}

core::Status Mfa::remove(const directory::ResolvedUser& who, const std::string& by)
{
    LATCHKEY_TRY_STATUS(store_.remove_mfa_device(who.user.id));
    record(directory::Severity::notice, "mfa.remove", who, by);
    return {};
}

core::Result<std::vector<core::Secret>> Mfa::new_recovery_codes(const directory::ResolvedUser& who,
                                                                const std::string& by)
{
    LATCHKEY_TRY(existing, store_.mfa_device(who.user.id));
    if (!existing)
        return core::fail(Errc::failed_precondition,
                          logon_name(who) + " has no MFA device: recovery codes come with one");
    std::vector<std::string> hashes;
    LATCHKEY_TRY(codes, make_recovery_codes(who.user.id, hashes));
    LATCHKEY_TRY_STATUS(store_.replace_recovery_codes(who.user.id, hashes));
    record(directory::Severity::notice, "mfa.recovery_code.renew", who, by,
           {{"count", std::to_string(codes.size())}});
    return codes;
}

core::Result<std::vector<proto::MfaDeviceInfo>>
Mfa::list(const std::optional<directory::ResolvedUser>& who)
{
    std::vector<proto::MfaDeviceInfo> out;
    if (who) {
        LATCHKEY_TRY(d, store_.mfa_device(who->user.id));
        if (d) {
            LATCHKEY_TRY(i, info(*d, logon_name(*who)));
            out.push_back(std::move(i));
        }
        return out;
    }
    LATCHKEY_TRY(devices, store_.mfa_devices());
    for (const auto& d : devices) {
        LATCHKEY_TRY(user, store_.user_by_id(d.user_id));
        if (!user)
            continue; // deleted meanwhile
        LATCHKEY_TRY(account, store_.account_by_id(user->account_id));
        if (!account)
            continue;
        LATCHKEY_TRY(i, info(d, user->name + "@" + account->default_domain));
        out.push_back(std::move(i));
    }
    return out;
}

core::Result<std::vector<core::Secret>> Mfa::make_recovery_codes(const std::string& user_id,
                                                                 std::vector<std::string>& hashes)
{
    std::vector<core::Secret> codes;
    hashes.clear();
    // Built in fixed buffers, wiped here: a growing std::string would leave copies behind.
    std::array<char, recovery_length> plain{};
    std::array<char, recovery_length + recovery_length / recovery_group> shown{};
    const core::WipeOnExit wipe_plain(plain.data(), plain.size());
    const core::WipeOnExit wipe_shown(shown.data(), shown.size());
    for (std::size_t i = 0; i < recovery_code_count; ++i) {
        std::size_t n = 0;
        for (std::size_t j = 0; j < recovery_length; ++j) {
            plain[j] = recovery_alphabet[core::random_below(
                static_cast<std::uint32_t>(recovery_alphabet.size()))];
            if (j != 0 && j % recovery_group == 0)
                shown[n++] = '-';
            shown[n++] = plain[j];
        }
        LATCHKEY_TRY(hash, recovery_hash(user_id, core::Secret(std::string_view(plain.data(),
                                                                                 plain.size()))));
        hashes.push_back(std::move(hash));
        codes.emplace_back(std::string_view(shown.data(), n));
    }
    return codes;
}

core::Result<std::string> Mfa::recovery_hash(const std::string& user_id,
                                             const core::Secret& normalized) const
{
    LATCHKEY_TRY(mac, box_.mac(normalized, "recovery:" + user_id));
    return core::base64_encode(mac, false, false);
}

core::Result<proto::MfaDeviceInfo> Mfa::info(const directory::MfaDeviceRecord& d,
                                             const std::string& logon_name)
{
    proto::MfaDeviceInfo i;
    i.id = d.id;
    i.user = logon_name;
    i.created_at = core::to_unix(d.created_at);
    if (d.last_used_step) // the start of that step; a code of the next step may come early
        i.last_used_at = std::min(*d.last_used_step * static_cast<std::int64_t>(d.period_s),
                                  core::to_unix(clock_.now()));
    LATCHKEY_TRY(left, store_.recovery_codes_left(d.user_id));
    i.recovery_codes_left = left;
    return i;
}

void Mfa::record(directory::Severity severity,
                 const std::string& event,
                 const directory::ResolvedUser& who,
                 const std::string& by,
                 std::map<std::string, std::string> extra)
{
    extra["user"] = who.user.name;
    extra["account"] = who.account.name;
    extra["actor"] = by;
    audit_.record(severity, event, std::move(extra));
}

proto::Response answer_confirm(Mfa& mfa, std::optional<PendingEnrolment>& enrolment,
                               const proto::MfaConfirm& confirm, const std::string& by)
{
    if (!enrolment)
        return proto::failure({Errc::failed_precondition,
                               "no MFA enrolment is in progress on this connection"});
    auto enrolled = mfa.confirm(*enrolment, confirm.first_code, confirm.second_code, by);
    if (!enrolled)
        return proto::failure(enrolled.error());
    enrolment.reset();
    return std::move(*enrolled);
}

std::optional<SplitAnswer> split_single_answer(const core::Secret& answer, unsigned digits)
{
    const std::string_view a = answer.view();
    const auto take = [&](std::size_t n) {
        return SplitAnswer{core::Secret(a.substr(0, a.size() - n)),
                           core::Secret(a.substr(a.size() - n))};
    };
    // A recovery code: xxxx-xxxx-xxxx at the end.
    constexpr std::size_t shown = recovery_length + recovery_length / recovery_group - 1;
    if (a.size() > shown) {
        const std::string_view tail = a.substr(a.size() - shown);
        bool ok = true;
        for (std::size_t i = 0; i < tail.size() && ok; ++i) {
            const bool dash = (i + 1) % (recovery_group + 1) == 0;
            ok = dash ? tail[i] == '-'
                      : recovery_alphabet.find(static_cast<char>(std::tolower(
                            static_cast<unsigned char>(tail[i])))) != std::string_view::npos;
        }
        if (ok)
            return take(shown);
    }
    if (a.size() > digits && all_digits(a.substr(a.size() - digits)))
        return take(digits);
    return std::nullopt;
}

namespace {

/// A PendingEnrolment as kept: whose, the key (base64), and how far it got.
struct SavedEnrolment {
    std::string user_id;
    std::string secret;
    std::int64_t started = 0;
    std::optional<std::int64_t> first_step;
    unsigned wrong_codes = 0;
};
BOOST_DESCRIBE_STRUCT(SavedEnrolment, (), (user_id, secret, started, first_step, wrong_codes))

} // namespace

core::Secret save_enrolment(const PendingEnrolment& p)
{
    SavedEnrolment out{p.who.user.id, core::base64_encode(p.secret.view(), false, true),
                       core::to_unix(p.started), p.first_step, p.wrong_codes};
    std::string text = boost::json::serialize(proto::to_json(out));
    core::Secret saved(text);
    core::wipe(text.data(), text.size());
    core::wipe(out.secret.data(), out.secret.size());
    return saved;
}

core::Result<PendingEnrolment> resume_enrolment(const core::Secret& saved,
                                                directory::ResolvedUser who)
{
    std::error_code ec;
    const auto v =
        boost::json::parse(boost::json::string_view(saved.view().data(), saved.view().size()), ec);
    SavedEnrolment in;
    if (ec || !proto::from_json(v, in, "enrolment"))
        return core::fail(core::Errc::protocol_malformed, "not a saved enrolment");
    auto secret = core::base64_decode(in.secret);
    core::wipe(in.secret.data(), in.secret.size());
    if (!secret || in.user_id != who.user.id)
        return core::fail(core::Errc::protocol_malformed, "not a saved enrolment of this user");
    PendingEnrolment p{std::move(who), core::Secret(*secret), core::from_unix(in.started),
                       in.first_step, in.wrong_codes};
    core::wipe(secret->data(), secret->size());
    return p;
}

} // namespace latchkey::credentials
