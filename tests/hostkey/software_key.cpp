// SPDX-License-Identifier: Apache-2.0
// Test support: the software security key (CTAP 2.0 with PIN/UV auth protocol one).
#include "tests/hostkey/software_key.hpp"

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/random.hpp"
#include "webauthn/cbor.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::hostkey::testing {

namespace {

using webauthn::as_bytes;
using webauthn::as_int;
using webauthn::as_text;
using webauthn::map_find;
using webauthn::testing::Cbor;
using webauthn::testing::SoftKey;

constexpr std::size_t max_message = 1200; // what getInfo announces (maxMsgSize)

// The CBOR commands are libfido2's CTAP_CBOR_* (fido/param.h); the status codes, FIDO_ERR_*.

void check(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(what);
}

std::string reply(std::uint8_t status, const std::string& cbor = {})
{
    return std::string(1, static_cast<char>(status)) + cbor;
}

std::string sha256(std::string_view data)
{
    return webauthn::sha256(data);
}

std::string hmac_sha256(std::string_view key, std::string_view data)
{
    unsigned char out[32];
    unsigned int len = sizeof out;
    check(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
               &len) != nullptr,
          "HMAC");
    return {reinterpret_cast<char*>(out), len};
}

/// AES-256-CBC with a zero IV and no padding, as PIN protocol one uses it.
std::string aes_cbc(std::string_view key, std::string_view data, bool encrypt)
{
    check(key.size() == 32 && data.size() % 16 == 0, "AES-256-CBC sizes");
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        EVP_CIPHER_CTX_free);
    const unsigned char iv[16] = {};
    check(ctx && EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr,
                                   reinterpret_cast<const unsigned char*>(key.data()), iv,
                                   encrypt ? 1 : 0) == 1,
          "EVP_CipherInit_ex");
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    std::string out(data.size(), '\0');
    int len = 0;
    check(EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()),
                           static_cast<int>(data.size())) == 1 &&
              static_cast<std::size_t>(len) == data.size(),
          "EVP_CipherUpdate");
    return out;
}

/// The x and y of a P-256 COSE_Key's encoding.
std::pair<std::string, std::string> ec_point(std::string_view cose)
{
    auto item = webauthn::decode_cbor(cose, {});
    check(item.has_value(), "COSE key");
    const auto x = as_bytes(map_find(item->get(), -2));
    const auto y = as_bytes(map_find(item->get(), -3));
    check(x && y, "COSE key coordinates");
    return {std::string(*x), std::string(*y)};
}

/// SHA-256 of the x coordinate of the ECDH point: PIN protocol one's shared secret.
std::optional<std::string> shared_secret(EVP_PKEY* ours, const cbor_item_t* peer_cose)
{
    const auto x = as_bytes(map_find(peer_cose, -2));
    const auto y = as_bytes(map_find(peer_cose, -3));
    if (!x || !y || x->size() != 32 || y->size() != 32)
        return std::nullopt;
    auto peer = webauthn::ec_public_key("P-256", *x, *y);
    if (!peer)
        return std::nullopt;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, ours, nullptr), EVP_PKEY_CTX_free);
    std::size_t len = 0;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer->get()) != 1 ||
        EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
        return std::nullopt;
    std::string z(len, '\0');
    if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(z.data()), &len) != 1)
        return std::nullopt;
    z.resize(len);
    return sha256(z);
}

std::optional<bool> option(const cbor_item_t& params, int key, std::string_view name)
{
    const cbor_item_t* options = map_find(&params, key);
    const cbor_item_t* v = options != nullptr ? map_find(options, name) : nullptr;
    if (v == nullptr || !cbor_is_bool(v))
        return std::nullopt;
    return cbor_get_bool(v);
}

// libfido2's hooks: the io handle is the key itself.
void* io_open(const char* path)
{
    void* key = nullptr;
    return std::sscanf(path, "software-key:%p", &key) == 1 ? key : nullptr;
}

void io_close(void*) {}

int io_read(void*, unsigned char*, std::size_t, int)
{
    return -1; // the transport functions carry every message
}

int io_write(void*, const unsigned char*, std::size_t)
{
    return -1;
}

int transport_tx(fido_dev_t* dev, std::uint8_t command, const unsigned char* buf, std::size_t n)
{
    auto* key = static_cast<SoftwareKey*>(fido_dev_io_handle(dev));
    try {
        (void)key->exchange(command, {reinterpret_cast<const char*>(buf), n});
    } catch (const std::exception&) {
        return -1;
    }
    return static_cast<int>(n);
}

} // namespace

SoftwareKey::SoftwareKey(Options options)
    : options_(std::move(options))
    , pin_token_(core::random_string(32))
{
    new_key_agreement();
}

