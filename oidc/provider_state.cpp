// SPDX-License-Identifier: Apache-2.0
// Provider::State's construction and upkeep (pruning the store of expired sessions, tokens,
// codes and sign-ins; session lookups; audit), and the helpers the endpoint families share.
#include "oidc/provider_state.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"
#include "oidc/jose.hpp"

namespace latchkey::oidc {

namespace detail {

std::string random_token()
{
    std::array<unsigned char, 32> raw{};
    core::random_bytes(raw.data(), raw.size());
    std::string t =
        base64url(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    core::wipe(raw.data(), raw.size());
    return t;
}

std::string token_key(std::string_view token)
{
    return sha256_base64url(token);
}

std::int64_t unix_now(const core::Clock& clock)
{
    return core::to_unix(clock.now());
}

std::vector<std::string> split_spaces(std::string_view s)
{
    std::vector<std::string> out;
    std::istringstream in{std::string(s)};
    for (std::string w; in >> w;)
        if (std::find(out.begin(), out.end(), w) == out.end())
            out.push_back(w);
    return out;
}

std::string join_spaces(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& w : v)
        out += (out.empty() ? "" : " ") + w;
    return out;
}

bool contains(const std::vector<std::string>& v, std::string_view w)
{
    return std::find(v.begin(), v.end(), w) != v.end();
}

std::vector<std::string> amr_of(std::string_view method)
{
    if (method == "pwd")
        return {"pwd"};
    // A passkey: a hardware-bound or a synced (software) key, user presence, and the
    // authenticator's own PIN or biometrics when it verified the user (RFC 8176 §2).
    const auto key = method.substr(0, 3);
    if (key == "hwk" || key == "swk") {
        std::vector<std::string> amr{std::string(key), "user"};
        if (method.substr(3) == "+uv") {
            amr.emplace_back("pin");
            amr.emplace_back("mfa");
        }
        return amr;
    }
    // A password and a passkey as the second factor.
    const auto second = method.substr(0, 7);
    if (second == "pwd+hwk" || second == "pwd+swk")
        return {"pwd", std::string(method.substr(4, 3)), "user", "mfa"};
    return {"pwd", "otp", "mfa"};
}

std::string_view acr_of(std::string_view method)
{
    if ((method.substr(0, 3) == "hwk" || method.substr(0, 3) == "swk") &&
        method.substr(3) == "+uv")
        return acr_phr;
    const auto amr = amr_of(method);
    return std::find(amr.begin(), amr.end(), "mfa") == amr.end() ? acr_pwd : acr_mfa;
}

int acr_level(std::string_view acr)
{
    if (acr == acr_pwd)
        return 1;
    if (acr == acr_mfa)
        return 2;
    if (acr == acr_phr)
        return 3;
    return 0;
}

} // namespace detail

using namespace detail;

Provider::State::State(ProviderConfig c,
                       directory::Store& s,
                       directory::Directory& d,
                       credentials::AuthEngine& e,
                       credentials::AccessKeys& ak,
                       const credentials::SecretBox& b,
                       directory::Audit& a,
                       const core::Clock& k)
    : cfg(std::move(c))
    , store(s)
    , directory(d)
    , engine(e)
    , access_keys(ak)
    , audit(a)
    , clock(k)
    , box(b)
    , keys(s,
           b,
           a,
           k,
           cfg.key_rotation,
           std::max({cfg.id_token_lifetime, cfg.access_token_lifetime}))
    , clients(s, b, a, k)
    , backchannel(cfg.backchannel_timeout,
                  [this](const LogoutDelivery& out, const core::Status& st) { delivered(out, st); })
    , passkeys(s, d, a)
{
}

/// Every 10 s at most: expired browser sessions close, dead tokens, codes and sign-ins go.
void Provider::State::prune_store()
{
    const std::int64_t now = unix_now(clock);
    std::int64_t due = next_prune.load();
    if (now < due || !next_prune.compare_exchange_strong(due, now + 10))
        return;
    auto ended = store.expire_web_state(clock.now());
    if (!ended) {
        core::log::error("oidc: pruning sessions: " + ended.error().message);
        return;
    }
    for (const auto& e : *ended) {
        record(directory::Severity::info, "session.end",
               {{"session", e.id}, {"kind", "web"}, {"reason", "expired"}});
        session_ended(e, "expired");
    }
}

/// The web session is open and not expired.
bool Provider::State::session_alive(const std::string& sid)
{
    auto s = store.session(sid);
    return s && *s && !(*s)->closed_at && (*s)->expires_at && *(*s)->expires_at >= clock.now();
}

/// The browser's open session, by its cookie.
std::optional<directory::SessionRecord> Provider::State::session_of(const HttpRequest& req)
{
    const auto c = cookie(req, session_cookie);
    if (!c)
        return std::nullopt;
    auto s = store.web_session(token_key(*c), clock.now());
    if (!s) {
        core::log::error("oidc: looking up a session: " + s.error().message);
        return std::nullopt;
    }
    return std::move(*s);
}

void Provider::State::record(directory::Severity s,
                             const std::string& event,
                             std::map<std::string, std::string> fields)
{
    fields["front_door"] = "oidc";
    audit.record(s, event, std::move(fields));
}

} // namespace latchkey::oidc
