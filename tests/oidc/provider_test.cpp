// SPDX-License-Identifier: Apache-2.0
// Unit tests of the OpenID Connect provider: the whole browser flow (authorize, logon pages,
// resume), the token endpoint, refresh, revocation, introspection, logout, discovery, JWKS and
// key rotation, driven through Provider::handle with Beast requests on a real SQLite directory
// and a manual clock. No sockets.
#include "oidc/provider.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/mfa.hpp"
#include "credentials/secret_box.hpp"
#include "credentials/totp.hpp"
#include "oidc/backchannel.hpp"
#include "oidc/jose.hpp"
#include "oidc/web.hpp"
#include "oidc/provider_state.hpp"
#include "tests/directory/directory_fixture.hpp"

namespace latchkey::oidc {
namespace {

namespace json = boost::json;
using core::Secret;
using namespace std::chrono_literals;

constexpr std::string_view issuer = "http://localhost:8080";
constexpr std::string_view alice = "alice@web.example.internal";
constexpr std::string_view alice_password = "Alice-Passw0rd";
constexpr std::string_view bob = "bob@web.example.internal";
constexpr std::string_view bob_password = "Bob-Passw0rd-2";
constexpr std::string_view bad_credentials =
    "Authentication failed: wrong user name or password.";

const std::string webapp_cb = "https://app.example/cb";
const std::string webapp_bye = "https://app.example/bye";
const std::string native_cb = "http://127.0.0.1:9000/cb";
const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-more-entropy";

// ---- small HTTP helpers -------------------------------------------------------------------

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string pct(std::string_view s)
{
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += digits[u >> 4U];
            out += digits[u & 15U];
        }
    }
    return out;
}

std::string encode(const Params& p)
{
    std::string out;
    for (const auto& [k, v] : p)
        out += (out.empty() ? "" : "&") + pct(k) + "=" + pct(v);
    return out;
}

std::string header(const HttpResponse& r, http::field f)
{
    const auto it = r.find(f);
    return it == r.end() ? std::string() : std::string(it->value());
}

bool has_header(const HttpResponse& r, http::field f)
{
    return r.find(f) != r.end();
}

/// The query parameters of a URI (form-decoded), or nothing when it has no valid query.
Params query_of(std::string_view uri)
{
    const auto q = uri.find('?');
    if (q == std::string_view::npos)
        return {};
    auto p = parse_params(uri.substr(q + 1));
    EXPECT_TRUE(p) << "bad query in " << uri;
    return p ? *p : Params{};
}

std::string get_or(const Params& p, const std::string& k, std::string fallback = "<absent>")
{
    const auto it = p.find(k);
    return it == p.end() ? fallback : it->second;
}

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view s, std::string_view part)
{
    return s.find(part) != std::string_view::npos;
}

/// The value of the hidden input `name` of a page.
std::string hidden(const std::string& html, std::string_view name)
{
    const std::string marker = "name=\"" + std::string(name) + "\" value=\"";
    const auto at = html.find(marker);
    if (at == std::string::npos)
        return {};
    const auto from = at + marker.size();
    return html.substr(from, html.find('"', from) - from);
}

/// The lk_session value of a Set-Cookie header, or empty.
std::string session_cookie_of(const HttpResponse& r)
{
    const std::string c = header(r, http::field::set_cookie);
    constexpr std::string_view name = "lk_session=";
    if (!starts_with(c, name))
        return {};
    return c.substr(name.size(), c.find(';') - name.size());
}

json::object json_of(const HttpResponse& r)
{
    const auto v = json::parse(r.body());
    return v.is_object() ? v.as_object() : json::object{};
}

std::string str(const json::object& o, std::string_view k)
{
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string("<absent>");
}

/// Part `index` (0 header, 1 payload) of a compact JWS, decoded.
json::object jwt_part(std::string_view jwt, std::size_t index)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t dot = jwt.find('.'); dot != std::string_view::npos;
         dot = jwt.find('.', start)) {
        parts.push_back(jwt.substr(start, dot - start));
        start = dot + 1;
    }
    parts.push_back(jwt.substr(start));
    if (parts.size() != 3 || index > 1) {
        ADD_FAILURE() << "not a compact JWS";
        return {};
    }
    const auto raw = base64url_decode(parts[index]);
    if (!raw) {
        ADD_FAILURE() << "bad base64url in a JWS";
        return {};
    }
    return json::parse(*raw).as_object();
}

// ---- the fixture --------------------------------------------------------------------------

class ProviderTest : public directory::DirectoryFixture {
protected:
    void SetUp() override
    {
        DirectoryFixture::SetUp();
        if (HasFatalFailure())
            return;
        const Secret key(std::string(credentials::SecretBox::key_size, 'k'));
        auto box = credentials::SecretBox::from_key(key);
        ASSERT_TRUE(box) << box.error().message;
        box_ = std::make_unique<credentials::SecretBox>(std::move(*box));
        mfa_ = std::make_unique<credentials::Mfa>(*store_, *box_, *audit_, clock_,
                                                  credentials::TotpParams{});
        engine_ = std::make_unique<credentials::AuthEngine>(*store_, *directory_, hasher_, *mfa_,
                                                            *audit_, clock_);
        ASSERT_NO_FATAL_FAILURE(add_user("alice", alice_password));
        cfg_.issuer = std::string(issuer);
        cfg_.refresh_grace = 0s;
        access_keys_ =
            std::make_unique<credentials::AccessKeys>(*store_, *directory_, *box_, *audit_, clock_);
        ASSERT_NO_FATAL_FAILURE(restart_provider());

        proto::OidcClientInfo web;
        web.id = "webapp";
        web.name = "Web App";
        web.redirect_uris = {webapp_cb, "https://app.example/other"};
        web.post_logout_redirect_uris = {webapp_bye};
        ASSERT_NO_FATAL_FAILURE(add_client(web, webapp_secret_));
        ASSERT_FALSE(webapp_secret_.empty());

        proto::OidcClientInfo native;
        native.id = "native";
        native.is_public = true;
        native.redirect_uris = {native_cb};
        std::string none;
        ASSERT_NO_FATAL_FAILURE(add_client(native, none));
        EXPECT_TRUE(none.empty());
    }

    /// A provider of its own on the same directory: latchkeyd restarted, or another node.
    void restart_provider()
    {
        provider_.reset();
        provider_ = std::make_unique<Provider>(cfg_, *store_, *directory_, *engine_, *access_keys_,
                                               *box_, *audit_, clock_);
        const auto started = provider_->start();
        ASSERT_TRUE(started) << started.error().message;
    }

    void add_user(const std::string& name, std::string_view password)
    {
        ASSERT_TRUE(directory_->create_user({{name, std::string("web")}, std::nullopt, true},
                                            admin_));
        proto::UserSetPassword req;
        req.ref = {name, std::string("web")};
        req.password = Secret(password);
        const auto r = passwords_->reset(req, admin_);
        ASSERT_TRUE(r) << r.error().message;
    }

    /// Registers a client through the admin handle; `secret` gets its secret ("" if public).
    void add_client(const proto::OidcClientInfo& info, std::string& secret)
    {
        proto::Request req{proto::OidcClientAdd{info}};
        auto resp = provider_->handle(req, directory::Actor{"uid:0"});
        if (const auto* f = std::get_if<proto::Failure>(&resp))
            FAIL() << "client " << info.id << ": " << f->message;
        auto* reply = std::get_if<proto::OidcClientReply>(&resp);
        ASSERT_NE(reply, nullptr);
        EXPECT_EQ(reply->client.id, info.id);
        EXPECT_EQ(reply->secret.has_value(), !info.is_public);
        secret = reply->secret ? std::string(reply->secret->view()) : std::string();
    }

    void add_client_with_alg(const std::string& id, const std::string& alg, std::string& secret)
    {
        proto::OidcClientInfo c;
        c.id = id;
        c.redirect_uris = {"https://" + id + ".example/cb"};
        c.id_token_alg = alg;
        add_client(c, secret);
    }

    /// Enrols a TOTP device for `name` (both codes, as latchkeyctl would) and moves the clock
    /// to a fresh time step, so that the next code is not a replay.
    void enrol_totp(const std::string& name, Secret& secret)
    {
        auto who = directory_->resolve({name, std::string("web")});
        ASSERT_TRUE(who) << who.error().message;
        auto pending = mfa_->start(*who);
        ASSERT_TRUE(pending) << pending.error().message;
        secret = pending->secret.clone();
        const auto first = mfa_->accept_first(*pending, Secret(totp_now(secret)), "uid:0");
        ASSERT_TRUE(first) << first.error().message;
        clock_.advance(30s);
        auto done = mfa_->accept_second(*pending, Secret(totp_now(secret)), "uid:0");
        ASSERT_TRUE(done) << done.error().message;
        clock_.advance(60s);
    }

    std::string totp_now(const Secret& secret) const
    {
        return credentials::totp_code(secret, clock_.now(), credentials::TotpParams{});
    }

    std::string user_id(const std::string& name)
    {
        auto who = directory_->resolve({name, std::string("web")});
        EXPECT_TRUE(who);
        return who ? who->user.id : std::string();
    }

    // ---- requests ----

    HttpResponse get(const std::string& target, const std::string& session = {})
    {
        HttpRequest r{http::verb::get, target, 11};
        r.set(http::field::host, "localhost:8080");
        if (!session.empty())
            r.set(http::field::cookie, "theme=x; lk_session=" + session);
        return provider_->handle(std::move(r), peer_);
    }

    HttpResponse post(const std::string& target, const std::string& body,
                      const std::string& session = {},
                      const std::optional<std::string>& authorization = std::nullopt)
    {
        HttpRequest r{http::verb::post, target, 11};
        r.set(http::field::host, "localhost:8080");
        r.set(http::field::content_type, "application/x-www-form-urlencoded");
        if (!session.empty())
            r.set(http::field::cookie, "lk_session=" + session);
        if (authorization)
            r.set(http::field::authorization, *authorization);
        r.body() = body;
        r.prepare_payload();
        return provider_->handle(std::move(r), peer_);
    }

    static std::string basic(const std::string& id, const std::string& secret)
    {
        return "Basic " + core::base64_encode(pct(id) + ":" + pct(secret), false, true);
    }

    HttpResponse bearer_get(const std::string& target, const std::string& token)
    {
        HttpRequest r{http::verb::get, target, 11};
        r.set(http::field::authorization, "Bearer " + token);
        return provider_->handle(std::move(r), peer_);
    }

    /// The parameters of an authorization request of the confidential client.
    Params webapp_request(const std::string& scope = "openid profile offline_access") const
    {
        return {{"response_type", "code"}, {"client_id", "webapp"}, {"redirect_uri", webapp_cb},
                {"scope", scope},          {"state", "st-1"},       {"nonce", "n-1"}};
    }

    /// The parameters of an authorization request of the public client, with PKCE.
    Params native_request() const
    {
        return {{"response_type", "code"},
                {"client_id", "native"},
                {"redirect_uri", native_cb},
                {"scope", "openid offline_access"},
                {"state", "st-n"},
                {"code_challenge", sha256_base64url(verifier)},
                {"code_challenge_method", "S256"}};
    }

    HttpResponse authorize(const Params& p, const std::string& session = {})
    {
        return get("/authorize?" + encode(p), session);
    }

    /// The form state of a logon page.
    struct Form {
        std::string tx;
        std::string csrf;
    };

    Form form_of(const HttpResponse& page)
    {
        Form f{hidden(page.body(), "tx"), hidden(page.body(), "csrf")};
        EXPECT_FALSE(f.tx.empty()) << page.body();
        EXPECT_FALSE(f.csrf.empty()) << page.body();
        return f;
    }

    /// GETs the logon page a 303 from /authorize points to and returns its form.
    Form open_login(const HttpResponse& to_login)
    {
        EXPECT_EQ(to_login.result(), http::status::see_other) << to_login.body();
        const std::string where = header(to_login, http::field::location);
        EXPECT_TRUE(starts_with(where, "/login?tx=")) << where;
        const auto page = get(where);
        EXPECT_EQ(page.result(), http::status::ok);
        return form_of(page);
    }

    HttpResponse post_login(const Form& f, const std::string& name, const std::string& value)
    {
        return post("/login", encode({{"tx", f.tx}, {"csrf", f.csrf}, {name, value}}));
    }