void SoftwareKey::new_key_agreement()
{
    key_agreement_.emplace(SoftKey::generate(webauthn::CoseAlgorithm::es256));
}

std::string SoftwareKey::exchange(std::uint8_t command, std::string_view payload)
{
    switch (command) {
    case CTAP_CMD_INIT: {
        // fido_ctap_info_t: the nonce echoed, a channel, protocol 2, version 1.0.0, CBOR and
        // no U2F messages.
        check(payload.size() == 8, "CTAP INIT nonce");
        reply_ = std::string(payload) + std::string("\x01\x02\x03\x04", 4) + '\x02' +
                 std::string("\x01\x00\x00", 3) + static_cast<char>(FIDO_CAP_CBOR | FIDO_CAP_NMSG);
        break;
    }
    case CTAP_CMD_CBOR: reply_ = cbor_command(payload); break;
    default: reply_ = reply(FIDO_ERR_INVALID_COMMAND); break;
    }
    return reply_;
}

std::string SoftwareKey::cbor_command(std::string_view request)
{
    if (request.empty())
        return reply(FIDO_ERR_INVALID_COMMAND);
    const auto command = static_cast<std::uint8_t>(request[0]);
    if (command == CTAP_CBOR_GETINFO)
        return get_info();
    if (command == CTAP_CBOR_NEXT_ASSERT)
        return get_next_assertion();
    auto params = webauthn::decode_cbor(request.substr(1), {});
    if (!params || !cbor_isa_map(params->get()))
        return reply(FIDO_ERR_INVALID_CBOR);
    switch (command) {
    case CTAP_CBOR_MAKECRED: return make_credential(*params->get());
    case CTAP_CBOR_ASSERT: return get_assertion(*params->get());
    case CTAP_CBOR_CLIENT_PIN: return client_pin(*params->get());
    default: return reply(FIDO_ERR_INVALID_COMMAND);
    }
}

std::string SoftwareKey::get_info()
{
    const std::string aaguid(options_.aaguid.begin(), options_.aaguid.end());
    return reply(
        FIDO_OK,
        Cbor::map({{1, Cbor::array({"FIDO_2_0"})},
                   {3, Cbor::bytes(aaguid)},
                   {4, Cbor::map({{"rk", Cbor::boolean(true)},
                                  {"up", Cbor::boolean(true)},
                                  {"uv", Cbor::boolean(options_.builtin_uv)},
                                  {"plat", Cbor::boolean(false)},
                                  {"clientPin", Cbor::boolean(options_.pin.has_value())}})},
                   {5, static_cast<std::int64_t>(max_message)},
                   {6, Cbor::array({1})}})
            .encode());
}

std::uint8_t SoftwareKey::verify_user(const cbor_item_t& params,
                                      int auth_key,
                                      int protocol_key,
                                      int options_key,
                                      std::string_view client_data_hash,
                                      std::uint8_t& flags) const
{
    if (const auto auth = as_bytes(map_find(&params, auth_key))) {
        if (!options_.pin)
            return FIDO_ERR_PIN_NOT_SET;
        if (as_int(map_find(&params, protocol_key)) != 1)
            return FIDO_ERR_INVALID_PARAMETER;
        if (*auth != hmac_sha256(pin_token_, client_data_hash).substr(0, 16))
            return FIDO_ERR_PIN_AUTH_INVALID;
        flags |= webauthn::flag::uv;
    } else if (option(params, options_key, "uv").value_or(false)) {
        if (!options_.builtin_uv)
            return FIDO_ERR_UNSUPPORTED_OPTION;
        flags |= webauthn::flag::uv;
    }
    return FIDO_OK;
}

