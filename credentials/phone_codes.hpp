// SPDX-License-Identifier: Apache-2.0
// PhoneCodes: the verification codes sent to an account's bound phone (seed 002) and what they
// unlock — binding the phone, and recovering the root user's password (seed 000).
//
// Codes: 6 digits, valid 10 minutes, 5 tries, at most 100 a day (UTC) for each account, counted
// in the store so a restart forgets nothing. Only a keyed hash of a code is kept; the code
// itself travels only in the notification.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/audit.hpp"
#include "directory/authority.hpp"
#include "directory/directory.hpp"
#include "notify/notifier.hpp"
#include "credentials/passwords.hpp"
#include "credentials/secret_box.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::credentials {

struct CodeLimits {
    std::uint32_t codes_per_day = 100;
    std::chrono::seconds code_lifetime{10 * 60};
    std::uint32_t code_tries = 5;
};

class PhoneCodes {
public:
    PhoneCodes(directory::Store& store,
               directory::Directory& directory,
               directory::Authority& authority,
               Passwords& passwords,
               notify::Notifier& notifier,
               const SecretBox& box,
               directory::Audit& audit,
               const core::Clock& clock,
               CodeLimits limits = {});

    /// Sends a code to the number; the reply says where it went and for how long it is valid.
    core::Result<proto::Done> phone_bind(const proto::PhoneBind& req,
                                         const directory::Principal& p);
    core::Result<proto::AccountInfo> phone_verify(const proto::PhoneVerify& req,
                                                  const directory::Principal& p);

    /// Without a code: sends one to the bound phone. With code and password: sets root's.
    core::Result<proto::Response> root_recover(const proto::RootRecover& req,
                                               const directory::Principal& p);

private:
    core::Result<std::string> code_hash(const std::string& account_id,
                                        directory::CodePurpose purpose,
                                        const core::Secret& code) const;
    /// Counts, stores and sends a fresh code; the reply's text for the caller.
    core::Result<std::string> send_code(const directory::AccountRecord& account,
                                        directory::CodePurpose purpose,
                                        const std::string& phone,
                                        const directory::Principal& p);
    /// Checks a code the caller typed; it is spent when right, void after its last wrong try.
    core::Result<directory::VerificationCodeRecord>
    check_code(const directory::AccountRecord& account,
               directory::CodePurpose purpose,
               const core::Secret& code,
               const directory::Principal& p);
    core::Result<directory::ResolvedUser> root_of(const directory::AccountRecord& account);

    directory::Store& store_;
    directory::Directory& directory_;
    directory::Authority& authority_;
    Passwords& passwords_;
    notify::Notifier& notifier_;
    const SecretBox& box_;
    directory::Audit& audit_;
    const core::Clock& clock_;
    CodeLimits limits_;
};

/// A mobile number in E.164: "+", a country code not starting with 0, 8 to 15 digits in all.
core::Status check_phone(std::string_view number);

} // namespace latchkey::credentials