    /// Signs in on the pages from the logon page of `to_login` (answering the verification
    /// code with `totp` when asked) and follows /authorize/resume. Returns the final response
    /// (302 back to the client); the session cookie goes to session_.
    HttpResponse sign_in(const HttpResponse& to_login, std::string_view user,
                         std::string_view password, const Secret* totp = nullptr)
    {
        const Form f = open_login(to_login);
        return sign_in_with(f, user, password, totp);
    }

    HttpResponse sign_in_with(const Form& f, std::string_view user, std::string_view password,
                              const Secret* totp = nullptr)
    {
        code_asked_ = false;
        auto step = post_login(f, "username", std::string(user));
        EXPECT_EQ(step.result(), http::status::ok) << step.body();
        EXPECT_TRUE(contains(step.body(), "name=\"answer\"")) << step.body();
        EXPECT_TRUE(contains(step.body(), "current-password")) << step.body();
        step = post_login(f, "answer", std::string(password));
        if (step.result() == http::status::ok && contains(step.body(), "one-time-code")) {
            code_asked_ = true;
            if (totp == nullptr) {
                ADD_FAILURE() << "a verification code was asked";
                return step;
            }
            step = post_login(f, "answer", totp_now(*totp));
        }
        EXPECT_EQ(step.result(), http::status::see_other) << step.body();
        const std::string resume = header(step, http::field::location);
        EXPECT_EQ(resume, "/authorize/resume?tx=" + f.tx);
        const std::string c = header(step, http::field::set_cookie);
        EXPECT_TRUE(contains(c, "HttpOnly")) << c;
        EXPECT_TRUE(contains(c, "Path=/")) << c;
        session_ = session_cookie_of(step);
        EXPECT_FALSE(session_.empty()) << c;
        return get(resume, session_);
    }

    /// The code of a 302 back to `redirect_uri`, after checking state and iss.
    std::string code_of(const HttpResponse& back, const std::string& redirect_uri,
                        const std::string& state)
    {
        EXPECT_EQ(back.result(), http::status::found) << back.body();
        const std::string where = header(back, http::field::location);
        EXPECT_TRUE(starts_with(where, redirect_uri + "?")) << where;
        const Params q = query_of(where);
        EXPECT_EQ(get_or(q, "state"), state) << where;
        EXPECT_EQ(get_or(q, "iss"), std::string(issuer)) << where;
        EXPECT_EQ(q.count("error"), 0U) << where;
        return get_or(q, "code", "");
    }

    /// The whole browser flow of the confidential client with alice's password.
    std::string webapp_code(const Params& p)
    {
        const auto back = sign_in(authorize(p), alice, alice_password);
        return code_of(back, get_or(p, "redirect_uri"), get_or(p, "state"));
    }

    std::string webapp_code() { return webapp_code(webapp_request()); }

    HttpResponse exchange(const std::string& code, const std::string& redirect_uri = webapp_cb,
                          const std::string& client = "webapp",
                          std::optional<std::string> secret = std::nullopt, Params extra = {})
    {
        extra["grant_type"] = "authorization_code";
        extra["code"] = code;
        extra["redirect_uri"] = redirect_uri;
        return post("/token", encode(extra), {},
                    basic(client, secret ? *secret : webapp_secret_));
    }

    HttpResponse refresh_with(const std::string& token)
    {
        return post("/token", encode({{"grant_type", "refresh_token"}, {"refresh_token", token}}),
                    {}, basic("webapp", webapp_secret_));
    }

    json::object introspect(const std::string& token)
    {
        const auto r =
            post("/introspect", encode({{"token", token}}), {}, basic("webapp", webapp_secret_));
        EXPECT_EQ(r.result(), http::status::ok) << r.body();
        return json_of(r);
    }

    std::vector<PublicKey> published_keys()
    {
        const auto r = get("/jwks");
        EXPECT_EQ(r.result(), http::status::ok);
        std::vector<PublicKey> keys;
        const auto doc = json_of(r);
        const auto* arr = doc.if_contains("keys");
        if (arr == nullptr || !arr->is_array()) {
            ADD_FAILURE() << "no keys in " << r.body();
            return keys;
        }
        for (const auto& k : arr->as_array()) {
            auto key = PublicKey::from_jwk(k.as_object());
            EXPECT_TRUE(key) << key.error().message;
            if (key)
                keys.push_back(std::move(*key));
        }
        return keys;
    }

    std::vector<std::string> published_kids()
    {
        std::vector<std::string> kids;
        for (const auto& k : published_keys())
            kids.push_back(k.kid());
        return kids;
    }

    /// The ID token's payload after verifying it against the published keys.
    json::object verified(const std::string& id_token)
    {
        const auto claims = jws_verify(id_token, published_keys());
        EXPECT_TRUE(claims) << claims.error().message;
        return claims ? *claims : json::object{};
    }

    std::unique_ptr<credentials::SecretBox> box_;
    std::unique_ptr<credentials::Mfa> mfa_;
    std::unique_ptr<credentials::AuthEngine> engine_;
    std::unique_ptr<credentials::AccessKeys> access_keys_;
    std::unique_ptr<Provider> provider_;
    const HttpPeer peer_{"127.0.0.1", 1234, false};
    std::string webapp_secret_;
    ProviderConfig cfg_;
    std::string session_;     ///< the lk_session cookie of the last sign_in
    bool code_asked_ = false; ///< whether the last sign_in was asked a verification code
};

// ---- discovery and keys -------------------------------------------------------------------

TEST_F(ProviderTest, DiscoveryNamesTheEndpointsAndS256Only)
{
    const auto r = get("/.well-known/openid-configuration");
    ASSERT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(header(r, http::field::cache_control), "no-store");
    const auto d = json_of(r);
    const std::string i(issuer);
    EXPECT_EQ(str(d, "issuer"), i);
    EXPECT_EQ(str(d, "authorization_endpoint"), i + "/authorize");
    EXPECT_EQ(str(d, "token_endpoint"), i + "/token");
    EXPECT_EQ(str(d, "userinfo_endpoint"), i + "/userinfo");
    EXPECT_EQ(str(d, "jwks_uri"), i + "/jwks");
    EXPECT_EQ(str(d, "end_session_endpoint"), i + "/logout");
    EXPECT_EQ(str(d, "revocation_endpoint"), i + "/revoke");
    EXPECT_EQ(str(d, "introspection_endpoint"), i + "/introspect");
    EXPECT_EQ(d.at("code_challenge_methods_supported"), (json::value(json::array{"S256"})));
    EXPECT_EQ(d.at("response_types_supported"), (json::value(json::array{"code"})));
    EXPECT_EQ(d.at("authorization_response_iss_parameter_supported"), json::value(true));
    const auto& algs = d.at("id_token_signing_alg_values_supported").as_array();
    for (const auto* a : {"RS256", "ES256", "EdDSA"})
        EXPECT_NE(std::find(algs.begin(), algs.end(), json::value(a)), algs.end()) << a;
    EXPECT_EQ(std::find(algs.begin(), algs.end(), json::value("none")), algs.end());
}

TEST_F(ProviderTest, JwksPublishesTheKeyThatSignsIdTokens)
{
    const auto r = get("/jwks");
    ASSERT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(header(r, http::field::content_type), "application/jwk-set+json");
    const auto doc = json_of(r);
    for (const auto& k : doc.at("keys").as_array()) {
        EXPECT_EQ(k.as_object().if_contains("d"), nullptr) << "a private key is published";
        EXPECT_EQ(str(k.as_object(), "use"), "sig");
    }
    const std::string code = webapp_code();
    const auto t = exchange(code);
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string id_token = str(json_of(t), "id_token");
    const auto head = jwt_part(id_token, 0);
    const auto kids = published_kids();
    EXPECT_NE(std::find(kids.begin(), kids.end(), str(head, "kid")), kids.end());
    EXPECT_EQ(str(head, "alg"), "RS256");
    EXPECT_TRUE(jws_verify(id_token, published_keys()));
}

// ---- the device authorization grant (RFC 8628) --------------------------------------------

class DeviceGrantTest : public ProviderTest {
protected:
    /// POST /device_authorization for the public client.
    HttpResponse start(const std::string& scope = "openid profile offline_access",
                       const std::string& client = "native")
    {
        return post("/device_authorization", encode({{"client_id", client}, {"scope", scope}}));
    }

    HttpResponse poll(const std::string& device_code, const std::string& client = "native")
    {
        return post("/token", encode({{"grant_type", std::string(device_code_grant)},
                                      {"device_code", device_code},
                                      {"client_id", client}}));
    }

    /// Alice signs in on the pages; her browser session's id.
    std::string alice_session()
    {
        sign_in(authorize(webapp_request()), alice, alice_password);
        const auto open = store_->open_sessions(user_id("alice"), clock_.now());
        EXPECT_TRUE(open && !open->empty());
        return open && !open->empty() ? open->back().id : std::string();
    }

    credentials::DeviceApprovals& approvals() { return engine_->device_approvals(); }
};

TEST_F(DeviceGrantTest, DiscoveryNamesTheDeviceEndpointAndGrant)
{
    const auto d = json_of(get("/.well-known/openid-configuration"));
    EXPECT_EQ(str(d, "device_authorization_endpoint"),
              std::string(issuer) + "/device_authorization");
    const auto& grants = d.at("grant_types_supported").as_array();
    EXPECT_NE(std::find(grants.begin(), grants.end(), json::value(device_code_grant)),
              grants.end());
}

TEST_F(DeviceGrantTest, APersonApprovesAndThePollingClientGetsTheirTokensOnce)
{
    const auto started = start();
    ASSERT_EQ(started.result(), http::status::ok) << started.body();
    EXPECT_EQ(header(started, http::field::cache_control), "no-store");
    const auto body = json_of(started);
    const std::string device_code = str(body, "device_code");
    const std::string user_code = str(body, "user_code");
    EXPECT_EQ(user_code.size(), 9U);
    EXPECT_EQ(str(body, "verification_uri"), std::string(issuer) + "/device");
    EXPECT_EQ(str(body, "verification_uri_complete"),
              std::string(issuer) + "/device?code=" + user_code);
    EXPECT_EQ(body.at("expires_in"), json::value(300));
    EXPECT_EQ(body.at("interval"), json::value(5));

    auto r = poll(device_code);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_EQ(str(json_of(r), "error"), "authorization_pending");
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "slow_down");

    const std::string sid = alice_session();
    ASSERT_TRUE(approvals().decide(user_code, {user_id("alice"), sid, "pwd+otp"}, true,
                                   "alice's browser", clock_.now()));
    clock_.advance(11s);
    r = poll(device_code);
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
    const auto tokens = json_of(r);
    const auto claims = verified(str(tokens, "id_token"));
    EXPECT_EQ(str(claims, "sub"), user_id("alice"));
    EXPECT_EQ(str(claims, "aud"), "native");
    EXPECT_EQ(str(claims, "sid"), sid);
    EXPECT_EQ(claims.at("amr"), (json::value(json::array{"pwd", "otp", "mfa"})));
    EXPECT_NE(str(tokens, "refresh_token"), "<absent>");
    const auto info = bearer_get("/userinfo", str(tokens, "access_token"));
    EXPECT_EQ(info.result(), http::status::ok) << info.body();
    // Single use.
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "invalid_grant");
}

TEST_F(DeviceGrantTest, ADenialAnExpiryAndAnotherClientEachRefuse)
{
    auto body = json_of(start());
    const std::string sid = alice_session();
    ASSERT_TRUE(approvals().decide(str(body, "user_code"), {user_id("alice"), sid, "pwd"}, false,
                                   "b", clock_.now()));
    EXPECT_EQ(str(json_of(poll(str(body, "device_code"))), "error"), "access_denied");

    body = json_of(start());
    clock_.advance(301s);
    EXPECT_EQ(str(json_of(poll(str(body, "device_code"))), "error"), "expired_token");

    body = json_of(start("openid"));
    ASSERT_TRUE(approvals().decide(str(body, "user_code"), {user_id("alice"), sid, "pwd"}, true,
                                   "b", clock_.now()));
    const auto other = post("/token",
                            encode({{"grant_type", std::string(device_code_grant)},
                                    {"device_code", str(body, "device_code")}}),
                            {}, basic("webapp", webapp_secret_));
    EXPECT_EQ(str(json_of(other), "error"), "invalid_grant");
    EXPECT_EQ(str(json_of(poll("not-a-code")), "error"), "invalid_grant");
}