std::string SoftwareKey::make_credential(const cbor_item_t& params)
{
    const auto hash = as_bytes(map_find(&params, 1));
    const cbor_item_t* rp = map_find(&params, 2);
    const cbor_item_t* user = map_find(&params, 3);
    const cbor_item_t* algs = map_find(&params, 4);
    if (!hash || rp == nullptr || user == nullptr || algs == nullptr || !cbor_isa_array(algs))
        return reply(FIDO_ERR_MISSING_PARAMETER);
    const auto rp_id = as_text(map_find(rp, "id"));
    const auto user_id = as_bytes(map_find(user, "id"));
    if (!rp_id || !user_id)
        return reply(FIDO_ERR_MISSING_PARAMETER);
    bool es256 = false;
    for (std::size_t i = 0; i < cbor_array_size(algs); ++i)
        es256 = es256 || as_int(map_find(cbor_array_handle(algs)[i], "alg")) == -7;
    if (!es256)
        return reply(FIDO_ERR_UNSUPPORTED_ALGORITHM);
    if (const cbor_item_t* exclude = map_find(&params, 5); exclude && cbor_isa_array(exclude)) {
        for (std::size_t i = 0; i < cbor_array_size(exclude); ++i) {
            const auto id = as_bytes(map_find(cbor_array_handle(exclude)[i], "id"));
            for (const auto& c : credentials_)
                if (id && c.rp_id == *rp_id && c.id == *id)
                    return reply(FIDO_ERR_CREDENTIAL_EXCLUDED);
        }
    }
    std::uint8_t flags = webauthn::flag::up | webauthn::flag::at;
    if (const auto s = verify_user(params, 8, 9, 7, *hash, flags); s != FIDO_OK)
        return reply(s);
    if ((flags & webauthn::flag::uv) == 0 && options_.pin)
        return reply(FIDO_ERR_PIN_REQUIRED); // CTAP 2.0: a key with a PIN asks for it
    ++touches_;
    if (!options_.touched)
        return reply(FIDO_ERR_USER_ACTION_TIMEOUT);

    const cbor_item_t* user_name = map_find(user, "name");
    Credential c{core::random_string(32),
                 std::string(*rp_id),
                 std::string(*user_id),
                 user_name ? std::string(as_text(user_name).value_or("")) : std::string(),
                 option(params, 7, "rk").value_or(false),
                 SoftKey::generate(webauthn::CoseAlgorithm::es256)};
    webauthn::testing::AuthDataSpec spec;
    spec.rp_id = c.rp_id;
    spec.flags = flags;
    spec.counter = ++counter_;
    spec.aaguid = options_.aaguid;
    spec.credential_id = c.id;
    spec.cose_key = c.key.cose();
    const std::string auth_data = webauthn::testing::make_auth_data(spec);
    // Packed self attestation: the credential's own key signs.
    const std::string sig = c.key.sign(auth_data + std::string(*hash));
    credentials_.push_back(std::move(c));
    return reply(FIDO_OK, Cbor::map({{1, "packed"},
                                     {2, Cbor::bytes(auth_data)},
                                     {3, Cbor::map({{"alg", -7}, {"sig", Cbor::bytes(sig)}})}})
                              .encode());
}

std::string SoftwareKey::assertion(const Credential& c,
                                   std::string_view client_data_hash,
                                   std::uint8_t flags,
                                   std::size_t count)
{
    webauthn::testing::AuthDataSpec spec;
    spec.rp_id = c.rp_id;
    spec.flags = flags;
    spec.counter = ++counter_;
    const std::string auth_data = webauthn::testing::make_auth_data(spec);
    const std::string sig = c.key.sign(auth_data + std::string(client_data_hash));
    Cbor user = Cbor::map({{"id", Cbor::bytes(c.user_id)}});
    if (c.resident)
        user = Cbor::map({{"id", Cbor::bytes(c.user_id)}, {"name", c.user_name.c_str()}});
    if (count > 0)
        return reply(FIDO_OK,
                     Cbor::map({{1, Cbor::map({{"id", Cbor::bytes(c.id)}, {"type", "public-key"}})},
                                {2, Cbor::bytes(auth_data)},
                                {3, Cbor::bytes(sig)},
                                {4, user},
                                {5, static_cast<std::int64_t>(count)}})
                         .encode());
    return reply(FIDO_OK,
                 Cbor::map({{1, Cbor::map({{"id", Cbor::bytes(c.id)}, {"type", "public-key"}})},
                            {2, Cbor::bytes(auth_data)},
                            {3, Cbor::bytes(sig)},
                            {4, user}})
                     .encode());
}

std::string SoftwareKey::get_assertion(const cbor_item_t& params)
{
    pending_.clear();
    const auto rp_id = as_text(map_find(&params, 1));
    const auto hash = as_bytes(map_find(&params, 2));
    if (!rp_id || !hash)
        return reply(FIDO_ERR_MISSING_PARAMETER);
    std::uint8_t flags = 0;
    if (const auto s = verify_user(params, 6, 7, 5, *hash, flags); s != FIDO_OK)
        return reply(s);
    std::vector<std::size_t> matches;
    const cbor_item_t* allow = map_find(&params, 3);
    for (std::size_t i = 0; i < credentials_.size(); ++i) {
        const Credential& c = credentials_[i];
        if (c.rp_id != *rp_id)
            continue;
        if (allow != nullptr && cbor_isa_array(allow)) {
            for (std::size_t j = 0; j < cbor_array_size(allow); ++j)
                if (as_bytes(map_find(cbor_array_handle(allow)[j], "id")) == c.id)
                    matches.push_back(i);
        } else if (c.resident) {
            matches.push_back(i);
        }
    }
    if (matches.empty())
        return reply(FIDO_ERR_NO_CREDENTIALS);
    if (option(params, 5, "up").value_or(true)) {
        ++touches_;
        if (!options_.touched)
            return reply(FIDO_ERR_USER_ACTION_TIMEOUT);
        flags |= webauthn::flag::up;
    }
    // With an allow list, the first match alone (CTAP 2.0 §5.2); without, each in turn.
    const std::size_t count = allow != nullptr ? 0 : matches.size();
    if (count > 1) {
        pending_.assign(matches.begin() + 1, matches.end());
        pending_hash_ = std::string(*hash);
        pending_flags_ = flags;
    }
    return assertion(credentials_[matches.front()], *hash, flags, count > 1 ? count : 0);
}

