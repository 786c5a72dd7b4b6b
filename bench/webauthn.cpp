// SPDX-License-Identifier: Apache-2.0
// latchkey-bench-webauthn: passkey assertions verified per second by the webauthn/ library,
// beside the bare libfido2 fido_assert_verify rate for the same key, in the same run.
//
//   setup, untimed: a software authenticator makes a credential (ES256, then EdDSA) and one
//   assertion for a pending authentication ceremony (signature counters of zero, so the same
//   assertion verifies every time).
//
//   bare:     a fido_assert_t and the public key prepared once; then fido_assert_verify() in a
//             loop. This is the floor: the signature check and what libfido2 does around it.
//   libfido2 per assertion: what any caller of libfido2 does for one assertion from a stored
//             key: es256_pk_from_ptr / eddsa_pk_from_ptr (which validates the key), a new
//             fido_assert_t and its fields, fido_assert_verify().
//   library:  verify_authentication(pending, response, stored credential) in a loop: every
//             step of §7.2 from the decoded response and the stored COSE key, as the product
//             calls it (the stored key is decoded each time, as it comes from the directory).
//   from JSON: the same, plus parse_authentication_response() of the browser's JSON.
//
// The three alternate in slices of a tenth of --seconds, so that frequency scaling and other
// load fall on each alike; a rate is operations over the time of its own slices.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include <fido.h>

#include "bench/bench_util.hpp"
#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/authentication.hpp"
#include "webauthn/fido.hpp"

#include <fido/eddsa.h>
#include <fido/es256.h>

namespace {

namespace lk = latchkey;
namespace wa = latchkey::webauthn;
using Clock = std::chrono::steady_clock;

constexpr std::string_view usage_text =
    "usage: latchkey-bench-webauthn [--seconds S] [--alg es256|eddsa]\n"
    "\n"
    "Verifies one ES256 and one EdDSA passkey assertion over and over: with the bare\n"
    "fido_assert_verify(), with the webauthn library, and with the library from the browser's\n"
    "JSON; prints each rate and the library's share of the bare rate.\n"
    "\n"
    "  --seconds S   measuring time per algorithm, shared by the three (default 3)\n"
    "  --alg A       only this algorithm (default both)\n";

struct Setup {
    wa::PendingCeremony pending;
    wa::StoredCredential stored;
    std::string json;
    wa::AuthenticationResponse response;
    std::string auth_data, client_data, signature;
};

Setup make_setup(const wa::testing::SoftKey& key, lk::core::TimePoint now)
{
    const wa::RelyingParty rp{"example.org", "Example", {"https://example.org"}, false, {}};
    Setup s;
    s.stored.id = "bench-credential";
    s.stored.public_key = key.cose();
    s.stored.user_handle = "bench-user";
    wa::AuthenticationRequest request;
    request.allow = {{s.stored.id, {}}};
    request.user_handle = s.stored.user_handle;
    request.timeout = std::chrono::hours(24);
    s.pending = wa::begin_authentication(rp, request, now).pending;
    wa::testing::AuthDataSpec spec;
    spec.counter = 0;
    s.auth_data = wa::testing::make_auth_data(spec);
    s.client_data =
        wa::testing::make_client_data("webauthn.get", s.pending.challenge, "https://example.org");
    s.signature = key.sign(s.auth_data + wa::sha256(s.client_data));
    s.json = wa::testing::authentication_json(s.stored.id, s.client_data, s.auth_data, s.signature,
                                              s.stored.user_handle);
    s.response = *wa::parse_authentication_response(s.json);
    return s;
}

/// Runs `op` for `seconds` in total, in `slices` turns interleaved by the caller; returns ops/s.
struct Meter {
    std::uint64_t ops = 0;
    double seconds = 0;

    void run(const std::function<bool()>& op, double slice)
    {
        const auto start = Clock::now();
        const auto end = start + std::chrono::duration<double>(slice);
        std::uint64_t n = 0;
        auto now = start;
        do {
            for (int i = 0; i < 64; ++i)
                if (!op()) {
                    std::fprintf(stderr, "latchkey-bench-webauthn: a verification failed\n");
                    std::exit(1);
                }
            n += 64;
            now = Clock::now();
        } while (now < end);
        ops += n;
        seconds += std::chrono::duration<double>(now - start).count();
    }

