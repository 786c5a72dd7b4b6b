// SPDX-License-Identifier: Apache-2.0
// The provider's signing keys.
#include "oidc/keyring.hpp"

#include <algorithm>
#include <utility>

namespace latchkey::oidc {

namespace {

using core::Errc;

std::string seal_context(const std::string& kid)
{
    return "oidc-key:" + kid;
}

} // namespace

KeyRing::KeyRing(directory::Store& store,
                 const credentials::SecretBox& box,
                 directory::Audit& audit,
                 const core::Clock& clock,
                 std::chrono::hours rotation_period,
                 std::chrono::seconds max_token_lifetime)
    : store_(store)
    , box_(box)
    , audit_(audit)
    , clock_(clock)
    , rotation_period_(rotation_period)
    , max_token_lifetime_(max_token_lifetime)
{
}

core::Status KeyRing::load()
{
    LATCHKEY_TRY(records, store_.oidc_keys(clock_.now()));
    std::vector<Entry> loaded;
    for (auto& r : records) {
        const auto alg = jws_alg_from_string(r.alg);
        if (!alg)
            return core::fail(Errc::store_failed, "signing key " + r.kid + " has an unknown alg");
        LATCHKEY_TRY(pem, box_.open_sealed(r.sealed_pem, seal_context(r.kid)));
        LATCHKEY_TRY(key, SigningKey::from_pem(pem, *alg));
        loaded.push_back(Entry{std::move(r), std::make_shared<const SigningKey>(std::move(key))});
    }
    const std::lock_guard lock(mutex_);
    keys_ = std::move(loaded);
    return {};
}

core::Result<KeyRing::Entry*> KeyRing::make_key(JwsAlg alg)
{
    LATCHKEY_TRY(key, SigningKey::generate(alg));
    LATCHKEY_TRY(pem, key.to_pem());
    directory::OidcKeyRecord r;
    r.kid = key.kid();
    r.alg = std::string(to_string(alg));
    LATCHKEY_TRY(sealed, box_.seal(pem, seal_context(r.kid)));
    r.sealed_pem = std::move(sealed);
    r.created_at = clock_.now();
    LATCHKEY_TRY_STATUS(store_.add_oidc_key(r));
    audit_.record(directory::Severity::notice, "oidc.key.create", {{"kid", r.kid}, {"alg", r.alg}});
    keys_.insert(keys_.begin(),
                 Entry{std::move(r), std::make_shared<const SigningKey>(std::move(key))});
    return &keys_.front();
}

core::Result<KeyRing::Entry*> KeyRing::current(JwsAlg alg)
{
    const auto now = clock_.now();
    for (auto& e : keys_) {
        if (e.key->alg() != alg || e.record.retired_at)
            continue;
        if (now - e.record.created_at < rotation_period_)
            return &e;
        // Too old: retire it (still published for the tokens it signed) and make a new one.
        const auto until = now + max_token_lifetime_;
        LATCHKEY_TRY_STATUS(store_.retire_oidc_key(e.record.kid, now, until));
        e.record.retired_at = now;
        e.record.unpublish_at = until;
        audit_.record(directory::Severity::notice, "oidc.key.retire",
                      {{"kid", e.record.kid}, {"reason", "schedule"}});
        break;
    }
    return make_key(alg);
}

void KeyRing::forget_unpublished()
{
    const auto now = clock_.now();
    std::erase_if(keys_, [&](const Entry& e) {
        return e.record.unpublish_at && *e.record.unpublish_at <= now;
    });
}

core::Result<std::string> KeyRing::sign(JwsAlg alg, const boost::json::object& payload,
                                        std::string_view typ)
{
    // The signature itself runs outside the lock: OpenSSL signs with one key on several threads
    // at once, and a rotation meanwhile only drops this reference.
    std::shared_ptr<const SigningKey> key;
    {
        const std::lock_guard lock(mutex_);
        LATCHKEY_TRY(entry, current(alg));
        key = entry->key;
    }
    return jws_sign(*key, payload, typ);
}

core::Result<boost::json::object> KeyRing::verify(std::string_view compact)
{
    std::vector<PublicKey> keys;
    {
        const std::lock_guard lock(mutex_);
        forget_unpublished();
        keys.reserve(keys_.size());
        for (const auto& e : keys_)
            keys.push_back(e.key->public_key());
    }
    return jws_verify(compact, keys);
}

core::Result<std::vector<std::string>> KeyRing::rotate(const std::string& actor)
{
    const std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    std::vector<JwsAlg> algs;
    for (auto& e : keys_) {
        if (e.record.retired_at)
            continue;
        const auto until = now + max_token_lifetime_;
        LATCHKEY_TRY_STATUS(store_.retire_oidc_key(e.record.kid, now, until));
        e.record.retired_at = now;
        e.record.unpublish_at = until;
        algs.push_back(e.key->alg());
        audit_.record(directory::Severity::notice, "oidc.key.retire",
                      {{"kid", e.record.kid}, {"reason", "rotate"}, {"actor", actor}});
    }
    if (algs.empty())
        algs.push_back(JwsAlg::RS256); // the default: a fresh provider has a key to publish
    std::vector<std::string> kids;
    for (const auto alg : algs) {
        LATCHKEY_TRY(entry, make_key(alg));
        kids.push_back(entry->record.kid);
    }
    return kids;
}

boost::json::object KeyRing::jwks()
{
    const std::lock_guard lock(mutex_);
    forget_unpublished();
    boost::json::array keys;
    for (const auto& e : keys_)
        keys.push_back(e.key->public_jwk());
    boost::json::object out;
    out["keys"] = std::move(keys);
    return out;
}

} // namespace latchkey::oidc