TEST_F(DeviceGrantTest, TheClientAuthenticatesAndAsksOnlyForKnownScopes)
{
    EXPECT_EQ(str(json_of(start("openid admin")), "error"), "invalid_scope");
    const auto wrong =
        post("/device_authorization", encode({{"scope", "openid"}}), {}, basic("webapp", "nope"));
    EXPECT_EQ(wrong.result(), http::status::unauthorized);
    const auto right = post("/device_authorization", encode({{"scope", "openid"}}), {},
                            basic("webapp", webapp_secret_));
    EXPECT_EQ(right.result(), http::status::ok) << right.body();
    EXPECT_EQ(get("/device_authorization").result(), http::status::method_not_allowed);
}

TEST_F(DeviceGrantTest, TheDevicePageSendsAStrangerToSignInAndBackWithTheCode)
{
    const auto r = get("/device?code=wdjb-mjht");
    ASSERT_EQ(r.result(), http::status::see_other);
    EXPECT_EQ(header(r, http::field::location), "/login?return=device&code=WDJBMJHT");
    // Something that is no code is not carried along.
    EXPECT_EQ(header(get("/device?code=%3Cscript%3E"), http::field::location),
              "/login?return=device");
}

TEST_F(DeviceGrantTest, OnTheDevicePageAPersonSeesTheRequestAndApprovesIt)
{
    const auto body = json_of(start("openid profile"));
    alice_session();
    const std::string code = str(body, "user_code");
    auto page = get("/device", session_);
    ASSERT_EQ(page.result(), http::status::ok);
    EXPECT_TRUE(contains(page.body(), "Enter the code shown on your device")) << page.body();
    page = get("/device?code=" + code, session_);
    ASSERT_EQ(page.result(), http::status::ok) << page.body();
    EXPECT_TRUE(contains(page.body(), "Allow native to sign in as you?")) << page.body();
    EXPECT_TRUE(contains(page.body(), "openid profile")) << page.body();
    const std::string csrf = hidden(page.body(), "csrf");
    ASSERT_FALSE(csrf.empty());
    // Another site's form has no token.
    EXPECT_EQ(post("/device", encode({{"code", code}, {"decision", "approve"}}), session_).result(),
              http::status::forbidden);
    const auto done = post(
        "/device", encode({{"csrf", csrf}, {"code", code}, {"decision", "approve"}}), session_);
    ASSERT_EQ(done.result(), http::status::ok) << done.body();
    EXPECT_TRUE(contains(done.body(), "Approved")) << done.body();
    clock_.advance(6s);
    const auto tokens = poll(str(body, "device_code"));
    ASSERT_EQ(tokens.result(), http::status::ok) << tokens.body();
    EXPECT_EQ(str(verified(str(json_of(tokens), "id_token")), "sub"), user_id("alice"));
    // A wrong or spent code shows the field again, with why.
    page = get("/device?code=" + code, session_);
    EXPECT_TRUE(contains(page.body(), "not waiting for approval")) << page.body();
}

TEST_F(DeviceGrantTest, SigningInFromTheDevicePageComesBackToTheCode)
{
    const auto page = get("/login?return=device&code=WDJBMJHT");
    ASSERT_EQ(page.result(), http::status::ok);
    const Form f = form_of(page);
    post_login(f, "username", std::string(alice));
    const auto done = post_login(f, "answer", std::string(alice_password));
    ASSERT_EQ(done.result(), http::status::see_other) << done.body();
    EXPECT_EQ(header(done, http::field::location), "/device?code=WDJBMJHT");
}

TEST_F(DeviceGrantTest, AHostLogonCodeShownToAnotherUserIsSpent)
{
    credentials::DeviceRequest r;
    r.kind = credentials::DeviceRequest::Kind::host_logon;
    r.source = "192.0.2.9";
    r.user_id = "someone-else";
    r.user_name = "carol@web.example.internal";
    r.host = "host1";
    r.service = "sshd";
    const auto issued = approvals().issue(r, clock_.now());
    ASSERT_TRUE(issued);
    alice_session();
    const auto page = get("/device?code=" + issued->user_code, session_);
    EXPECT_EQ(page.result(), http::status::forbidden);
    EXPECT_TRUE(contains(page.body(), "another user")) << page.body();
    EXPECT_EQ(approvals().poll(issued->device_code, clock_.now()).state,
              credentials::DevicePoll::State::denied);
}

// ---- the code flow ------------------------------------------------------------------------

TEST_F(ProviderTest, CodeFlowIssuesAnIdTokenWithTheExpectedClaims)
{
    const auto login_time = core::to_unix(clock_.now());
    const std::string code = webapp_code();
    ASSERT_FALSE(code.empty());
    clock_.advance(5s);
    const auto t = exchange(code);
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    EXPECT_EQ(header(t, http::field::cache_control), "no-store");
    const auto body = json_of(t);
    EXPECT_EQ(str(body, "token_type"), "Bearer");
    const std::string access = str(body, "access_token");
    const auto claims = verified(str(body, "id_token"));
    EXPECT_EQ(str(claims, "iss"), std::string(issuer));
    EXPECT_EQ(str(claims, "sub"), user_id("alice"));
    EXPECT_EQ(str(claims, "aud"), "webapp");
    EXPECT_EQ(str(claims, "nonce"), "n-1");
    EXPECT_EQ(claims.at("amr"), (json::value(json::array{"pwd"})));
    EXPECT_EQ(claims.at("auth_time"), json::value(login_time));
    EXPECT_EQ(claims.at("iat"), json::value(login_time + 5));
    EXPECT_GT(claims.at("exp").as_int64(), login_time + 5);
    EXPECT_FALSE(str(claims, "sid").empty());
    EXPECT_NE(str(claims, "sid"), "<absent>");
    EXPECT_EQ(str(claims, "at_hash"), at_hash(access, JwsAlg::RS256));

    // The access token works at /userinfo, with the profile claims.
    const auto info = bearer_get("/userinfo", access);
    ASSERT_EQ(info.result(), http::status::ok) << info.body();
    EXPECT_EQ(str(json_of(info), "sub"), user_id("alice"));
    EXPECT_EQ(str(json_of(info), "preferred_username"), std::string(alice));
}

TEST_F(ProviderTest, ASignInGoesOnAfterARestartOrOnAnotherNodeAndIsKeptSealed)
{
    Secret totp;
    ASSERT_NO_FATAL_FAILURE(enrol_totp("alice", totp));
    const Params p = webapp_request();
    const Form f = open_login(authorize(p));
    auto step = post_login(f, "username", std::string(alice));
    ASSERT_EQ(step.result(), http::status::ok) << step.body();

    // In the store between two requests: sealed, so neither the name typed nor the form's
    // token can be read there.
    const std::string key = sha256_base64url(f.tx);
    auto kept = store_->take_pending(directory::PendingKind::sign_in, key, clock_.now());
    ASSERT_TRUE(kept && *kept);
    EXPECT_EQ((*kept)->data.find("alice"), std::string::npos);
    EXPECT_EQ((*kept)->data.find(f.csrf), std::string::npos);
    ASSERT_TRUE(store_->put_pending(**kept));

    ASSERT_NO_FATAL_FAILURE(restart_provider());
    step = post_login(f, "answer", std::string(alice_password));
    ASSERT_EQ(step.result(), http::status::ok) << step.body();
    EXPECT_TRUE(contains(step.body(), "one-time-code")) << step.body();
    ASSERT_NO_FATAL_FAILURE(restart_provider());
    step = post_login(f, "answer", totp_now(totp));
    ASSERT_EQ(step.result(), http::status::see_other) << step.body();
    session_ = session_cookie_of(step);
    ASSERT_NO_FATAL_FAILURE(restart_provider());
    const auto back = get(header(step, http::field::location), session_);
    const std::string code = code_of(back, webapp_cb, get_or(p, "state"));
    const auto t = exchange(code);
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    EXPECT_EQ(verified(str(json_of(t), "id_token")).at("amr"),
              (json::value(json::array{"pwd", "otp", "mfa"})));

    // Over: the same form finds nothing, on any node.
    EXPECT_EQ(post_login(f, "answer", "again").result(), http::status::bad_request);
}

TEST_F(ProviderTest, AFormWithAnotherTokenLeavesTheSignInToItsPage)
{
    const Form f = open_login(authorize(webapp_request()));
    Form forged = f;
    forged.csrf = "forged";
    EXPECT_EQ(post_login(forged, "username", std::string(alice)).result(), http::status::forbidden);
    const auto back = sign_in_with(f, alice, alice_password);
    EXPECT_EQ(back.result(), http::status::found) << back.body();
}

TEST_F(ProviderTest, ATotpStepAddsOtpAndMfaToAmr)
{
    Secret totp;
    ASSERT_NO_FATAL_FAILURE(enrol_totp("alice", totp));
    const auto back = sign_in(authorize(webapp_request()), alice, alice_password, &totp);
    EXPECT_TRUE(code_asked_);
    const std::string code = code_of(back, webapp_cb, "st-1");
    const auto t = exchange(code);
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const auto claims = verified(str(json_of(t), "id_token"));
    EXPECT_EQ(claims.at("amr"), (json::value(json::array{"pwd", "otp", "mfa"})));
}

TEST_F(ProviderTest, AFailedCodeStepOfAnotherUserGivesNoMfaToTheNextLogon)
{
    // bob has a device; alice has none. On one logon page, bob's password is right and his
    // code wrong; then alice signs in with her password only. Her ID token must not claim a
    // second factor that was never checked for her.
    ASSERT_NO_FATAL_FAILURE(add_user("bob", bob_password));
    Secret totp;
    ASSERT_NO_FATAL_FAILURE(enrol_totp("bob", totp));
    const Form f = open_login(authorize(webapp_request()));
    ASSERT_EQ(post_login(f, "username", std::string(bob)).result(), http::status::ok);
    const auto asked = post_login(f, "answer", std::string(bob_password));
    ASSERT_TRUE(contains(asked.body(), "one-time-code")) << asked.body();
    const auto wrong = post_login(f, "answer", "000000" == totp_now(totp) ? "111111" : "000000");
    ASSERT_EQ(wrong.result(), http::status::unauthorized) << wrong.body();
    const auto back = sign_in_with(f, alice, alice_password);
    EXPECT_FALSE(code_asked_);
    const auto t = exchange(code_of(back, webapp_cb, "st-1"));
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const auto claims = verified(str(json_of(t), "id_token"));
    EXPECT_EQ(str(claims, "sub"), user_id("alice"));
    EXPECT_EQ(claims.at("amr"), (json::value(json::array{"pwd"})));
    EXPECT_EQ(str(claims, "acr"), "urn:latchkey:acr:pwd");
}

TEST_F(ProviderTest, StateWithAPlusComesBackExactly)
{
    // A base64 state is common; the client form-decodes the redirect's query.
    Params p = webapp_request();
    p["state"] = "ab+cd/ef==";
    const auto back = sign_in(authorize(p), alice, alice_password);
    const Params q = query_of(header(back, http::field::location));
    EXPECT_EQ(get_or(q, "state"), "ab+cd/ef==") << header(back, http::field::location);
}

// ---- client authentication ----------------------------------------------------------------

TEST_F(ProviderTest, ClientSecretPostWorks)
{
    const std::string code = webapp_code();
    const auto t = post("/token", encode({{"grant_type", "authorization_code"},
                                          {"code", code},
                                          {"redirect_uri", webapp_cb},
                                          {"client_id", "webapp"},
                                          {"client_secret", webapp_secret_}}));
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    EXPECT_EQ(str(verified(str(json_of(t), "id_token")), "aud"), "webapp");
}

TEST_F(ProviderTest, BothClientAuthenticationMethodsAtOnceAreRefused)
{
    const std::string code = webapp_code();
    const auto both = post("/token",
                           encode({{"grant_type", "authorization_code"},
                                   {"code", code},
                                   {"redirect_uri", webapp_cb},
                                   {"client_id", "webapp"},
                                   {"client_secret", webapp_secret_}}),
                           {}, basic("webapp", webapp_secret_));
    EXPECT_EQ(both.result(), http::status::bad_request) << both.body();
    EXPECT_EQ(str(json_of(both), "error"), "invalid_request");
    // The refused request did not use the code up.
    EXPECT_EQ(exchange(code).result(), http::status::ok);
}

