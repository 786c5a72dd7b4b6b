// SPDX-License-Identifier: Apache-2.0
// The codes sent to an account's bound phone, and what they unlock.
#include "credentials/phone_codes.hpp"

#include <algorithm>
#include <cstdio>

#include "core/random.hpp"

namespace latchkey::credentials {

namespace {

using core::Errc;

std::string kind_name(proto::AccountKind k)
{
    return boost::describe::enum_to_string(k, "?");
}

std::string minutes(std::chrono::seconds s)
{
    const auto m = std::chrono::duration_cast<std::chrono::minutes>(s).count();
    return std::to_string(m) + (m == 1 ? " minute" : " minutes");
}

core::Secret new_code()
{
    char digits[8];
    std::snprintf(digits, sizeof digits, "%06u", core::random_below(1'000'000));
    core::Secret code{std::string_view(digits, 6)};
    core::wipe(digits, sizeof digits);
    return code;
}

} // namespace

core::Status check_phone(std::string_view number)
{
    const bool shape = number.size() >= 9 && number.size() <= 16 && number[0] == '+' &&
                       number[1] >= '1' && number[1] <= '9' &&
                       std::all_of(number.begin() + 1, number.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
    if (!shape)
        return core::fail(Errc::invalid_argument,
                          "'" + std::string(number.substr(0, 32)) +
                              "' is not a mobile number in E.164 form: '+', the country code "
                              "and the number, 8 to 15 digits in all, e.g. +4915112345678");
    return {};
}

PhoneCodes::PhoneCodes(directory::Store& store,
                       directory::Directory& directory,
                       directory::Authority& authority,
                       Passwords& passwords,
                       notify::Notifier& notifier,
                       const SecretBox& box,
                       directory::Audit& audit,
                       const core::Clock& clock,
                       CodeLimits limits)
    : store_(store)
    , directory_(directory)
    , authority_(authority)
    , passwords_(passwords)
    , notifier_(notifier)
    , box_(box)
    , audit_(audit)
    , clock_(clock)
    , limits_(limits)
{
}

core::Result<directory::ResolvedUser> PhoneCodes::root_of(const directory::AccountRecord& account)
{
    LATCHKEY_TRY_STATUS(directory_.ensure_root_user(account));
    LATCHKEY_TRY(root, store_.user_by_name(account.id, "root"));
    if (!root)
        return core::fail(Errc::internal, "the root user of " + account.name + " is missing");
    return directory::ResolvedUser{account, std::move(*root)};
}

core::Result<std::string> PhoneCodes::code_hash(const std::string& account_id,
                                                directory::CodePurpose purpose,
                                                const core::Secret& code) const
{
    LATCHKEY_TRY(mac, box_.mac(code, "verification-code:" + account_id + ":" +
                                         std::string(to_string(purpose))));
    return core::base64_encode(mac, true, false);
}

core::Result<std::string> PhoneCodes::send_code(const directory::AccountRecord& account,
                                                directory::CodePurpose purpose,
                                                const std::string& phone,
                                                const directory::Principal& p)
{
    LATCHKEY_TRY(counted, store_.count_code_sent(account.id, directory::utc_day(clock_.now()),
                                                 limits_.codes_per_day));
    if (!counted) {
        audit_.record(directory::Severity::warning, "code.limit",
                      {{"actor", p.actor},
                       {"account", account.name},
                       {"purpose", std::string(to_string(purpose))}});
        return core::fail(Errc::failed_precondition,
                          "account " + account.name + " has been sent " +
                              std::to_string(limits_.codes_per_day) +
                              " verification codes today, the most a day; more can be sent "
                              "after 00:00 UTC");
    }
    core::Secret code = new_code();
    LATCHKEY_TRY(hash, code_hash(account.id, purpose, code));
    const auto now = clock_.now();
    directory::VerificationCodeRecord rec{account.id,        purpose, phone,
                                          std::move(hash),   now,     now + limits_.code_lifetime,
                                          limits_.code_tries};
    LATCHKEY_TRY_STATUS(store_.put_code(rec));

    notify::Notification n;
    n.kind = "verification_code";
    n.account = account.name;
    n.phone = phone;
    n.text =
        "Your latchkey verification code for account " + account.name + " (" +
        (purpose == directory::CodePurpose::root_recovery ? "recovery of the root user's password"
                                                          : "binding this phone") +
        "). It is valid for " + minutes(limits_.code_lifetime) + "; never share it.";
    n.fields = {{"purpose", std::string(to_string(purpose))}};
    n.code = std::move(code);
    const auto sent = notifier_.send(n);
    audit_notification(audit_, notifier_, n, sent);
    if (!sent) {
        (void)store_.delete_code(account.id, purpose);
        return core::fail(Errc::io_failed,
                          "the verification code could not be delivered (" + sent.error().message +
                              "); it counts toward today's limit; try again");
    }
    audit_.record(directory::Severity::notice, "code.sent",
                  {{"actor", p.actor},
                   {"account", account.name},
                   {"phone", phone},
                   {"purpose", std::string(to_string(purpose))}});
    return "sent a verification code to " + phone + " for account " + account.name +
           "; it is valid for " + minutes(limits_.code_lifetime) + " and " +
           std::to_string(limits_.code_tries) + " tries";
}

core::Result<directory::VerificationCodeRecord>
PhoneCodes::check_code(const directory::AccountRecord& account,
                       directory::CodePurpose purpose,
                       const core::Secret& code,
                       const directory::Principal& p)
{
    LATCHKEY_TRY(pending, store_.code(account.id, purpose));
    const std::string ask_again =
        purpose == directory::CodePurpose::root_recovery
            ? "'latchkeyctl account root recover " + account.name + "' sends a new one"
            : "'latchkeyctl account phone bind " + account.name + " NUMBER' sends a new one";
    if (!pending)
        return core::fail(Errc::failed_precondition,
                          "no verification code is waiting for account " + account.name + ": " +
                              ask_again);
    if (clock_.now() >= pending->expires_at) {
        (void)store_.delete_code(account.id, purpose);
        return core::fail(Errc::failed_precondition,
                          "the verification code has expired (codes are valid for " +
                              minutes(limits_.code_lifetime) + "): " + ask_again);
    }
    LATCHKEY_TRY(hash, code_hash(account.id, purpose, code));
    if (pending->tries_left > 0 && core::constant_time_equal(hash, pending->code_hash)) {
        LATCHKEY_TRY_STATUS(store_.delete_code(account.id, purpose));
        return std::move(*pending);
    }
    LATCHKEY_TRY(left, store_.spend_code_try(account.id, purpose));
    audit_.record(directory::Severity::warning, "code.wrong",
                  {{"actor", p.actor},
                   {"account", account.name},
                   {"purpose", std::string(to_string(purpose))},
                   {"tries_left", std::to_string(left)}});
    if (left == 0) {
        (void)store_.delete_code(account.id, purpose);
        return core::fail(Errc::permission_denied,
                          "wrong verification code, and that was the last try: the code is void; " +
                              ask_again);
    }
    return core::fail(Errc::permission_denied, "wrong verification code; " +
                                                   std::to_string(left) +
                                                   (left == 1 ? " try" : " tries") + " left");
}

core::Result<proto::Done> PhoneCodes::phone_bind(const proto::PhoneBind& req,
                                                 const directory::Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(req.account));
    LATCHKEY_TRY_STATUS(check_phone(req.number));
    switch (a.kind) {
    case proto::AccountKind::management:
        return core::fail(Errc::failed_precondition,
                          "the management account has no bound phone: phones are bound to "
                          "member accounts");
    case proto::AccountKind::resource:
        LATCHKEY_TRY_STATUS(authority_.need_directory_admin(p, "binding a phone"));
        if (a.phone)
            return core::fail(Errc::failed_precondition,
                              "resource account " + a.name + " has the bound phone " + *a.phone +
                                  ", which cannot be changed in place: switch the account to a "
                                  "cloud account first ('latchkeyctl account switch " + a.name +
                                  " --to cloud --acknowledge-risk'); its root user or a directory "
                                  "administrator can then change it");
        break;
    case proto::AccountKind::cloud:
        if (!authority_.is_root_of(p, a)) {
            LATCHKEY_TRY(dir_admin, authority_.directory_admin(p));
            if (!dir_admin)
                return core::fail(Errc::permission_denied,
                                  "permission denied: the phone of cloud account " + a.name +
                                      " is changed by its root user or a directory "
                                      "administrator");
        }
        break;
    }
    LATCHKEY_TRY(text, send_code(a, directory::CodePurpose::phone_bind, req.number, p));
    return proto::Done{text + ": 'latchkeyctl account phone verify " + a.name +
                       "' binds the number with it"};
}

core::Result<proto::AccountInfo> PhoneCodes::phone_verify(const proto::PhoneVerify& req,
                                                          const directory::Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(req.account));
    if (a.kind == proto::AccountKind::cloud && !authority_.is_root_of(p, a)) {
        LATCHKEY_TRY(dir_admin, authority_.directory_admin(p));
        if (!dir_admin)
            return core::fail(Errc::permission_denied,
                              "permission denied: the phone of cloud account " + a.name +
                                  " is changed by its root user or a directory administrator");
    } else if (a.kind != proto::AccountKind::cloud) {
        LATCHKEY_TRY_STATUS(authority_.need_directory_admin(p, "binding a phone"));
    }
    if (a.kind == proto::AccountKind::resource && a.phone)
        return core::fail(Errc::failed_precondition,
                          "resource account " + a.name + " already has a bound phone");
    LATCHKEY_TRY(rec, check_code(a, directory::CodePurpose::phone_bind, req.code, p));
    LATCHKEY_TRY_STATUS(store_.set_phone(a.id, rec.phone));
    const bool change = a.phone.has_value();
    // A cloud account's phone is a contact a root-only task changes (seed 003): an alert.
    audit_.record(change ? directory::Severity::alert : directory::Severity::notice,
                  change ? "account.phone.change" : "account.phone.bind",
                  {{"actor", p.actor}, {"account", a.name}, {"phone", rec.phone}});
    LATCHKEY_TRY(fresh, directory_.account(a.name));
    return directory_.show_account(fresh.name);
}

