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
// The four alternate in slices of a tenth of --seconds, so that frequency scaling and other
// load fall on each alike; a rate is operations over the time of its own slices.
//
// Then, for ES256, whole passkey sign-ins through the OpenID Connect provider, in process
// (Provider::handle, no sockets), on a real SQLite file in a temporary directory, beside the
// library's bare verify_authentication() rate measured in the same slices: the general
// portal's page (a discoverable ceremony), the software authenticator's assertion, and the
// form post that verifies it, stores the counter, opens the browser session and audits it.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include <fido.h>
#include <stdlib.h>

#include "bench/bench_util.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "credentials/access_keys.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/secret_box.hpp"
#include "oidc/provider.hpp"
#include "storage/sqlite/sqlite_store.hpp"
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
    int batch = 64; ///< operations between looks at the clock

    void run(const std::function<bool()>& op, double slice)
    {
        const auto start = Clock::now();
        const auto end = start + std::chrono::duration<double>(slice);
        std::uint64_t n = 0;
        auto now = start;
        do {
            for (int i = 0; i < batch; ++i)
                if (!op()) {
                    std::fprintf(stderr, "latchkey-bench-webauthn: a verification failed\n");
                    std::exit(1);
                }
            n += static_cast<std::uint64_t>(batch);
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

/// A provider on its own SQLite file, with alice and one passkey of a software authenticator.
class ProviderSignIns {
public:
    ProviderSignIns()
        : dir_(make_dir())
        , key_(wa::testing::SoftKey::generate(wa::CoseAlgorithm::es256))
    {
    }

    ProviderSignIns(const ProviderSignIns&) = delete;
    ProviderSignIns& operator=(const ProviderSignIns&) = delete;

    ~ProviderSignIns()
    {
        provider_.reset();
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    bool start()
    {
        auto store = lk::sqlite::SqliteStore::open(dir_ + "/bench.db");
        if (!store)
            return fail("opening the database: " + store.error().message);
        store_ = std::move(*store);
        audit_ = std::make_unique<lk::directory::Audit>(*store_, clock_);
        directory_ = std::make_unique<lk::directory::Directory>(*store_, *audit_, clock_);
        auto box = lk::credentials::SecretBox::from_key(
            lk::core::Secret(std::string(lk::credentials::SecretBox::key_size, 'b')));
        if (!box)
            return fail("a secret box");
        box_ = std::make_unique<lk::credentials::SecretBox>(std::move(*box));
        mfa_ = std::make_unique<lk::credentials::Mfa>(*store_, *box_, *audit_, clock_,
                                                      lk::credentials::TotpParams{});
        engine_ = std::make_unique<lk::credentials::AuthEngine>(*store_, *directory_, hasher_,
                                                                *mfa_, *audit_, clock_);
        engine_->set_source_limits(0, 0);
        keys_ = std::make_unique<lk::credentials::AccessKeys>(*store_, *directory_, *box_,
                                                              *audit_, clock_);
        const lk::directory::Actor admin{"uid:0"};
        if (!directory_->init({"bench.internal", "management"}, admin) ||
            !directory_->create_account({"web", lk::proto::AccountKind::resource}, admin))
            return fail("the directory");
        auto alice = directory_->create_user({{"alice", "web"}, std::nullopt, true}, admin);
        if (!alice)
            return fail("the user");
        const std::string handle = lk::core::random_string(32);
        lk::directory::PasskeyRecord p;
        p.id = lk::core::uuid_v4();
        p.user_id = alice->id;
        p.credential_id = "bench-credential";
        p.public_key = key_.cose();
        p.name = "bench";
        p.aaguid = std::string(16, '\0');
        p.created_at = clock_.now();
        if (auto h = store_->user_handle(alice->id, handle); !h)
            return fail("the user handle: " + h.error().message);
        if (auto st = store_->add_passkey(p, 10); !st)
            return fail("the passkey: " + st.error().message);
        handle_ = handle;
        lk::oidc::ProviderConfig cfg;
        cfg.issuer = std::string(origin);
        cfg.passkeys.rp = {"localhost", "latchkey", {std::string(origin)}, false, {}};
        provider_ = std::make_unique<lk::oidc::Provider>(cfg, *store_, *directory_, *engine_,
                                                         *keys_, *box_, *audit_, clock_);
        if (!provider_->start())
            return fail("the provider");
        return sign_in();
    }

    /// One sign-in: the page, the authenticator's answer, the post; true when signed in.
    bool sign_in()
    {
        namespace http = boost::beast::http;
        lk::oidc::HttpRequest get{http::verb::get, "/login", 11};
        get.set(http::field::host, "localhost:8080");
        const auto page = provider_->handle(std::move(get), peer_);
        const std::string& html = page.body();
        const auto tx = between(html, "name=\"tx\" value=\"", "\"");
        const auto csrf = between(html, "name=\"csrf\" value=\"", "\"");
        const auto challenge = between(html, "&quot;challenge&quot;:&quot;", "&quot;");
        const auto raw = lk::core::base64_decode(challenge);
        if (tx.empty() || csrf.empty() || !raw)
            return false;
        wa::testing::AuthDataSpec spec;
        spec.rp_id = "localhost";
        spec.flags = wa::flag::up | wa::flag::uv;
        const std::string auth_data = wa::testing::make_auth_data(spec);
        const std::string client =
            wa::testing::make_client_data("webauthn.get", *raw, std::string(origin));
        const std::string signature = key_.sign(auth_data + wa::sha256(client));
        const auto b64 = [](std::string_view b) { return lk::core::base64_encode(b, true, false); };
        lk::oidc::HttpRequest post{http::verb::post, "/login", 11};
        post.set(http::field::host, "localhost:8080");
        post.set(http::field::content_type, "application/x-www-form-urlencoded");
        post.body() = "tx=" + tx + "&csrf=" + csrf + "&pk_id=" + b64("bench-credential") +
                      "&pk_client_data=" + b64(client) + "&pk_authenticator_data=" +
                      b64(auth_data) + "&pk_signature=" + b64(signature) +
                      "&pk_user_handle=" + b64(handle_);
        post.prepare_payload();
        const auto done = provider_->handle(std::move(post), peer_);
        return done.result() == http::status::ok &&
               done.body().find("You are signed in as") != std::string::npos;
    }

private:
    static constexpr std::string_view origin = "http://localhost:8080";

    static std::string make_dir()
    {
        std::string t = (std::filesystem::temp_directory_path() / "latchkey-bench-XXXXXX").string();
        return ::mkdtemp(t.data()) != nullptr ? t : std::string();
    }

    static std::string between(const std::string& s, std::string_view open, std::string_view close)
    {
        const auto a = s.find(open);
        if (a == std::string::npos)
            return {};
        const auto start = a + open.size();
        const auto b = s.find(close, start);
        return b == std::string::npos ? std::string() : s.substr(start, b - start);
    }

    static bool fail(const std::string& what)
    {
        std::fprintf(stderr, "latchkey-bench-webauthn: %s failed\n", what.c_str());
        return false;
    }

    std::string dir_;
    wa::testing::SoftKey key_;
    std::string handle_;
    lk::core::SystemClock clock_;
    lk::credentials::PasswordHasher hasher_{{1024, 1, 1}};
    std::unique_ptr<lk::sqlite::SqliteStore> store_;
    std::unique_ptr<lk::directory::Audit> audit_;
    std::unique_ptr<lk::directory::Directory> directory_;
    std::unique_ptr<lk::credentials::SecretBox> box_;
    std::unique_ptr<lk::credentials::Mfa> mfa_;
    std::unique_ptr<lk::credentials::AuthEngine> engine_;
    std::unique_ptr<lk::credentials::AccessKeys> keys_;
    std::unique_ptr<lk::oidc::Provider> provider_;
    const lk::oidc::HttpPeer peer_{"127.0.0.1", 1234, false};
};

/// Passkey sign-ins through the provider beside the library's verification, same slices.
bool measure_provider(double seconds)
{
    const auto now = lk::core::from_unix(1'800'000'000);
    const auto key = wa::testing::SoftKey::generate(wa::CoseAlgorithm::es256);
    const Setup s = make_setup(key, now);
    // Every sign-in audits two lines; the journal's share is not what this measures.
    lk::core::log::set_level(lk::core::LogLevel::error);
    ProviderSignIns provider;
    if (!provider.start()) {
        std::fprintf(stderr, "latchkey-bench-webauthn: a sign-in through the provider failed\n");
        return false;
    }
    Meter library, sign_ins;
    sign_ins.batch = 4;
    const double slice = seconds / 20;
    for (int round = 0; round < 10; ++round) {
        library.run(
            [&] {
                return wa::verify_authentication(s.pending, s.response, s.stored, now).has_value();
            },
            slice);
        sign_ins.run([&] { return provider.sign_in(); }, slice);
    }
    std::printf("  ES256 sign-ins through the provider (in process, SQLite file)\n"
                "    library verify_authentication()          %8.0f/s\n"
                "    passkey sign-ins (page, assertion, post)  %8.0f/s  %5.1f%% of the library\n",
                library.rate(), sign_ins.rate(), 100 * sign_ins.rate() / library.rate());
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
    if (only != "eddsa")
        ok = measure_provider(seconds) && ok;
    return ok ? 0 : 1;
}