TEST_F(ProviderTest, AWrongSecretIsInvalidClient)
{
    const std::string code = webapp_code();
    const auto wrong_basic = exchange(code, webapp_cb, "webapp", std::string("not-the-secret"));
    EXPECT_EQ(wrong_basic.result(), http::status::unauthorized) << wrong_basic.body();
    EXPECT_EQ(str(json_of(wrong_basic), "error"), "invalid_client");
    EXPECT_TRUE(has_header(wrong_basic, http::field::www_authenticate));
    const auto wrong_post = post("/token", encode({{"grant_type", "authorization_code"},
                                                   {"code", code},
                                                   {"redirect_uri", webapp_cb},
                                                   {"client_id", "webapp"},
                                                   {"client_secret", webapp_secret_ + "x"}}));
    EXPECT_EQ(wrong_post.result(), http::status::unauthorized) << wrong_post.body();
    EXPECT_EQ(str(json_of(wrong_post), "error"), "invalid_client");
    // No secret at all for a confidential client.
    const auto none = post("/token", encode({{"grant_type", "authorization_code"},
                                             {"code", code},
                                             {"redirect_uri", webapp_cb},
                                             {"client_id", "webapp"}}));
    EXPECT_EQ(none.result(), http::status::unauthorized) << none.body();
    EXPECT_EQ(str(json_of(none), "error"), "invalid_client");
    // An unknown client.
    const auto unknown = exchange(code, webapp_cb, "nobody", webapp_secret_);
    EXPECT_EQ(unknown.result(), http::status::unauthorized);
    EXPECT_EQ(str(json_of(unknown), "error"), "invalid_client");
    // The code still works for its client.
    EXPECT_EQ(exchange(code).result(), http::status::ok);
}

// ---- public clients and PKCE --------------------------------------------------------------

TEST_F(ProviderTest, APublicClientUsesPkceWithoutSecret)
{
    const auto back = sign_in(authorize(native_request()), alice, alice_password);
    const std::string code = code_of(back, native_cb, "st-n");
    const auto t = post("/token", encode({{"grant_type", "authorization_code"},
                                          {"code", code},
                                          {"redirect_uri", native_cb},
                                          {"client_id", "native"},
                                          {"code_verifier", verifier}}));
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    EXPECT_EQ(str(verified(str(json_of(t), "id_token")), "aud"), "native");
    EXPECT_NE(str(json_of(t), "refresh_token"), "<absent>");
}

TEST_F(ProviderTest, APublicClientWithoutCodeChallengeGetsInvalidRequest)
{
    Params p = native_request();
    p.erase("code_challenge");
    p.erase("code_challenge_method");
    const auto r = authorize(p);
    ASSERT_EQ(r.result(), http::status::found) << r.body();
    const std::string where = header(r, http::field::location);
    EXPECT_TRUE(starts_with(where, native_cb + "?")) << where;
    const Params q = query_of(where);
    EXPECT_EQ(get_or(q, "error"), "invalid_request");
    EXPECT_EQ(get_or(q, "state"), "st-n");
    EXPECT_EQ(get_or(q, "iss"), std::string(issuer));
    EXPECT_EQ(q.count("code"), 0U);
}

TEST_F(ProviderTest, PlainCodeChallengeMethodIsRefused)
{
    Params p = native_request();
    p["code_challenge"] = verifier;
    p["code_challenge_method"] = "plain";
    const auto r = authorize(p);
    ASSERT_EQ(r.result(), http::status::found) << r.body();
    const Params q = query_of(header(r, http::field::location));
    EXPECT_EQ(get_or(q, "error"), "invalid_request");
    EXPECT_EQ(q.count("code"), 0U);
    // Also for a confidential client.
    Params w = webapp_request();
    w["code_challenge"] = sha256_base64url(verifier);
    w["code_challenge_method"] = "plain";
    EXPECT_EQ(get_or(query_of(header(authorize(w), http::field::location)), "error"),
              "invalid_request");
}

TEST_F(ProviderTest, APublicClientMayNotSendASecret)
{
    const auto back = sign_in(authorize(native_request()), alice, alice_password);
    const std::string code = code_of(back, native_cb, "st-n");
    const auto t = post("/token", encode({{"grant_type", "authorization_code"},
                                          {"code", code},
                                          {"redirect_uri", native_cb},
                                          {"client_id", "native"},
                                          {"client_secret", "guess"},
                                          {"code_verifier", verifier}}));
    EXPECT_EQ(t.result(), http::status::unauthorized) << t.body();
    EXPECT_EQ(str(json_of(t), "error"), "invalid_client");
}

TEST_F(ProviderTest, AWrongOrMissingPkceVerifierIsInvalidGrant)
{
    const auto back = sign_in(authorize(native_request()), alice, alice_password);
    const std::string code = code_of(back, native_cb, "st-n");
    Params form{{"grant_type", "authorization_code"},
                {"code", code},
                {"redirect_uri", native_cb},
                {"client_id", "native"}};
    const auto missing = post("/token", encode(form));
    EXPECT_EQ(missing.result(), http::status::bad_request) << missing.body();
    EXPECT_EQ(str(json_of(missing), "error"), "invalid_grant");
    form["code_verifier"] = "x" + verifier.substr(1);
    const auto wrong = post("/token", encode(form));
    EXPECT_EQ(wrong.result(), http::status::bad_request) << wrong.body();
    EXPECT_EQ(str(json_of(wrong), "error"), "invalid_grant");

    // A confidential client that used PKCE must send the verifier too.
    Params w = webapp_request();
    w["code_challenge"] = sha256_base64url(verifier);
    w["code_challenge_method"] = "S256";
    const auto again = authorize(w, session_);
    const std::string wcode = code_of(again, webapp_cb, "st-1");
    const auto bad = exchange(wcode, webapp_cb, "webapp", std::nullopt,
                              {{"code_verifier", verifier + "x"}});
    EXPECT_EQ(bad.result(), http::status::bad_request);
    EXPECT_EQ(str(json_of(bad), "error"), "invalid_grant");
}

// ---- requests that must not be sent back to the client -------------------------------------

TEST_F(ProviderTest, AnUnregisteredRedirectUriGetsAPageAndNoRedirect)
{
    Params p = webapp_request();
    p["redirect_uri"] = "https://evil.example/cb";
    const auto r = authorize(p);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_FALSE(has_header(r, http::field::location));
    EXPECT_TRUE(starts_with(header(r, http::field::content_type), "text/html"));
    EXPECT_TRUE(contains(r.body(), "redirect URI")) << r.body();
    EXPECT_FALSE(contains(r.body(), "evil.example")) << r.body();

    // A prefix of a registered URI is no match either.
    p["redirect_uri"] = webapp_cb + "/more";
    const auto prefix = authorize(p);
    EXPECT_EQ(prefix.result(), http::status::bad_request);
    EXPECT_FALSE(has_header(prefix, http::field::location));

    // Nor is an unknown client sent anywhere.
    p = webapp_request();
    p["client_id"] = "nobody";
    const auto unknown = authorize(p);
    EXPECT_EQ(unknown.result(), http::status::bad_request);
    EXPECT_FALSE(has_header(unknown, http::field::location));
}

// ---- codes and tokens ---------------------------------------------------------------------

TEST_F(ProviderTest, ACodeReplayRevokesWhatTheFirstExchangeIssued)
{
    const std::string code = webapp_code();
    const auto first = exchange(code);
    ASSERT_EQ(first.result(), http::status::ok) << first.body();
    const std::string access = str(json_of(first), "access_token");
    const std::string refresh = str(json_of(first), "refresh_token");
    ASSERT_NE(refresh, "<absent>");
    EXPECT_EQ(bearer_get("/userinfo", access).result(), http::status::ok);
    EXPECT_EQ(introspect(access).at("active"), json::value(true));

    const auto replay = exchange(code);
    EXPECT_EQ(replay.result(), http::status::bad_request) << replay.body();
    EXPECT_EQ(str(json_of(replay), "error"), "invalid_grant");

    const auto info = bearer_get("/userinfo", access);
    EXPECT_EQ(info.result(), http::status::unauthorized) << info.body();
    EXPECT_TRUE(contains(header(info, http::field::www_authenticate), "invalid_token"));
    EXPECT_EQ(introspect(access).at("active"), json::value(false));
    const auto r = refresh_with(refresh);
    EXPECT_EQ(r.result(), http::status::bad_request) << r.body();
    EXPECT_EQ(str(json_of(r), "error"), "invalid_grant");
}

TEST_F(ProviderTest, ACodeExpires)
{
    const std::string code = webapp_code();
    clock_.advance(61s);
    const auto t = exchange(code);
    EXPECT_EQ(t.result(), http::status::bad_request) << t.body();
    EXPECT_EQ(str(json_of(t), "error"), "invalid_grant");
}

TEST_F(ProviderTest, ACodeNeedsItsRedirectUri)
{
    const std::string code = webapp_code();
    const auto t = exchange(code, "https://app.example/other");
    EXPECT_EQ(t.result(), http::status::bad_request) << t.body();
    EXPECT_EQ(str(json_of(t), "error"), "invalid_grant");
}

TEST_F(ProviderTest, RefreshRotatesAndReuseKillsTheFamily)
{
    const auto first = exchange(webapp_code());
    ASSERT_EQ(first.result(), http::status::ok) << first.body();
    const std::string r1 = str(json_of(first), "refresh_token");
    ASSERT_NE(r1, "<absent>");
    EXPECT_EQ(str(introspect(r1), "token_type"), "refresh_token");
    EXPECT_EQ(introspect(r1).at("active"), json::value(true));

    const auto second = refresh_with(r1);
    ASSERT_EQ(second.result(), http::status::ok) << second.body();
    const std::string r2 = str(json_of(second), "refresh_token");
    ASSERT_NE(r2, "<absent>");
    EXPECT_NE(r2, r1);
    const auto claims = verified(str(json_of(second), "id_token"));
    EXPECT_EQ(str(claims, "sub"), user_id("alice"));
    EXPECT_EQ(introspect(r1).at("active"), json::value(false));

    // The newest token rotates in turn.
    clock_.advance(1s);
    const auto third = refresh_with(r2);
    ASSERT_EQ(third.result(), http::status::ok) << third.body();
    const std::string r3 = str(json_of(third), "refresh_token");
    ASSERT_NE(r3, "<absent>");

    // A rotated token used again after the grace (0 s): the family dies.
    clock_.advance(1s);
    const auto reuse = refresh_with(r1);
    EXPECT_EQ(reuse.result(), http::status::bad_request) << reuse.body();
    EXPECT_EQ(str(json_of(reuse), "error"), "invalid_grant");
    const auto newest = refresh_with(r3);
    EXPECT_EQ(newest.result(), http::status::bad_request) << newest.body();
    EXPECT_EQ(str(json_of(newest), "error"), "invalid_grant");
    EXPECT_EQ(introspect(r3).at("active"), json::value(false));
}

TEST_F(ProviderTest, ReuseRevokesTheFamilysAccessTokensToo)
{
    // Issue 24, finding 4: they stayed active at /introspect and /userinfo until they expired.
    const auto first = exchange(webapp_code());
    ASSERT_EQ(first.result(), http::status::ok) << first.body();
    const std::string r1 = str(json_of(first), "refresh_token");
    const std::string a1 = str(json_of(first), "access_token");
    clock_.advance(1s);
    const auto second = refresh_with(r1);
    ASSERT_EQ(second.result(), http::status::ok) << second.body();
    const std::string a2 = str(json_of(second), "access_token");
    for (const auto& a : {a1, a2}) {
        EXPECT_EQ(introspect(a).at("active"), json::value(true));
        EXPECT_EQ(bearer_get("/userinfo", a).result(), http::status::ok);
    }
    // An access token of another family of the same user and client is not touched.
    const auto other = exchange(webapp_code());
    ASSERT_EQ(other.result(), http::status::ok) << other.body();
    const std::string unrelated = str(json_of(other), "access_token");

    clock_.advance(1s);
    ASSERT_EQ(refresh_with(r1).result(), http::status::bad_request); // the reuse
    for (const auto& a : {a1, a2}) {
        EXPECT_EQ(introspect(a).at("active"), json::value(false));
        EXPECT_EQ(bearer_get("/userinfo", a).result(), http::status::unauthorized);
    }
    EXPECT_EQ(introspect(unrelated).at("active"), json::value(true));
    EXPECT_EQ(bearer_get("/userinfo", unrelated).result(), http::status::ok);
}

TEST_F(ProviderTest, RevokingAnAccessTokenEndsItAtUserinfo)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string access = str(json_of(t), "access_token");
    EXPECT_EQ(bearer_get("/userinfo", access).result(), http::status::ok);
    const auto r =
        post("/revoke", encode({{"token", access}}), {}, basic("webapp", webapp_secret_));
    EXPECT_EQ(r.result(), http::status::ok) << r.body();
    EXPECT_EQ(bearer_get("/userinfo", access).result(), http::status::unauthorized);
    EXPECT_EQ(introspect(access).at("active"), json::value(false));
}