core::Result<proto::Response> PhoneCodes::root_recover(const proto::RootRecover& req,
                                                       const directory::Principal& p)
{
    LATCHKEY_TRY(a, directory_.open_account(req.account));
    LATCHKEY_TRY_STATUS(authority_.need_account_admin(p, a, "recovering root's password"));
    if (a.kind != proto::AccountKind::cloud)
        return core::fail(Errc::failed_precondition,
                          a.name + " is a " + kind_name(a.kind) + " account and has no root user" +
                              (a.kind == proto::AccountKind::resource
                                   ? ": a directory administrator can switch it to a cloud "
                                     "account ('latchkeyctl account switch " +
                                         a.name + " --to cloud --acknowledge-risk')"
                                   : std::string()));
    if (!a.phone)
        return core::fail(Errc::failed_precondition,
                          "cloud account " + a.name +
                              " has no bound phone to send the code to: a directory "
                              "administrator binds one with 'latchkeyctl account phone bind " +
                              a.name + " NUMBER'");
    LATCHKEY_TRY(dir, store_.directory());
    if (dir && dir->root_access_centralized &&
        !(a.recovery_open_until && clock_.now() < *a.recovery_open_until))
        return core::fail(Errc::failed_precondition,
                          "root password recovery of " + a.name +
                              " is closed: centralized root access is enabled, and a directory "
                              "administrator opens recovery for a while with 'latchkeyctl "
                              "account root allow-recovery " + a.name + " --for DURATION'");
    LATCHKEY_TRY(root, root_of(a));
    if (!req.code) {
        if (req.password)
            return core::fail(Errc::invalid_argument, "the new password comes with the code");
        audit_.record(directory::Severity::alert, "root.recover.start",
                      {{"actor", p.actor}, {"account", a.name}});
        LATCHKEY_TRY(text, send_code(a, directory::CodePurpose::root_recovery, *a.phone, p));
        return proto::Response{proto::Done{text}};
    }
    if (!req.password || req.password->empty())
        return core::fail(Errc::invalid_argument, "give root's new password with the code");
    LATCHKEY_TRY_STATUS(check_code(a, directory::CodePurpose::root_recovery, *req.code, p));
    if (auto st = passwords_.replace(root, *req.password, false); !st) {
        audit_.record(directory::Severity::alert, "root.recover.fail",
                      {{"actor", p.actor}, {"account", a.name}, {"reason", "policy"}});
        return core::fail(std::move(st).error());
    }
    audit_.record(directory::Severity::alert, "root.recover",
                  {{"actor", p.actor}, {"account", a.name}});
    LATCHKEY_TRY(fresh, directory_.account(a.name));
    LATCHKEY_TRY(info, directory_.show_account(fresh.name));
    return proto::Response{proto::AccountReply{std::move(info)}};
}

} // namespace latchkey::credentials
