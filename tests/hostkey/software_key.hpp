// SPDX-License-Identifier: Apache-2.0
// Test support: a security key in software. A CTAP2 authenticator (getInfo, makeCredential,
// getAssertion, getNextAssertion, clientPIN with PIN/UV auth protocol one) that libfido2 talks
// to through its transport hooks (fido_dev_set_io_functions + fido_dev_set_transport_functions),
// so the host side of security keys runs its real libfido2 calls without a USB device.
//
// It holds its credentials and signature counter in memory; copying it makes a clone (the same
// keys, its own counter from then on), which is how a test shows a cloned key being refused.
// The keys are throwaway: made at random for each test run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fido.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/authenticator_data.hpp"

namespace latchkey::hostkey::testing {

// Its answers carry CTAP2 status codes, which libfido2 names FIDO_OK and FIDO_ERR_* (fido/err.h).

class SoftwareKey {
public:
    struct Options {
        bool builtin_uv = false;        ///< verifies its user itself (a fingerprint reader)
        bool touched = true;            ///< someone touches it when it asks; false: it times out
        std::optional<std::string> pin; ///< a PIN is set
        webauthn::Aaguid aaguid{0x6c, 0x61, 0x74, 0x63, 0x68, 0x6b, 0x65, 0x79,
                                0x2d, 0x74, 0x65, 0x73, 0x74, 0x6b, 0x65, 0x79};

        static Options with_pin(std::string pin)
        {
            Options o;
            o.pin = std::move(pin);
            return o;
        }
    };

    struct Credential {
        std::string id;
        std::string rp_id;
        std::string user_id;
        std::string user_name;
        bool resident = false;
        webauthn::testing::SoftKey key;
    };

    explicit SoftwareKey(Options options);

    /// One CTAP exchange: `cmd` (CTAP_CMD_INIT, CTAP_CMD_CBOR) with its payload; the reply as
    /// libfido2 reads it (for CBOR: the status byte, then the CBOR map).
    [[nodiscard]] std::string exchange(std::uint8_t cmd, std::string_view payload);

    Options& options() { return options_; }

    [[nodiscard]] const std::vector<Credential>& credentials() const { return credentials_; }

    [[nodiscard]] std::uint32_t counter() const { return counter_; }

    void set_counter(std::uint32_t c) { counter_ = c; }

    [[nodiscard]] int pin_retries() const { return pin_retries_; }

    /// How many user-presence checks it made (touches asked for).
    [[nodiscard]] int touches() const { return touches_; }

    /// A fido_dev_t of libfido2 wired to this key: its io and transport functions reach it
    /// through the handle, so any number of keys can be open at once. The caller owns it
    /// (fido_dev_close + fido_dev_free); the key must outlive it.
    fido_dev_t* open_device();

private:
    std::string cbor_command(std::string_view request);
    std::string get_info();
    std::string make_credential(const cbor_item_t& params);
    std::string get_assertion(const cbor_item_t& params);
    std::string get_next_assertion();
    std::string client_pin(const cbor_item_t& params);
    std::string assertion(const Credential& c,
                          std::string_view client_data_hash,
                          std::uint8_t flags,
                          std::size_t count);
    /// Verifies the user by the request's pinAuth (with the PIN token) or, with the uv option,
    /// by the built-in verifier; sets flag::uv in `flags` when it did. ok, or why not.
    std::uint8_t verify_user(const cbor_item_t& params,
                             int auth_key,
                             int protocol_key,
                             int options_key,
                             std::string_view client_data_hash,
                             std::uint8_t& flags) const;
    void new_key_agreement();

    Options options_;
    std::vector<Credential> credentials_;
    std::uint32_t counter_ = 0;
    int touches_ = 0;
    int pin_retries_ = 8;
    std::string pin_token_;                                   ///< 32 bytes, new at each power-up
    std::optional<webauthn::testing::SoftKey> key_agreement_; ///< P-256, for clientPIN
    std::string reply_;                                       ///< what the next rx reads
    // getNextAssertion: the credentials still to give, and what they are signed for.
    std::vector<std::size_t> pending_;
    std::string pending_hash_;
    std::uint8_t pending_flags_ = 0;
};

} // namespace latchkey::hostkey::testing