TEST_F(ProviderTest, AnAccessTokenExpires)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string access = str(json_of(t), "access_token");
    clock_.advance(599s);
    EXPECT_EQ(bearer_get("/userinfo", access).result(), http::status::ok);
    clock_.advance(2s);
    EXPECT_EQ(bearer_get("/userinfo", access).result(), http::status::unauthorized);
    // An ID token is no access token.
    const auto t2 = exchange(code_of(authorize(webapp_request(), session_), webapp_cb, "st-1"));
    ASSERT_EQ(t2.result(), http::status::ok) << t2.body();
    EXPECT_EQ(bearer_get("/userinfo", str(json_of(t2), "id_token")).result(),
              http::status::unauthorized);
}

TEST_F(ProviderTest, IntrospectionRefusesAPublicClient)
{
    // Discovery lists only secret-based methods for /introspect (no "none"); RFC 7662 §2.1
    // requires the caller to be authorized. A public client has no credentials at all.
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string access = str(json_of(t), "access_token");
    const auto r = post("/introspect", encode({{"token", access}, {"client_id", "native"}}));
    EXPECT_EQ(r.result(), http::status::unauthorized) << r.body();
    const auto body = json_of(r);
    EXPECT_TRUE(body.if_contains("active") == nullptr ||
                body.at("active") != json::value(true))
        << r.body();
}

// ---- single sign-on -----------------------------------------------------------------------

TEST_F(ProviderTest, PromptNoneWithoutASessionIsLoginRequired)
{
    Params p = webapp_request();
    p["prompt"] = "none";
    const auto r = authorize(p);
    ASSERT_EQ(r.result(), http::status::found) << r.body();
    const std::string where = header(r, http::field::location);
    EXPECT_TRUE(starts_with(where, webapp_cb + "?")) << where;
    const Params q = query_of(where);
    EXPECT_EQ(get_or(q, "error"), "login_required");
    EXPECT_EQ(get_or(q, "state"), "st-1");
    EXPECT_EQ(get_or(q, "iss"), std::string(issuer));
    EXPECT_EQ(q.count("code"), 0U);
    // An unknown cookie is no session either.
    EXPECT_EQ(get_or(query_of(header(authorize(p, "not-a-session"), http::field::location)),
                     "error"),
              "login_required");
}

TEST_F(ProviderTest, TheSessionCookieGivesACodeAtOnce)
{
    const auto first = exchange(webapp_code());
    ASSERT_EQ(first.result(), http::status::ok) << first.body();
    const auto first_claims = verified(str(json_of(first), "id_token"));
    clock_.advance(30s);
    Params p = webapp_request();
    p["state"] = "st-2";
    p["nonce"] = "n-2";
    const auto r = authorize(p, session_);
    const std::string code = code_of(r, webapp_cb, "st-2");
    ASSERT_FALSE(code.empty());
    const auto t = exchange(code);
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const auto claims = verified(str(json_of(t), "id_token"));
    EXPECT_EQ(str(claims, "sid"), str(first_claims, "sid"));
    EXPECT_EQ(claims.at("auth_time"), first_claims.at("auth_time"));
    EXPECT_EQ(str(claims, "nonce"), "n-2");
    // prompt=none with the session works too.
    p["prompt"] = "none";
    EXPECT_FALSE(code_of(authorize(p, session_), webapp_cb, "st-2").empty());
}

TEST_F(ProviderTest, MaxAgeZeroForcesTheLoginPageEvenInTheSecondOfTheLogon)
{
    ASSERT_FALSE(webapp_code().empty());
    Params p = webapp_request();
    p["max_age"] = "0";
    const auto r = authorize(p, session_);
    EXPECT_EQ(r.result(), http::status::see_other) << header(r, http::field::location);
}

TEST_F(ProviderTest, MaxAgeZeroForcesTheLoginPageAgain)
{
    ASSERT_FALSE(webapp_code().empty());
    clock_.advance(1s);
    Params p = webapp_request();
    p["max_age"] = "0";
    const auto r = authorize(p, session_);
    EXPECT_EQ(r.result(), http::status::see_other) << header(r, http::field::location);
    EXPECT_TRUE(starts_with(header(r, http::field::location), "/login?tx="));
    // A max_age the session still meets gives a code at once.
    p["max_age"] = "60";
    EXPECT_FALSE(code_of(authorize(p, session_), webapp_cb, "st-1").empty());
    // And signing in again through the forced page works, with a fresh auth_time.
    p["max_age"] = "0";
    const auto back = sign_in(authorize(p, session_), alice, alice_password);
    const auto t = exchange(code_of(back, webapp_cb, "st-1"));
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    EXPECT_EQ(verified(str(json_of(t), "id_token")).at("auth_time"),
              json::value(core::to_unix(clock_.now())));
}

TEST_F(ProviderTest, PromptLoginForcesTheLoginPage)
{
    ASSERT_FALSE(webapp_code().empty());
    Params p = webapp_request();
    p["prompt"] = "login";
    const auto r = authorize(p, session_);
    EXPECT_EQ(r.result(), http::status::see_other);
    EXPECT_TRUE(starts_with(header(r, http::field::location), "/login?tx="));
}

// ---- the logon pages ----------------------------------------------------------------------

TEST_F(ProviderTest, AWrongPasswordShowsTheEnginesMessageAndTheTxStillWorks)
{
    const Form f = open_login(authorize(webapp_request()));
    ASSERT_EQ(post_login(f, "username", std::string(alice)).result(), http::status::ok);
    const auto wrong = post_login(f, "answer", "not-her-password");
    EXPECT_EQ(wrong.result(), http::status::unauthorized);
    EXPECT_TRUE(contains(wrong.body(), bad_credentials)) << wrong.body();
    EXPECT_FALSE(has_header(wrong, http::field::set_cookie));
    EXPECT_TRUE(starts_with(header(wrong, http::field::content_type), "text/html"));
    // The page asks for the user name again, in the same transaction.
    EXPECT_EQ(hidden(wrong.body(), "tx"), f.tx);
    EXPECT_EQ(hidden(wrong.body(), "csrf"), f.csrf);
    EXPECT_TRUE(contains(wrong.body(), "name=\"username\"")) << wrong.body();

    const auto back = sign_in_with(f, alice, alice_password);
    EXPECT_FALSE(code_of(back, webapp_cb, "st-1").empty());
}

TEST_F(ProviderTest, AnUnknownUserGetsTheSameMessage)
{
    const Form f = open_login(authorize(webapp_request()));
    ASSERT_EQ(post_login(f, "username", "mallory@web.example.internal").result(),
              http::status::ok);
    const auto r = post_login(f, "answer", "whatever");
    EXPECT_EQ(r.result(), http::status::unauthorized);
    EXPECT_TRUE(contains(r.body(), bad_credentials)) << r.body();
}

TEST_F(ProviderTest, AWrongCsrfIsForbidden)
{
    const Form f = open_login(authorize(webapp_request()));
    const auto r = post("/login", encode({{"tx", f.tx},
                                          {"csrf", f.csrf + "x"},
                                          {"username", std::string(alice)}}));
    EXPECT_EQ(r.result(), http::status::forbidden) << r.body();
    EXPECT_FALSE(contains(r.body(), "name=\"answer\""));
    const auto none = post("/login", encode({{"tx", f.tx}, {"username", std::string(alice)}}));
    EXPECT_EQ(none.result(), http::status::forbidden) << none.body();
    // The transaction itself is untouched.
    const auto back = sign_in_with(f, alice, alice_password);
    EXPECT_FALSE(code_of(back, webapp_cb, "st-1").empty());
}

TEST_F(ProviderTest, TheDedicatedPortalFixesTheDomain)
{
    const auto page = get("/d/web.example.internal/login");
    ASSERT_EQ(page.result(), http::status::ok);
    EXPECT_TRUE(contains(page.body(), "@web.example.internal")) << page.body();
    const Form f = form_of(page);
    const auto prompt = post_login(f, "username", "alice");
    ASSERT_EQ(prompt.result(), http::status::ok) << prompt.body();
    EXPECT_TRUE(contains(prompt.body(), std::string(alice))) << prompt.body();
    const auto done = post_login(f, "answer", std::string(alice_password));
    ASSERT_EQ(done.result(), http::status::ok) << done.body();
    EXPECT_TRUE(contains(done.body(), "signed in as alice@web.example.internal")) << done.body();
    const std::string session = session_cookie_of(done);
    ASSERT_FALSE(session.empty());
    // That session is a single sign-on session for clients too.
    Params p = webapp_request();
    p["prompt"] = "none";
    EXPECT_FALSE(code_of(authorize(p, session), webapp_cb, "st-1").empty());
}

TEST_F(ProviderTest, TheDedicatedPortalRefusesADomainInTheName)
{
    const Form f = form_of(get("/d/web.example.internal/login"));
    const auto r = post_login(f, "username", std::string(alice));
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_FALSE(contains(r.body(), "name=\"answer\""));
}

TEST_F(ProviderTest, RootOfAResourceAccountIsRefused)
{
    const Form f = open_login(authorize(webapp_request()));
    const auto r = post_login(f, "username", "root@web.example.internal");
    EXPECT_NE(r.result(), http::status::ok);
    EXPECT_NE(r.result(), http::status::see_other);
    EXPECT_TRUE(contains(r.body(), "root logon is disabled on resource accounts")) << r.body();
    EXPECT_FALSE(contains(r.body(), "name=\"answer\""));
    EXPECT_FALSE(has_header(r, http::field::set_cookie));
}

// ---- logout -------------------------------------------------------------------------------

TEST_F(ProviderTest, LogoutRedirectsWithStateAndEndsTheSession)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string id_token = str(json_of(t), "id_token");
    const std::string refresh = str(json_of(t), "refresh_token");
    const auto r = get("/logout?" + encode({{"id_token_hint", id_token},
                                            {"post_logout_redirect_uri", webapp_bye},
                                            {"state", "out-1"}}),
                       session_);
    ASSERT_EQ(r.result(), http::status::found) << r.body();
    const std::string where = header(r, http::field::location);
    EXPECT_TRUE(starts_with(where, webapp_bye + "?")) << where;
    EXPECT_EQ(get_or(query_of(where), "state"), "out-1");
    EXPECT_TRUE(contains(header(r, http::field::set_cookie), "Max-Age=0"));

    Params p = webapp_request();
    p["prompt"] = "none";
    const auto after = authorize(p, session_);
    ASSERT_EQ(after.result(), http::status::found);
    EXPECT_EQ(get_or(query_of(header(after, http::field::location)), "error"), "login_required");
    // Without prompt=none, the login page again.
    EXPECT_EQ(authorize(webapp_request(), session_).result(), http::status::see_other);
    // The session's refresh tokens end with it.
    EXPECT_EQ(refresh_with(refresh).result(), http::status::bad_request);
}

TEST_F(ProviderTest, LogoutRefusesAnUnregisteredPostLogoutUri)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const auto r = get("/logout?" + encode({{"id_token_hint", str(json_of(t), "id_token")},
                                            {"post_logout_redirect_uri",
                                             "https://evil.example/bye"}}),
                       session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_FALSE(has_header(r, http::field::location));
}

// ---- signing algorithms and rotation ------------------------------------------------------

TEST_F(ProviderTest, Es256AndEdDsaClientsGetIdTokensOfTheirAlg)
{
    std::string es_secret;
    std::string ed_secret;
    ASSERT_NO_FATAL_FAILURE(add_client_with_alg("es-app", "ES256", es_secret));
    ASSERT_NO_FATAL_FAILURE(add_client_with_alg("ed-app", "EdDSA", ed_secret));
    ASSERT_FALSE(webapp_code().empty()); // signs in: a session for the others
    const std::pair<std::string, std::string> clients[] = {{"es-app", es_secret},
                                                           {"ed-app", ed_secret}};
    for (const auto& [id, secret] : clients) {
        const std::string cb = "https://" + id + ".example/cb";
        Params p = webapp_request("openid");
        p["client_id"] = id;
        p["redirect_uri"] = cb;
        const std::string code = code_of(authorize(p, session_), cb, "st-1");
        const auto t = exchange(code, cb, id, secret);
        ASSERT_EQ(t.result(), http::status::ok) << id << ": " << t.body();
        const std::string id_token = str(json_of(t), "id_token");
        const std::string alg = id == "es-app" ? "ES256" : "EdDSA";
        EXPECT_EQ(str(jwt_part(id_token, 0), "alg"), alg) << id;
        const auto claims = verified(id_token);
        EXPECT_EQ(str(claims, "aud"), id);
        EXPECT_EQ(str(claims, "at_hash"),
                  at_hash(str(json_of(t), "access_token"), *jws_alg_from_string(alg)))
            << id;
        const auto keys = published_keys();
        const auto kid = str(jwt_part(id_token, 0), "kid");
        const auto key = std::find_if(keys.begin(), keys.end(),
                                      [&](const PublicKey& k) { return k.kid() == kid; });
        ASSERT_NE(key, keys.end()) << id;
        EXPECT_EQ(to_string(key->alg()), alg);
    }
}

