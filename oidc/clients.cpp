// SPDX-License-Identifier: Apache-2.0
// Registered clients.
#include "oidc/clients.hpp"

#include <algorithm>
#include <array>

#include <boost/url/parse.hpp>

#include "core/random.hpp"
#include "oidc/jose.hpp"

namespace latchkey::oidc {

namespace {

using core::Errc;

constexpr std::size_t max_uris = 16;
constexpr std::size_t max_uri_length = 2048;
constexpr std::size_t secret_bytes = 32;

bool is_loopback(std::string_view host)
{
    return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

bool valid_client_id(std::string_view id)
{
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

core::Status check_uris(const std::vector<std::string>& uris, std::string_view what)
{
    if (uris.size() > max_uris)
        return core::fail(Errc::invalid_argument,
                          std::string(what) + ": at most " + std::to_string(max_uris));
    for (const auto& u : uris)
        if (const auto problem = redirect_uri_problem(u))
            return core::fail(Errc::invalid_argument,
                              std::string(what) + " '" + u + "': " + *problem);
    return {};
}

} // namespace

std::optional<std::string> redirect_uri_problem(std::string_view uri)
{
    if (uri.empty() || uri.size() > max_uri_length)
        return "must be 1 to " + std::to_string(max_uri_length) + " characters";
    const auto parsed = boost::urls::parse_absolute_uri(uri);
    if (!parsed)
        return std::string("is not an absolute URI");
    if (parsed->has_fragment())
        return std::string("must not have a fragment");
    const auto scheme = parsed->scheme();
    if (scheme == "https")
        return parsed->encoded_host().empty() ? std::optional<std::string>("has no host")
                                              : std::nullopt;
    if (scheme == "http") {
        if (is_loopback(parsed->encoded_host()))
            return std::nullopt;
        return std::string("plain http is allowed only for localhost, 127.0.0.1 and [::1]");
    }
    return std::string("must be https (or http on a loopback host)");
}

ClientRegistry::ClientRegistry(directory::Store& store,
                               const credentials::SecretBox& box,
                               directory::Audit& audit,
                               const core::Clock& clock)
    : store_(store)
    , box_(box)
    , audit_(audit)
    , clock_(clock)
{
}

core::Result<std::string> ClientRegistry::secret_hash(const std::string& id,
                                                      const core::Secret& s) const
{
    LATCHKEY_TRY(mac, box_.mac(s, "oidc-client:" + id));
    return base64url(mac);
}

core::Result<proto::OidcClientReply> ClientRegistry::add(const proto::OidcClientInfo& c,
                                                         const directory::Actor& actor)
{
    if (!valid_client_id(c.id))
        return core::fail(Errc::invalid_argument,
                          "client id must be 1 to 64 letters, digits, '-', '_' or '.'");
    if (c.redirect_uris.empty())
        return core::fail(Errc::invalid_argument, "a client needs at least one redirect URI");
    LATCHKEY_TRY_STATUS(check_uris(c.redirect_uris, "redirect URI"));
    LATCHKEY_TRY_STATUS(check_uris(c.post_logout_redirect_uris, "post-logout redirect URI"));
    if (c.backchannel_logout_uri)
        if (const auto problem = redirect_uri_problem(*c.backchannel_logout_uri))
            return core::fail(Errc::invalid_argument, "back-channel logout URI: " + *problem);
    if (!jws_alg_from_string(c.id_token_alg))
        return core::fail(Errc::invalid_argument, "id_token_alg must be RS256, ES256 or EdDSA");
    directory::OidcClientRecord r;
    r.id = c.id;
    r.name = c.name.empty() ? c.id : c.name.substr(0, 200);
    r.is_public = c.is_public;
    r.redirect_uris = c.redirect_uris;
    r.post_logout_redirect_uris = c.post_logout_redirect_uris;
    r.backchannel_logout_uri = c.backchannel_logout_uri;
    r.scopes = c.scopes.empty() ? std::vector<std::string>{"openid", "profile", "email",
                                                           "offline_access"}
                                : c.scopes;
    for (const auto& s : r.scopes)
        if (std::find(std::begin(known_scopes), std::end(known_scopes), s) ==
            std::end(known_scopes))
            return core::fail(Errc::invalid_argument,
                              "unknown scope '" + s + "' (openid, profile, email, offline_access)");
    if (std::find(r.scopes.begin(), r.scopes.end(), "openid") == r.scopes.end())
        r.scopes.insert(r.scopes.begin(), "openid");
    r.id_token_alg = c.id_token_alg;
    r.claims_in_id_token = c.claims_in_id_token;
    r.require_consent = c.require_consent;
    r.created_at = clock_.now();
    proto::OidcClientReply reply;
    if (!r.is_public) {
        std::array<unsigned char, secret_bytes> raw{};
        core::random_bytes(raw.data(), raw.size());
        const core::WipeOnExit wipe_raw(raw.data(), raw.size());
        core::Secret secret(base64url(std::string_view(reinterpret_cast<const char*>(raw.data()),
                                                       raw.size())));
        LATCHKEY_TRY(hash, secret_hash(r.id, secret));
        r.secret_hash = std::move(hash);
        reply.secret = std::move(secret);
    }
    LATCHKEY_TRY_STATUS(store_.add_oidc_client(r));
    audit_.record(directory::Severity::notice, "oidc.client.add",
                  {{"client_id", r.id},
                   {"actor", actor.name},
                   {"type", r.is_public ? "public" : "confidential"}});
    reply.client = info(r);
    return reply;
}

core::Result<std::vector<proto::OidcClientInfo>> ClientRegistry::list()
{
    LATCHKEY_TRY(records, store_.oidc_clients());
    std::vector<proto::OidcClientInfo> out;
    for (const auto& r : records)
        out.push_back(info(r));
    return out;
}

core::Result<proto::OidcClientInfo> ClientRegistry::show(const std::string& id)
{
    LATCHKEY_TRY(found, store_.oidc_client(id));
    if (!found)
        return core::fail(Errc::not_found, "no client '" + id + "'");
    return info(*found);
}

core::Status ClientRegistry::remove(const std::string& id, const directory::Actor& actor)
{
    LATCHKEY_TRY_STATUS(store_.remove_oidc_client(id));
    audit_.record(directory::Severity::notice, "oidc.client.remove",
                  {{"client_id", id}, {"actor", actor.name}});
    return {};
}

core::Result<std::optional<directory::OidcClientRecord>> ClientRegistry::find(const std::string& id)
{
    if (!valid_client_id(id))
        return std::optional<directory::OidcClientRecord>{};
    return store_.oidc_client(id);
}

bool ClientRegistry::secret_matches(const directory::OidcClientRecord& client,
                                    const core::Secret& secret) const
{
    if (client.is_public || client.secret_hash.empty() || secret.empty() || secret.size() > 256)
        return false;
    const auto hash = secret_hash(client.id, secret);
    return hash && core::constant_time_equal(*hash, client.secret_hash);
}

proto::OidcClientInfo ClientRegistry::info(const directory::OidcClientRecord& r)
{
    proto::OidcClientInfo i;
    i.id = r.id;
    i.name = r.name;
    i.is_public = r.is_public;
    i.redirect_uris = r.redirect_uris;
    i.post_logout_redirect_uris = r.post_logout_redirect_uris;
    i.backchannel_logout_uri = r.backchannel_logout_uri;
    i.scopes = r.scopes;
    i.id_token_alg = r.id_token_alg;
    i.claims_in_id_token = r.claims_in_id_token;
    i.require_consent = r.require_consent;
    i.created_at = core::to_unix(r.created_at);
    return i;
}

} // namespace latchkey::oidc