std::string SoftwareKey::get_next_assertion()
{
    if (pending_.empty())
        return reply(FIDO_ERR_NOT_ALLOWED);
    const std::size_t next = pending_.front();
    pending_.erase(pending_.begin());
    return assertion(credentials_[next], pending_hash_, pending_flags_, 0);
}

std::string SoftwareKey::client_pin(const cbor_item_t& params)
{
    if (as_int(map_find(&params, 1)) != 1)
        return reply(FIDO_ERR_INVALID_PARAMETER);
    const auto sub = as_int(map_find(&params, 2));
    if (sub == 0x01) // getRetries
        return reply(FIDO_OK, Cbor::map({{3, pin_retries_}}).encode());
    if (sub == 0x02) { // getKeyAgreement
        const auto [x, y] = ec_point(key_agreement_->cose());
        return reply(
            FIDO_OK,
            Cbor::map(
                {{1, Cbor::map(
                         {{1, 2}, {3, -25}, {-1, 1}, {-2, Cbor::bytes(x)}, {-3, Cbor::bytes(y)}})}})
                .encode());
    }
    if (sub != 0x05) // getPINToken is all a test needs; the PIN is set through Options
        return reply(FIDO_ERR_INVALID_COMMAND);
    if (!options_.pin)
        return reply(FIDO_ERR_PIN_NOT_SET);
    if (pin_retries_ <= 0)
        return reply(FIDO_ERR_PIN_BLOCKED);
    const cbor_item_t* peer = map_find(&params, 3);
    const auto pin_hash_enc = as_bytes(map_find(&params, 6));
    if (peer == nullptr || !pin_hash_enc || pin_hash_enc->size() != 16)
        return reply(FIDO_ERR_MISSING_PARAMETER);
    const auto shared = shared_secret(key_agreement_->pkey(), peer);
    if (!shared)
        return reply(FIDO_ERR_INVALID_PARAMETER);
    --pin_retries_;
    if (aes_cbc(*shared, *pin_hash_enc, false) != sha256(*options_.pin).substr(0, 16)) {
        new_key_agreement(); // CTAP 2.0 §5.5.8.2: a wrong PIN regenerates the key agreement
        return reply(pin_retries_ == 0 ? FIDO_ERR_PIN_BLOCKED : FIDO_ERR_PIN_INVALID);
    }
    pin_retries_ = 8;
    return reply(FIDO_OK,
                 Cbor::map({{2, Cbor::bytes(aes_cbc(*shared, pin_token_, true))}}).encode());
}

fido_dev_t* SoftwareKey::open_device()
{
    static const fido_dev_io_t io = {io_open, io_close, io_read, io_write};
    static const fido_dev_transport_t transport = {
        [](fido_dev_t* dev, std::uint8_t command, unsigned char* buf, std::size_t count,
           int) -> int {
            auto* key = static_cast<SoftwareKey*>(fido_dev_io_handle(dev));
            const std::string& r = key->reply_;
            if (command == CTAP_CMD_INIT && count != r.size())
                return -1;
            if (r.size() > count)
                return -1;
            std::memcpy(buf, r.data(), r.size());
            return static_cast<int>(r.size());
        },
        transport_tx};
    static const bool initialised = (fido_init(0), true);
    (void)initialised;
    fido_dev_t* dev = fido_dev_new();
    check(dev != nullptr, "fido_dev_new");
    char path[64];
    std::snprintf(path, sizeof path, "software-key:%p", static_cast<void*>(this));
    if (fido_dev_set_io_functions(dev, &io) != FIDO_OK ||
        fido_dev_set_transport_functions(dev, &transport) != FIDO_OK ||
        fido_dev_open(dev, path) != FIDO_OK) {
        fido_dev_free(&dev);
        throw std::runtime_error("fido_dev_open of the software key");
    }
    return dev;
}

} // namespace latchkey::hostkey::testing