TEST_F(ProviderTest, RotatingKeysKeepsTheOldKeyPublished)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string old_token = str(json_of(t), "id_token");
    const std::string old_kid = str(jwt_part(old_token, 0), "kid");

    proto::Request req{proto::OidcRotateKeys{}};
    const auto reply = provider_->handle(req, directory::Actor{"uid:0"});
    const auto* done = std::get_if<proto::Done>(&reply);
    ASSERT_NE(done, nullptr);
    EXPECT_FALSE(contains(done->message, old_kid)) << done->message;

    const auto kids = published_kids();
    EXPECT_NE(std::find(kids.begin(), kids.end(), old_kid), kids.end());
    EXPECT_GE(kids.size(), 2U);

    const auto t2 = exchange(code_of(authorize(webapp_request(), session_), webapp_cb, "st-1"));
    ASSERT_EQ(t2.result(), http::status::ok) << t2.body();
    const std::string new_kid = str(jwt_part(str(json_of(t2), "id_token"), 0), "kid");
    EXPECT_NE(new_kid, old_kid);
    EXPECT_TRUE(contains(done->message, new_kid)) << done->message;
    EXPECT_NE(std::find(kids.begin(), kids.end(), new_kid), kids.end());

    // The old token still verifies against the published keys.
    const auto claims = jws_verify(old_token, published_keys());
    EXPECT_TRUE(claims) << claims.error().message;
    // And the old access token still works.
    EXPECT_EQ(bearer_get("/userinfo", str(json_of(t), "access_token")).result(),
              http::status::ok);
}

TEST_F(ProviderTest, AnAccessKeyGetsATokenUntilDisabledAndSurvivesAPasswordChange)
{
    auto made = access_keys_->create({"alice", "web"}, directory::Actor{"uid:0"});
    ASSERT_TRUE(made) << made.error().message;
    ASSERT_TRUE(made->secret);
    const std::string id = made->key.id;
    const std::string secret(made->secret->view());
    const auto grant = [&](const std::string& key_secret) {
        return post("/token", encode({{"grant_type", "client_credentials"}, {"scope", "profile"}}),
                    {}, basic(id, key_secret));
    };
    const auto ok = grant(secret);
    ASSERT_EQ(ok.result(), http::status::ok) << ok.body();
    const auto body = json_of(ok);
    EXPECT_EQ(body.if_contains("id_token"), nullptr);
    EXPECT_EQ(body.if_contains("refresh_token"), nullptr);
    const auto info = bearer_get("/userinfo", str(body, "access_token"));
    ASSERT_EQ(info.result(), http::status::ok) << info.body();
    EXPECT_EQ(str(json_of(info), "sub"), user_id("alice"));
    EXPECT_EQ(str(json_of(info), "preferred_username"), "alice@web.example.internal");

    EXPECT_EQ(grant("wrong-secret").result(), http::status::unauthorized);

    // A password change does not touch access keys (seed 004).
    proto::UserSetPassword reset;
    reset.ref = {"alice", "web"};
    reset.password = Secret("Another-Passw0rd!");
    ASSERT_TRUE(passwords_->reset(reset, directory::Actor{"uid:0"}));
    EXPECT_EQ(grant(secret).result(), http::status::ok);

    ASSERT_TRUE(access_keys_->set_enabled(id, false, directory::Actor{"uid:0"}));
    const auto disabled = grant(secret);
    EXPECT_EQ(disabled.result(), http::status::unauthorized) << disabled.body();
    EXPECT_EQ(str(json_of(disabled), "error"), "invalid_client");
    ASSERT_TRUE(access_keys_->set_enabled(id, true, directory::Actor{"uid:0"}));
    EXPECT_EQ(grant(secret).result(), http::status::ok);
    ASSERT_TRUE(access_keys_->remove(id, directory::Actor{"uid:0"}));
    EXPECT_EQ(grant(secret).result(), http::status::unauthorized);
}

TEST_F(ProviderTest, AnIdTokenHintOfAnotherUserAsksForANewLogon)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string alice_id_token = str(json_of(t), "id_token");
    const std::string alice_session = session_;
    ASSERT_NO_FATAL_FAILURE(add_user("bob", bob_password));
    const auto bob_t = exchange(code_of(sign_in(authorize(webapp_request()), bob, bob_password),
                                        webapp_cb, "st-1"));
    const std::string bob_id_token = str(json_of(bob_t), "id_token");

    // alice's browser, the client expecting alice: a code at once (an expired hint is fine).
    clock_.advance(3600s);
    Params p = webapp_request();
    p["id_token_hint"] = alice_id_token;
    EXPECT_FALSE(code_of(authorize(p, alice_session), webapp_cb, "st-1").empty());
    // The client expects bob: sign in again; prompt=none cannot.
    p["id_token_hint"] = bob_id_token;
    EXPECT_EQ(authorize(p, alice_session).result(), http::status::see_other);
    p["prompt"] = "none";
    const auto none = authorize(p, alice_session);
    EXPECT_EQ(get_or(query_of(header(none, http::field::location)), "error"), "login_required");
    // A hint that is not our ID token goes back as invalid_request.
    p.erase("prompt");
    p["id_token_hint"] = "eyJhbGciOiJub25lIn0.e30.";
    const auto bad = authorize(p, alice_session);
    EXPECT_EQ(get_or(query_of(header(bad, http::field::location)), "error"), "invalid_request");
}

TEST_F(ProviderTest, AcrValuesAskingForMfaAreNotMetByAPasswordSession)
{
    ASSERT_FALSE(webapp_code().empty());
    Params p = webapp_request();
    p["acr_values"] = "urn:latchkey:acr:mfa";
    EXPECT_EQ(authorize(p, session_).result(), http::status::see_other);
    p["acr_values"] = "urn:latchkey:acr:mfa urn:latchkey:acr:pwd";
    EXPECT_FALSE(code_of(authorize(p, session_), webapp_cb, "st-1").empty());
    p["acr_values"] = "urn:example:unknown";
    EXPECT_FALSE(code_of(authorize(p, session_), webapp_cb, "st-1").empty());
}

TEST_F(ProviderTest, AnMfaSessionMeetsAcrValuesOfEitherKind)
{
    Secret key;
    ASSERT_NO_FATAL_FAILURE(enrol_totp("alice", key));
    const auto back = sign_in(authorize(webapp_request()), alice, alice_password, &key);
    const auto t = exchange(code_of(back, webapp_cb, "st-1"));
    EXPECT_EQ(str(verified(str(json_of(t), "id_token")), "acr"), "urn:latchkey:acr:mfa");
    Params p = webapp_request();
    p["acr_values"] = "urn:latchkey:acr:pwd";
    EXPECT_FALSE(code_of(authorize(p, session_), webapp_cb, "st-1").empty());
    p["acr_values"] = "urn:latchkey:acr:mfa";
    EXPECT_FALSE(code_of(authorize(p, session_), webapp_cb, "st-1").empty());
}

TEST_F(ProviderTest, TheEmailScopeGivesTheDirectorysAddressUnverified)
{
    ASSERT_TRUE(directory_->set_email({{"alice", std::string("web")}, std::string("alice@example.com")},
                                      admin_));
    const auto t = exchange(webapp_code(webapp_request("openid email")));
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const auto info = json_of(bearer_get("/userinfo", str(json_of(t), "access_token")));
    EXPECT_EQ(str(info, "email"), "alice@example.com");
    EXPECT_EQ(info.at("email_verified"), json::value(false));
    EXPECT_EQ(info.count("name"), 0U); // no profile scope
}

// ---- sessions in the store, session end, password changes --------------------------------

TEST_F(ProviderTest, ABrowserSessionIsListedAndSurvivesARestartOfTheProvider)
{
    const auto first = exchange(webapp_code());
    ASSERT_EQ(first.result(), http::status::ok) << first.body();
    const std::string refresh = str(json_of(first), "refresh_token");
    const auto listed = directory_->sessions(std::nullopt);
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 1U);
    EXPECT_EQ(listed->front().kind, "web");
    EXPECT_EQ(listed->front().service, "oidc");
    EXPECT_EQ(listed->front().user, std::string(alice));
    EXPECT_EQ(listed->front().method, std::optional<std::string>("pwd"));
    EXPECT_EQ(listed->front().id, str(verified(str(json_of(first), "id_token")), "sid"));

    // A new provider on the same store: the cookie and the refresh token still work.
    provider_.reset();
    ProviderConfig cfg;
    cfg.issuer = std::string(issuer);
    cfg.refresh_grace = 0s;
    provider_ = std::make_unique<Provider>(cfg, *store_, *directory_, *engine_, *access_keys_,
                                           *box_, *audit_, clock_);
    ASSERT_TRUE(provider_->start());
    const std::string code = code_of(authorize(webapp_request(), session_), webapp_cb, "st-1");
    EXPECT_FALSE(code.empty());
    EXPECT_EQ(refresh_with(refresh).result(), http::status::ok);
}

TEST_F(ProviderTest, EndingTheSessionEndsItsCookieRefreshTokensAndAccessTokens)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string access = str(json_of(t), "access_token");
    const std::string refresh = str(json_of(t), "refresh_token");
    ASSERT_EQ(bearer_get("/userinfo", access).result(), http::status::ok);
    const std::string sid = str(verified(str(json_of(t), "id_token")), "sid");

    proto::SessionEnd end;
    end.id = sid.substr(0, 8); // the prefix `session list` shows
    const auto ended = directory_->end_sessions(end, admin_);
    ASSERT_TRUE(ended) << ended.error().message;
    ASSERT_EQ(ended->size(), 1U);
    EXPECT_EQ(ended->front().id, sid);

    EXPECT_EQ(authorize(webapp_request(), session_).result(), http::status::see_other);
    EXPECT_EQ(refresh_with(refresh).result(), http::status::bad_request);
    EXPECT_EQ(bearer_get("/userinfo", access).result(), http::status::unauthorized);
    EXPECT_EQ(introspect(access).at("active"), json::value(false));
    const auto listed = directory_->sessions(std::nullopt);
    ASSERT_TRUE(listed);
    EXPECT_TRUE(listed->empty());
    // Ending it again is an error that names the command to list sessions.
    const auto again = directory_->end_sessions(end, admin_);
    ASSERT_FALSE(again);
    EXPECT_TRUE(contains(again.error().message, "session list")) << again.error().message;
}

TEST_F(ProviderTest, APasswordResetSignsTheUserOutButNotOthers)
{
    const auto t = exchange(webapp_code());
    ASSERT_EQ(t.result(), http::status::ok) << t.body();
    const std::string alice_session = session_;
    const std::string refresh = str(json_of(t), "refresh_token");
    ASSERT_NO_FATAL_FAILURE(add_user("bob", bob_password));
    const auto bob_back = sign_in(authorize(webapp_request()), bob, bob_password);
    ASSERT_FALSE(code_of(bob_back, webapp_cb, "st-1").empty());
    const std::string bob_session = session_;

    proto::UserSetPassword reset;
    reset.ref = {"alice", std::string("web")};
    reset.password = Secret("Alice-New-Passw0rd");
    ASSERT_TRUE(passwords_->reset(reset, admin_));

    EXPECT_EQ(authorize(webapp_request(), alice_session).result(), http::status::see_other);
    EXPECT_EQ(refresh_with(refresh).result(), http::status::bad_request);
    EXPECT_EQ(authorize(webapp_request(), bob_session).result(), http::status::found);
    const auto left = directory_->sessions(std::nullopt);
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 1U);
    EXPECT_EQ(left->front().user, std::string(bob));
}