    [[nodiscard]] double rate() const
    {
        return seconds > 0 ? static_cast<double>(ops) / seconds : 0;
    }
};

bool measure(lk::webauthn::CoseAlgorithm alg, double seconds)
{
    const auto now = lk::core::from_unix(1'800'000'000);
    const auto key = wa::testing::SoftKey::generate(alg);
    Setup s = make_setup(key, now);
    auto parsed_key = wa::parse_cose_key(s.stored.public_key);
    if (!parsed_key || !wa::verify_authentication(s.pending, s.response, s.stored, now)) {
        std::fprintf(stderr, "latchkey-bench-webauthn: the setup does not verify\n");
        return false;
    }

    // The floor: libfido2 with everything prepared once.
    wa::FidoAssert prepared(fido_assert_new());
    fido_assert_set_count(prepared.get(), 1);
    fido_assert_set_rp(prepared.get(), "example.org");
    fido_assert_set_clientdata(prepared.get(),
                               reinterpret_cast<const unsigned char*>(s.client_data.data()),
                               s.client_data.size());
    fido_assert_set_authdata_raw(prepared.get(), 0,
                                 reinterpret_cast<const unsigned char*>(s.auth_data.data()),
                                 s.auth_data.size());
    fido_assert_set_sig(prepared.get(), 0,
                        reinterpret_cast<const unsigned char*>(s.signature.data()),
                        s.signature.size());
    fido_assert_set_up(prepared.get(), FIDO_OPT_TRUE);
    es256_pk_t* es = es256_pk_new();
    eddsa_pk_t* ed = eddsa_pk_new();
    const void* pk = nullptr;
    if (alg == wa::CoseAlgorithm::es256) {
        const std::string point = "\x04" + parsed_key->x + parsed_key->y;
        es256_pk_from_ptr(es, point.data(), point.size());
        pk = es;
    } else {
        eddsa_pk_from_ptr(ed, parsed_key->x.data(), parsed_key->x.size());
        pk = ed;
    }
    const int type = static_cast<int>(alg);

    // What a caller of libfido2 alone does for each assertion from the stored key's bytes.
    const std::string raw_key =
        alg == wa::CoseAlgorithm::es256 ? "\x04" + parsed_key->x + parsed_key->y : parsed_key->x;
    const auto per_assertion = [&] {
        wa::FidoAssert a(fido_assert_new());
        fido_assert_set_count(a.get(), 1);
        fido_assert_set_rp(a.get(), "example.org");
        fido_assert_set_clientdata(a.get(),
                                   reinterpret_cast<const unsigned char*>(s.client_data.data()),
                                   s.client_data.size());
        fido_assert_set_authdata_raw(a.get(), 0,
                                     reinterpret_cast<const unsigned char*>(s.auth_data.data()),
                                     s.auth_data.size());
        fido_assert_set_sig(a.get(), 0, reinterpret_cast<const unsigned char*>(s.signature.data()),
                            s.signature.size());
        fido_assert_set_up(a.get(), FIDO_OPT_TRUE);
        int r = FIDO_ERR_INTERNAL;
        if (alg == wa::CoseAlgorithm::es256) {
            es256_pk_t* k = es256_pk_new();
            if (es256_pk_from_ptr(k, raw_key.data(), raw_key.size()) == FIDO_OK)
                r = fido_assert_verify(a.get(), 0, type, k);
            es256_pk_free(&k);
        } else {
            eddsa_pk_t* k = eddsa_pk_new();
            if (eddsa_pk_from_ptr(k, raw_key.data(), raw_key.size()) == FIDO_OK)
                r = fido_assert_verify(a.get(), 0, type, k);
            eddsa_pk_free(&k);
        }
        return r == FIDO_OK;
    };

    Meter bare, each, library, from_json;
    const double slice = seconds / 40;
    for (int round = 0; round < 10; ++round) {
        bare.run([&] { return fido_assert_verify(prepared.get(), 0, type, pk) == FIDO_OK; }, slice);
        each.run(per_assertion, slice);
        library.run(
            [&] {
                return wa::verify_authentication(s.pending, s.response, s.stored, now).has_value();
            },
            slice);
        from_json.run(
            [&] {
                auto r = wa::parse_authentication_response(s.json);
                return r && wa::verify_authentication(s.pending, *r, s.stored, now).has_value();
            },
            slice);
    }
    es256_pk_free(&es);
    eddsa_pk_free(&ed);

    const char* name = alg == wa::CoseAlgorithm::es256 ? "ES256" : "EdDSA";
    std::printf("  %s\n"
                "    bare fido_assert_verify (prepared once)  %8.0f/s\n"
                "    libfido2 per assertion (key import)      %8.0f/s  %5.1f%% of bare\n"
                "    library verify_authentication()          %8.0f/s  %5.1f%% of bare, %5.1f%% of "
                "libfido2 per assertion\n"
                "    library from the browser's JSON          %8.0f/s  %5.1f%% of bare\n",
                name, bare.rate(), each.rate(), 100 * each.rate() / bare.rate(), library.rate(),
                100 * library.rate() / bare.rate(), 100 * library.rate() / each.rate(),
                from_json.rate(), 100 * from_json.rate() / bare.rate());
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    double seconds = 3;
    std::string_view only;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--alg" && i + 1 < argc &&
            (std::string_view(argv[i + 1]) == "es256" ||
             std::string_view(argv[i + 1]) == "eddsa")) {
            only = argv[++i];
            continue;
        }
        if (arg == "--seconds" && i + 1 < argc &&
            lk::bench::parse_seconds(argv[i + 1], seconds, 600)) {
            ++i;
            continue;
        }
        std::fputs(usage_text.data(), arg == "--help" || arg == "-h" ? stdout : stderr);
        return arg == "--help" || arg == "-h" ? 0 : 2;
    }
    std::printf("webauthn: passkey assertions verified per second on 1 thread (%g s each)\n",
                seconds);
    bool ok = true;
    if (only != "eddsa")
        ok = measure(wa::CoseAlgorithm::es256, seconds) && ok;
    if (only != "es256")
        ok = measure(wa::CoseAlgorithm::eddsa, seconds) && ok;
    return ok ? 0 : 1;
}