TEST_F(ProviderTest, AWebSessionEndsAtTheAccountsSessionDuration)
{
    ASSERT_FALSE(webapp_code().empty());
    clock_.advance(std::chrono::seconds(proto::SecuritySettings{}.session_duration_s + 1));
    EXPECT_EQ(authorize(webapp_request(), session_).result(), http::status::see_other);
    const auto listed = directory_->sessions(std::nullopt);
    ASSERT_TRUE(listed);
    EXPECT_TRUE(listed->empty());
}

// ---- forced password change ---------------------------------------------------------------

TEST_F(ProviderTest, APasswordToChangeAtNextLogonIsChangedOnThePages)
{
    proto::UserSetPassword reset;
    reset.ref = {"alice", std::string("web")};
    reset.password = Secret("Alice-Temp-Passw0rd");
    reset.require_change = true;
    ASSERT_TRUE(passwords_->reset(reset, admin_));

    const Form f = open_login(authorize(webapp_request()));
    ASSERT_EQ(post_login(f, "username", std::string(alice)).result(), http::status::ok);
    auto step = post_login(f, "answer", "Alice-Temp-Passw0rd");
    ASSERT_EQ(step.result(), http::status::ok) << step.body();
    EXPECT_TRUE(contains(step.body(), "You are required to change your password now."))
        << step.body();
    EXPECT_TRUE(contains(step.body(), "New password")) << step.body();
    EXPECT_TRUE(contains(step.body(), "new-password")) << step.body();

    // Too short: the policy's message, and the same step again.
    step = post_login(f, "answer", "short");
    ASSERT_EQ(step.result(), http::status::ok) << step.body();
    EXPECT_TRUE(contains(step.body(), "role=\"alert\"")) << step.body();
    step = post_login(f, "answer", "Alice-Chosen-Passw0rd");
    ASSERT_EQ(step.result(), http::status::ok) << step.body();
    EXPECT_TRUE(contains(step.body(), "Retype new password")) << step.body();
    step = post_login(f, "answer", "Alice-Chosen-Passw0rd");
    ASSERT_EQ(step.result(), http::status::see_other) << step.body();
    session_ = session_cookie_of(step);
    const auto back = get(header(step, http::field::location), session_);
    EXPECT_FALSE(code_of(back, webapp_cb, "st-1").empty());

    // The new password is the one now; the flag is gone.
    auto who = directory_->resolve({"alice", std::string("web")});
    ASSERT_TRUE(who);
    EXPECT_FALSE(who->user.require_change);
    const auto again = sign_in(authorize(webapp_request()), alice, "Alice-Chosen-Passw0rd");
    EXPECT_FALSE(code_of(again, webapp_cb, "st-1").empty());
}

// ---- consent ------------------------------------------------------------------------------

class ConsentTest : public ProviderTest {
protected:
    void SetUp() override
    {
        ProviderTest::SetUp();
        if (HasFatalFailure())
            return;
        proto::OidcClientInfo c;
        c.id = "asks";
        c.name = "Asking App";
        c.redirect_uris = {asks_cb};
        c.require_consent = true;
        ASSERT_NO_FATAL_FAILURE(add_client(c, secret_));
    }

    Params request(const std::string& prompt = {}) const
    {
        Params p{{"response_type", "code"}, {"client_id", "asks"}, {"redirect_uri", asks_cb},
                 {"scope", "openid profile"}, {"state", "s-a"}};
        if (!prompt.empty())
            p["prompt"] = prompt;
        return p;
    }

    /// Signs in at the asking client and returns the consent page.
    HttpResponse to_consent()
    {
        const Form f = open_login(authorize(request()));
        form_ = f;
        EXPECT_EQ(post_login(f, "username", std::string(alice)).result(), http::status::ok);
        auto page = post_login(f, "answer", std::string(alice_password));
        session_ = session_cookie_of(page);
        return page;
    }

    HttpResponse decide(const std::string& decision)
    {
        return post("/login",
                    encode({{"tx", form_.tx}, {"csrf", form_.csrf}, {"decision", decision}}),
                    session_);
    }

    const std::string asks_cb = "https://asks.example/cb";
    std::string secret_;
    Form form_;
};

TEST_F(ConsentTest, AllowIsRememberedAndDenyIsAccessDenied)
{
    const auto page = to_consent();
    ASSERT_EQ(page.result(), http::status::ok) << page.body();
    EXPECT_TRUE(contains(page.body(), "Asking App")) << page.body();
    EXPECT_TRUE(contains(page.body(), "See your name and user name")) << page.body();
    EXPECT_FALSE(session_.empty());

    const auto denied = decide("deny");
    ASSERT_EQ(denied.result(), http::status::see_other) << denied.body();
    const auto back = get(header(denied, http::field::location), session_);
    ASSERT_EQ(back.result(), http::status::found);
    const Params q = query_of(header(back, http::field::location));
    EXPECT_EQ(get_or(q, "error"), "access_denied");
    EXPECT_EQ(get_or(q, "state"), "s-a");

    // Signed in already: only the consent page is asked again; prompt=none cannot show it.
    const auto none = authorize(request("none"), session_);
    ASSERT_EQ(none.result(), http::status::found);
    EXPECT_EQ(get_or(query_of(header(none, http::field::location)), "error"), "consent_required");
    const auto to_page = authorize(request(), session_);
    ASSERT_EQ(to_page.result(), http::status::see_other);
    const auto again = get(header(to_page, http::field::location));
    ASSERT_EQ(again.result(), http::status::ok);
    EXPECT_TRUE(contains(again.body(), "Allow access?")) << again.body();
    form_ = form_of(again);
    const auto allowed = decide("allow");
    ASSERT_EQ(allowed.result(), http::status::see_other) << allowed.body();
    EXPECT_FALSE(code_of(get(header(allowed, http::field::location), session_), asks_cb, "s-a")
                     .empty());

    // Remembered: a code at once, until prompt=consent asks again.
    EXPECT_FALSE(code_of(authorize(request(), session_), asks_cb, "s-a").empty());
    EXPECT_EQ(authorize(request("consent"), session_).result(), http::status::see_other);
}

TEST_F(ConsentTest, AnotherBrowserCannotAnswerTheConsentPage)
{
    ASSERT_EQ(to_consent().result(), http::status::ok);
    session_.clear();
    const auto r = decide("allow");
    EXPECT_EQ(r.result(), http::status::forbidden) << r.body();
}

// ---- back-channel logout ------------------------------------------------------------------

/// One HTTP exchange on loopback: reads a request and answers 200, keeping the body.
class OneShotServer {
public:
    OneShotServer()
        : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0})
        , thread_([this] {
            boost::system::error_code ec;
            boost::asio::ip::tcp::socket s(io_);
            acceptor_.accept(s, ec);
            if (ec)
                return;
            boost::beast::flat_buffer buf;
            http::request<http::string_body> req;
            http::read(s, buf, req, ec);
            if (ec)
                return;
            {
                const std::lock_guard lock(mutex_);
                body_ = req.body();
                target_ = std::string(req.target());
                done_ = true;
            }
            cv_.notify_all();
            http::response<http::string_body> res{http::status::ok, 11};
            res.prepare_payload();
            http::write(s, res, ec);
        })
    {
    }

    ~OneShotServer()
    {
        boost::system::error_code ec;
        acceptor_.close(ec);
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    /// The request body, once it came (10 s at most).
    std::optional<std::string> wait_body()
    {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_; }))
            return std::nullopt;
        return body_;
    }

private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::string body_;
    std::string target_;
    std::thread thread_;
};

class BackchannelTest : public ProviderTest {
protected:
    /// Registers "listens" with a back-channel logout URI on `rp_`, signs alice in to it and
    /// exchanges the code; returns the ID token's sid.
    std::string sign_in_to_listener()
    {
        proto::OidcClientInfo c;
        c.id = "listens";
        c.redirect_uris = {"https://listens.example/cb"};
        c.backchannel_logout_uri = "http://127.0.0.1:" + std::to_string(rp_.port()) + "/bc?x=1";
        std::string secret;
        add_client(c, secret);
        Params p{{"response_type", "code"}, {"client_id", "listens"},
                 {"redirect_uri", "https://listens.example/cb"}, {"scope", "openid"},
                 {"state", "l"}};
        const std::string code = code_of(sign_in(authorize(p), alice, alice_password),
                                         "https://listens.example/cb", "l");
        const auto t = post("/token",
                            encode({{"grant_type", "authorization_code"}, {"code", code},
                                    {"redirect_uri", "https://listens.example/cb"}}),
                            {}, basic("listens", secret));
        EXPECT_EQ(t.result(), http::status::ok) << t.body();
        return str(verified(str(json_of(t), "id_token")), "sid");
    }

    OneShotServer rp_;
};

TEST_F(BackchannelTest, SigningOutSendsALogoutTokenToTheSessionsClients)
{
    const std::string sid = sign_in_to_listener();
    ASSERT_EQ(get("/logout", session_).result(), http::status::ok);
    const auto body = rp_.wait_body();
    ASSERT_TRUE(body) << "no back-channel logout arrived";
    const Params form = query_of("?" + *body);
    const std::string token = get_or(form, "logout_token");
    EXPECT_EQ(str(jwt_part(token, 0), "typ"), "logout+jwt");
    const auto claims = verified(token);
    EXPECT_EQ(str(claims, "iss"), std::string(issuer));
    EXPECT_EQ(str(claims, "aud"), "listens");
    EXPECT_EQ(str(claims, "sid"), sid);
    EXPECT_EQ(str(claims, "sub"), user_id("alice"));
    EXPECT_EQ(claims.count("nonce"), 0U);
    const auto* events = claims.if_contains("events");
    ASSERT_TRUE(events && events->is_object());
    EXPECT_TRUE(events->as_object().contains("http://schemas.openid.net/event/backchannel-logout"));
}

TEST_F(BackchannelTest, AnExpiredSessionIsToldToItsClientsToo)
{
    const std::string sid = sign_in_to_listener();
    clock_.advance(std::chrono::seconds(proto::SecuritySettings{}.session_duration_s + 11));
    ASSERT_EQ(get("/jwks").result(), http::status::ok); // any request prunes
    const auto body = rp_.wait_body();
    ASSERT_TRUE(body) << "no back-channel logout arrived";
    EXPECT_EQ(str(verified(get_or(query_of("?" + *body), "logout_token")), "sid"), sid);
}

TEST(PostLogoutToken, RefusesANonHttpUriAndReportsAnUnreachableClient)
{
    const auto bad = post_logout_token("ftp://example/x", "t", std::chrono::milliseconds(500));
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().is(core::Errc::invalid_argument));
    // A port nobody listens on (bound, then closed).
    std::uint16_t port = 0;
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    const auto down = post_logout_token("http://127.0.0.1:" + std::to_string(port) + "/",
                                        "t", std::chrono::milliseconds(500));
    ASSERT_FALSE(down);
    EXPECT_TRUE(down.error().is(core::Errc::io_failed));
}

} // namespace
} // namespace latchkey::oidc

// ---- passkeys on the pages and the account page -------------------------------------------

namespace latchkey::oidc {
namespace {

class AccountPageTest : public ProviderTest {
protected:
    void SetUp() override
    {
        ProviderTest::SetUp();
        if (HasFatalFailure())
            return;
        cfg_.passkeys.rp = {"localhost", "latchkey", {std::string(issuer)}, false, {}};
        ASSERT_NO_FATAL_FAILURE(restart_provider());
    }

    HttpResponse
    post_json(const std::string& target, const std::string& body, const std::string& session)
    {
        HttpRequest r{http::verb::post, target, 11};
        r.set(http::field::host, "localhost:8080");
        r.set(http::field::content_type, "application/json");
        r.set(http::field::cookie, "lk_session=" + session);
        r.body() = body;
        r.prepare_payload();
        return provider_->handle(std::move(r), peer_);
    }

    /// The account page's token, read from the page as the script reads it.
    std::string csrf_of(const HttpResponse& page)
    {
        const std::string& b = page.body();
        const auto at = b.find("data-csrf=\"");
        if (at == std::string::npos)
            return {};
        const auto start = at + 11;
        return b.substr(start, b.find('"', start) - start);
    }
};

TEST_F(AccountPageTest, AsksToSignInFirstAndTheSignInComesBackToIt)
{
    const auto r = get("/account");
    EXPECT_EQ(r.result(), http::status::see_other);
    EXPECT_EQ(header(r, http::field::location), "/login?return=account");
    const auto page = get("/login?return=account");
    ASSERT_EQ(page.result(), http::status::ok);
    const std::string tx = hidden(page.body(), "tx");
    const std::string csrf = hidden(page.body(), "csrf");
    auto step =
        post("/login", encode({{"tx", tx}, {"csrf", csrf}, {"username", std::string(alice)}}));
    ASSERT_EQ(step.result(), http::status::ok);
    // The password step offers alice's passkey in place of the password, with the one script.
    EXPECT_TRUE(contains(step.body(), "Log on with Passkey")) << step.body();
    EXPECT_TRUE(contains(std::string(step["Content-Security-Policy"]), "script-src 'self'"));
    step = post("/login",
                encode({{"tx", tx}, {"csrf", csrf}, {"answer", std::string(alice_password)}}));
    EXPECT_EQ(step.result(), http::status::see_other) << step.body();
    EXPECT_EQ(header(step, http::field::location), "/account");
    const auto account = get("/account", session_cookie_of(step));
    ASSERT_EQ(account.result(), http::status::ok);
    EXPECT_TRUE(contains(account.body(), "You have no passkeys yet")) << account.body();
    EXPECT_TRUE(contains(account.body(), std::string(alice)));
}

TEST_F(AccountPageTest, ItsRequestsNeedTheSessionsToken)
{
    sign_in(authorize(webapp_request()), alice, alice_password);
    const auto page = get("/account", session_);
    const std::string csrf = csrf_of(page);
    ASSERT_EQ(csrf.size(), 43U) << page.body();
    auto r = post("/account/passkeys/options", encode({{"csrf", "forged"}}), session_);
    EXPECT_EQ(r.result(), http::status::forbidden);
    r = post("/account/passkeys/remove", encode({{"id", "x"}}), session_);
    EXPECT_EQ(r.result(), http::status::forbidden);
    r = post_json("/account/passkeys", R"({"csrf":"forged","ceremony":"c","credential":{}})",
                  session_);
    EXPECT_EQ(r.result(), http::status::forbidden);
    // Another session's token is no good either.
    r = post("/account/passkeys/options", encode({{"csrf", csrf}}), "someone-elses-cookie");
    EXPECT_EQ(r.result(), http::status::see_other);

    r = post("/account/passkeys/options", encode({{"csrf", csrf}}), session_);
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
    const auto started = json_of(r);
    EXPECT_EQ(str(started, "ceremony").size(), 43U);
    const auto& options = started.at("options").as_object();
    EXPECT_EQ(options.at("rp").as_object().at("id").as_string(), "localhost");
    EXPECT_EQ(options.at("user").as_object().at("name").as_string(), std::string(alice));
    // A made-up ceremony, or a malformed credential, adds nothing.
    r = post_json("/account/passkeys",
                  R"({"csrf":")" + csrf + R"(","ceremony":"made-up","credential":{}})", session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_TRUE(contains(r.body(), "expired")) << r.body();
    r = post_json("/account/passkeys",
                  R"({"csrf":")" + csrf + R"(","ceremony":")" + str(started, "ceremony") +
                      R"(","credential":{"id":"AA"}})",
                  session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
    // The ceremony was spent by that failure: a retry must start again.
    r = post_json("/account/passkeys",
                  R"({"csrf":")" + csrf + R"(","ceremony":")" + str(started, "ceremony") +
                      R"(","credential":{"id":"AA"}})",
                  session_);
    EXPECT_TRUE(contains(r.body(), "expired")) << r.body();
    r = post_json("/account/passkeys", "not json", session_);
    EXPECT_EQ(r.result(), http::status::bad_request);

    // One ceremony at a time per user, kept in the store: a newer one replaces an older one,
    // whose answer then finds nothing and leaves the newer one alone, on any node.
    const auto options_id = [&] {
        const auto o = post("/account/passkeys/options", encode({{"csrf", csrf}}), session_);
        EXPECT_EQ(o.result(), http::status::ok) << o.body();
        return str(json_of(o), "ceremony");
    };
    const std::string older = options_id();
    const std::string newer = options_id();
    ASSERT_NO_FATAL_FAILURE(restart_provider());
    const auto answer = [&](const std::string& id) {
        return post_json("/account/passkeys",
                         R"({"csrf":")" + csrf + R"(","ceremony":")" + id +
                             R"(","credential":{"id":"AA"}})",
                         session_);
    };
    r = answer(older);
    EXPECT_TRUE(contains(r.body(), "expired")) << r.body();
    r = answer(newer);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_FALSE(contains(r.body(), "expired")) << r.body();
    EXPECT_TRUE(store_->passkeys(user_id("alice"))->empty());
}

TEST_F(AccountPageTest, ChangesThePasswordWithThePolicysMessagesAndEndsTheOtherSessions)
{
    sign_in(authorize(webapp_request()), alice, alice_password);
    const std::string other = session_;
    sign_in(authorize(webapp_request()), alice, alice_password);
    const std::string mine = session_;
    const std::string csrf = csrf_of(get("/account", mine));
    const auto change = [&](const std::string& current, const std::string& fresh,
                            const std::string& repeat) {
        return post(
            "/account/password",
            encode({{"csrf", csrf}, {"current", current}, {"new", fresh}, {"repeat", repeat}}),
            mine);
    };
    auto r = change("wrong", "New-Passw0rd-1", "New-Passw0rd-1");
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_TRUE(contains(r.body(), "Wrong password: password not changed.")) << r.body();
    r = change(std::string(alice_password), "short", "short");
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_TRUE(contains(r.body(), "at least")) << r.body();
    r = change(std::string(alice_password), "New-Passw0rd-1", "New-Passw0rd-2");
    EXPECT_TRUE(contains(r.body(), "the passwords do not match")) << r.body();
    r = change(std::string(alice_password), "New-Passw0rd-1", "New-Passw0rd-1");
    ASSERT_EQ(r.result(), http::status::see_other) << r.body();
    EXPECT_EQ(header(r, http::field::location), "/account?done=password");
    const std::string fresh = session_cookie_of(r);
    ASSERT_FALSE(fresh.empty());
    EXPECT_EQ(get("/account", fresh).result(), http::status::ok);
    EXPECT_EQ(get("/account", other).result(), http::status::see_other); // signed out
    EXPECT_EQ(get("/account", mine).result(), http::status::see_other);
    // An account that does not allow it says so, and refuses the form.
    ASSERT_TRUE(
        directory_->set_settings({std::string("web"), {{"allow_change_password", "no"}}}, admin_));
    const auto page = get("/account", fresh);
    EXPECT_TRUE(contains(page.body(), "does not allow changing your own password")) << page.body();
    r = post("/account/password",
             encode({{"csrf", csrf_of(page)},
                     {"current", "New-Passw0rd-1"},
                     {"new", "New-Passw0rd-3"},
                     {"repeat", "New-Passw0rd-3"}}),
             fresh);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_TRUE(contains(r.body(), "does not allow changing your own password")) << r.body();
    EXPECT_EQ(get("/account", fresh).result(), http::status::ok); // nothing changed, still in
}

TEST_F(AccountPageTest, SetsUpAndRemovesTheUsersOwnAuthenticatorApp)
{
    sign_in(authorize(webapp_request()), alice, alice_password);
    const std::string csrf = csrf_of(get("/account", session_));
    auto r = post("/account/mfa/start", encode({{"csrf", csrf}, {"password", "wrong"}}), session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_TRUE(contains(r.body(), "Wrong password; nothing was changed")) << r.body();
    r = post("/account/mfa/start",
             encode({{"csrf", csrf}, {"password", std::string(alice_password)}}), session_);
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
    constexpr std::string_view marker = "<code id=\"totp-key\">";
    const auto at = r.body().find(marker);
    ASSERT_NE(at, std::string::npos) << r.body();
    const auto start = at + marker.size();
    const auto key =
        credentials::base32_decode(r.body().substr(start, r.body().find('<', start) - start));
    ASSERT_TRUE(key);
    const Secret secret(*key);
    // The set-up is kept in the store, sealed: the codes may go to another node.
    ASSERT_NO_FATAL_FAILURE(restart_provider());
    // A wrong pair may be typed again; the right one shows the recovery codes once.
    r = post("/account/mfa/confirm",
             encode({{"csrf", csrf}, {"first", "000000"}, {"second", "000001"}}), session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
    ASSERT_NO_FATAL_FAILURE(restart_provider());
    const std::string first = totp_now(secret);
    clock_.advance(30s);
    r = post("/account/mfa/confirm",
             encode({{"csrf", csrf}, {"first", first}, {"second", totp_now(secret)}}), session_);
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
    EXPECT_TRUE(contains(r.body(), "Your recovery codes follow")) << r.body();
    EXPECT_TRUE(store_->mfa_device(user_id("alice"))->has_value());
    EXPECT_TRUE(contains(get("/account", session_).body(), "Remove the authenticator app"));
    // Where MFA is required and no passkey could take its place, it stays.
    ASSERT_TRUE(directory_->set_settings({std::string("web"), {{"mfa_required", "yes"}}}, admin_));
    r = post("/account/mfa/remove",
             encode({{"csrf", csrf}, {"password", std::string(alice_password)}}), session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_TRUE(contains(r.body(), "add a passkey first")) << r.body();
    ASSERT_TRUE(directory_->set_settings({std::string("web"), {{"mfa_required", "no"}}}, admin_));
    r = post("/account/mfa/remove",
             encode({{"csrf", csrf}, {"password", std::string(alice_password)}}), session_);
    EXPECT_EQ(r.result(), http::status::see_other) << r.body();
    EXPECT_FALSE(store_->mfa_device(user_id("alice"))->has_value());
    // An account that does not let users manage their devices says so.
    ASSERT_TRUE(
        directory_->set_settings({std::string("web"), {{"allow_manage_mfa", "no"}}}, admin_));
    EXPECT_TRUE(contains(get("/account", session_).body(), "does not allow managing"));
    r = post("/account/mfa/start",
             encode({{"csrf", csrf}, {"password", std::string(alice_password)}}), session_);
    EXPECT_EQ(r.result(), http::status::bad_request);
}

TEST_F(AccountPageTest, ThePasskeyScriptIsServedAndPagesWithoutPasskeysRunNone)
{
    const auto js = get("/static/passkey.js");
    EXPECT_EQ(js.result(), http::status::ok);
    EXPECT_EQ(header(js, http::field::content_type), "text/javascript; charset=utf-8");
    EXPECT_TRUE(contains(js.body(), "navigator.credentials.get"));
    // The general portal offers a discoverable sign-in, also in the user name's autofill.
    const auto portal = get("/login");
    EXPECT_TRUE(contains(portal.body(), "autocomplete=\"username webauthn\"")) << portal.body();
    EXPECT_TRUE(contains(portal.body(), "data-conditional")) << portal.body();
    // Without a relying party (the provider of ProviderTest), no passkey and no script.
    ProviderConfig cfg;
    cfg.issuer = std::string(issuer);
    provider_ = std::make_unique<Provider>(cfg, *store_, *directory_, *engine_, *access_keys_,
                                           *box_, *audit_, clock_);
    ASSERT_TRUE(provider_->start());
    const auto plain = get("/login");
    EXPECT_FALSE(contains(plain.body(), "passkey")) << plain.body();
    EXPECT_FALSE(contains(std::string(plain["Content-Security-Policy"]), "script-src"));
}

} // namespace
} // namespace latchkey::oidc

namespace latchkey::oidc {
namespace {

TEST(AcrOf, RanksPasswordsSecondFactorsAndPhishingResistantPasskeys)
{
    using namespace detail;
    EXPECT_EQ(acr_of("pwd"), acr_pwd);
    EXPECT_EQ(acr_of("pwd+otp"), acr_mfa);
    EXPECT_EQ(acr_of("pwd+hwk"), acr_mfa);
    EXPECT_EQ(acr_of("hwk"), acr_pwd);
    EXPECT_EQ(acr_of("swk+uv"), acr_phr);
    EXPECT_EQ(amr_of("pwd+swk"), (std::vector<std::string>{"pwd", "swk", "user", "mfa"}));
    EXPECT_EQ(amr_of("hwk+uv"), (std::vector<std::string>{"hwk", "user", "pin", "mfa"}));
    EXPECT_LT(acr_level(acr_pwd), acr_level(acr_mfa));
    EXPECT_LT(acr_level(acr_mfa), acr_level(acr_phr));
    EXPECT_EQ(acr_level("urn:other"), 0);
}

} // namespace
} // namespace latchkey::oidc
