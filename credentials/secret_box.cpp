// SPDX-License-Identifier: Apache-2.0
// SecretBox: the key file's life cycle and AES-256-GCM through OpenSSL 3 EVP.
#include "credentials/secret_box.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/c_handle.hpp"
#include "core/random.hpp"

namespace latchkey::credentials {

namespace {

using core::Errc;

using EvpCipherCtx = std::unique_ptr<EVP_CIPHER_CTX, core::CFree<EVP_CIPHER_CTX_free>>;

using core::WipeOnExit;

/// Removes a temporary file unless it was renamed into place.
class UnlinkOnExit {
public:
    explicit UnlinkOnExit(std::string path)
        : path_(std::move(path))
    {
    }

    UnlinkOnExit(const UnlinkOnExit&) = delete;
    UnlinkOnExit& operator=(const UnlinkOnExit&) = delete;

    ~UnlinkOnExit()
    {
        if (armed_)
            ::unlink(path_.c_str());
    }

    void disarm() noexcept { armed_ = false; }

private:
    std::string path_;
    bool armed_ = true;
};

std::string errno_text(const std::string& what, int err)
{
    return what + ": " + std::strerror(err);
}

std::string octal_mode(mode_t mode)
{
    std::array<char, 16> buf{};
    std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
    return buf.data();
}

const unsigned char* bytes_of(std::string_view s) noexcept
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

/// EVP takes int lengths; anything this large is a bug or an attack, not a secret.
bool fits_evp(std::size_t n) noexcept
{
    return n <= static_cast<std::size_t>(INT_MAX) - SecretBox::overhead;
}

/// Reads the key if the file exists (nullopt if it does not), after checking what it is.
core::Result<std::optional<core::Secret>> load_key(const std::string& path)
{
    // O_NONBLOCK: a FIFO planted at the path must not hang the daemon; fstat then refuses it.
    core::UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (!fd.valid()) {
        const int err = errno;
        if (err == ENOENT)
            return std::optional<core::Secret>{};
        return core::fail(Errc::io_failed, errno_text("cannot open key file " + path, err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return core::fail(Errc::io_failed, errno_text("cannot stat key file " + path, errno));
    if (!S_ISREG(st.st_mode))
        return core::fail(Errc::config_invalid,
                          "key file " + path +
                              " is not a regular file; move it aside so that a new key can be "
                              "created, or point the configuration at the right key file");
    if ((st.st_mode & 077) != 0)
        return core::fail(Errc::config_invalid, "key file " + path + " has mode " +
                                                    octal_mode(st.st_mode) +
                                                    ", which lets group or others access it; "
                                                    "run: chmod 600 " +
                                                    path);
    if (st.st_size != static_cast<off_t>(SecretBox::key_size))
        return core::fail(Errc::config_invalid,
                          "key file " + path + " has " + std::to_string(st.st_size) +
                              " bytes, expected " + std::to_string(SecretBox::key_size) +
                              "; restore the original key file (a new key cannot decrypt "
                              "secrets sealed with the old one)");

    // One spare byte detects a file that grew after fstat.
    std::array<char, SecretBox::key_size + 1> buf{};
    const WipeOnExit wipe_buf(buf.data(), buf.size());
    std::size_t got = 0;
    while (got < buf.size()) {
        const ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return core::fail(Errc::io_failed, errno_text("cannot read key file " + path, errno));
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    if (got != SecretBox::key_size)
        return core::fail(Errc::config_invalid,
                          "key file " + path + " changed size while being read; check that "
                                               "nothing else writes to it");
    return std::optional<core::Secret>{core::Secret(std::string_view(buf.data(), got))};
}

core::Status write_all(int fd, const char* p, std::size_t n, const std::string& path)
{
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return core::fail(Errc::io_failed, errno_text("cannot write " + path, errno));
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return {};
}

/// Creates a fresh key at `path` without ever replacing an existing file. Returns nullopt when
/// another process created the key first, so that the caller loads that one instead.
core::Result<std::optional<core::Secret>> create_key(const std::string& path)
{
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty())
        dir = ".";

    const std::string tmp = path + ".tmp-" + core::to_hex(core::random_string(8));
    // Mode 0600 from the first byte: the key is never readable by others, even briefly.
    core::UniqueFd fd{
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (!fd.valid()) {
        const int err = errno;
        if (err == ENOENT)
            return core::fail(Errc::config_invalid,
                              "cannot create key file " + path + ": directory " + dir +
                                  " does not exist; create it (mode 0700) or fix the path");
        return core::fail(Errc::io_failed, errno_text("cannot create key file " + tmp, err));
    }
    UnlinkOnExit cleanup(tmp);
    // A umask cannot add bits, but it could remove the owner's; the mode must be exactly 0600.
    if (::fchmod(fd.get(), 0600) != 0)
        return core::fail(Errc::io_failed, errno_text("cannot chmod " + tmp, errno));

    std::array<char, SecretBox::key_size> key{};
    const WipeOnExit wipe_key(key.data(), key.size());
    core::random_bytes(key.data(), key.size());
    LATCHKEY_TRY_STATUS(write_all(fd.get(), key.data(), key.size(), tmp));
    if (::fsync(fd.get()) != 0)
        return core::fail(Errc::io_failed, errno_text("cannot fsync " + tmp, errno));
    if (::close(fd.release()) != 0)
        return core::fail(Errc::io_failed, errno_text("cannot close " + tmp, errno));

    // RENAME_NOREPLACE: two daemons racing must not each keep a key the other overwrote.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
        const int err = errno;
        if (err == EEXIST)
            return std::optional<core::Secret>{};
        return core::fail(Errc::io_failed,
                          errno_text("cannot rename " + tmp + " to " + path, err));
    }
    cleanup.disarm();

    // The rename is durable only once the directory is; until then a crash could lose the key
    // after secrets were sealed with it.
    const core::UniqueFd dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!dir_fd.valid() || ::fsync(dir_fd.get()) != 0)
        return core::fail(Errc::io_failed, errno_text("cannot fsync directory " + dir, errno));

    return std::optional<core::Secret>{core::Secret(std::string_view(key.data(), key.size()))};
}

/// Sets up AES-256-GCM for one message: cipher, 12-byte nonce, key, then the additional data
/// (version byte, then context). GCM accepts several AAD updates before the payload.
bool start_gcm(EVP_CIPHER_CTX* ctx,
               bool encrypt,
               const core::Secret& key,
               const unsigned char* nonce,
               unsigned char version,
               std::string_view context)
{
    const int enc = encrypt ? 1 : 0;
    int len = 0;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(SecretBox::nonce_size),
                            nullptr) != 1 ||
        EVP_CipherInit_ex(ctx, nullptr, nullptr, bytes_of(key.view()), nonce, enc) != 1 ||
        EVP_CipherUpdate(ctx, nullptr, &len, &version, 1) != 1)
        return false;
    if (!context.empty() && EVP_CipherUpdate(ctx, nullptr, &len, bytes_of(context),
                                             static_cast<int>(context.size())) != 1)
        return false;
    return true;
}

} // namespace

core::Result<SecretBox> SecretBox::open(const std::string& key_path)
{
    // Two rounds: if another process wins the race to create the key, load the one it wrote.
    for (int round = 0; round < 2; ++round) {
        LATCHKEY_TRY(loaded, load_key(key_path));
        if (loaded)
            return SecretBox(std::move(*loaded));
        LATCHKEY_TRY(created, create_key(key_path));
        if (created)
            return SecretBox(std::move(*created));
    }
    return core::fail(Errc::io_failed,
                      "key file " + key_path + " appeared and then disappeared while opening it");
}

core::Result<SecretBox> SecretBox::from_key(const core::Secret& key)
{
    if (key.size() != key_size)
        return core::fail(Errc::invalid_argument, "a SecretBox key must be " +
                                                      std::to_string(key_size) + " bytes, not " +
                                                      std::to_string(key.size()));
    return SecretBox(key.clone());
}

core::Result<std::string> SecretBox::seal(const core::Secret& plaintext,
                                          std::string_view context) const
{
    if (!fits_evp(plaintext.size()) || !fits_evp(context.size()))
        return core::fail(Errc::invalid_argument, "secret or context too large to seal");

    const EvpCipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx)
        return core::fail(Errc::crypto_failed, "cannot allocate a cipher context");

    std::string out(overhead + plaintext.size(), '\0');
    auto* const version = reinterpret_cast<unsigned char*>(out.data());
    unsigned char* const nonce = version + 1;
    unsigned char* const body = nonce + nonce_size;
    unsigned char* const tag = body + plaintext.size();
    *version = format_version;
    // A random 96-bit nonce per message: safe for far more seals than a daemon will ever do
    // under one key (NIST SP 800-38D allows 2^32).
    core::random_bytes(nonce, nonce_size);

    int len = 0;
    if (!start_gcm(ctx.get(), true, key_, nonce, format_version, context))
        return core::fail(Errc::crypto_failed, "cannot initialise AES-256-GCM");
    if (!plaintext.empty() &&
        (EVP_EncryptUpdate(ctx.get(), body, &len, bytes_of(plaintext.view()),
                           static_cast<int>(plaintext.size())) != 1 ||
         static_cast<std::size_t>(len) != plaintext.size()))
        return core::fail(Errc::crypto_failed, "AES-256-GCM encryption failed");
    if (EVP_EncryptFinal_ex(ctx.get(), tag, &len) != 1 || len != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), tag) !=
            1)
        return core::fail(Errc::crypto_failed, "AES-256-GCM encryption failed");
    return out;
}

core::Result<core::Secret> SecretBox::open_sealed(std::string_view sealed,
                                                  std::string_view context) const
{
    if (sealed.size() < overhead)
        return core::fail(Errc::crypto_failed,
                          "sealed secret is truncated: " + std::to_string(sealed.size()) +
                              " bytes, at least " + std::to_string(overhead) + " expected");
    const auto version = static_cast<unsigned char>(sealed[0]);
    if (version != format_version)
        return core::fail(Errc::crypto_failed,
                          "sealed secret has unsupported format version " +
                              std::to_string(version));
    const std::size_t body_size = sealed.size() - overhead;
    if (!fits_evp(body_size) || !fits_evp(context.size()))
        return core::fail(Errc::crypto_failed, "sealed secret or context is too large");

    const unsigned char* const nonce = bytes_of(sealed) + 1;
    const unsigned char* const body = nonce + nonce_size;
    // EVP_CTRL_GCM_SET_TAG takes a non-const pointer.
    std::array<unsigned char, tag_size> tag{};
    std::memcpy(tag.data(), body + body_size, tag_size);

    const EvpCipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx)
        return core::fail(Errc::crypto_failed, "cannot allocate a cipher context");

    // GCM decrypts before it verifies: the plaintext lands here first and is wiped on every
    // path, so a failed check never leaves (or returns) a partial secret.
    std::string plain(body_size, '\0');
    const WipeOnExit wipe_plain(plain.data(), plain.capacity());

    int len = 0;
    if (!start_gcm(ctx.get(), false, key_, nonce, version, context))
        return core::fail(Errc::crypto_failed, "cannot initialise AES-256-GCM");
    if (body_size != 0 &&
        (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, body,
                           static_cast<int>(body_size)) != 1 ||
         static_cast<std::size_t>(len) != body_size))
        return core::fail(Errc::crypto_failed, "AES-256-GCM decryption failed");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size),
                            tag.data()) != 1)
        return core::fail(Errc::crypto_failed, "AES-256-GCM decryption failed");
    std::array<unsigned char, 1> no_output{};
    if (EVP_DecryptFinal_ex(ctx.get(), no_output.data(), &len) != 1)
        return core::fail(Errc::crypto_failed,
                          "sealed secret failed authentication (tampered with, wrong key or "
                          "wrong context)");
    return core::Secret(plain);
}

core::Result<std::string> SecretBox::mac(const core::Secret& data, std::string_view context) const
{
    // subkey = HMAC(box key, "latchkey-mac-v1:" || context); result = HMAC(subkey, data). The
    // box key itself is never used for two algorithms.
    const std::string label = "latchkey-mac-v1:" + std::string(context);
    std::array<unsigned char, EVP_MAX_MD_SIZE> subkey{};
    const WipeOnExit wipe_subkey(subkey.data(), subkey.size());
    unsigned int subkey_len = 0;
    if (HMAC(EVP_sha256(), key_.view().data(), static_cast<int>(key_.view().size()),
             reinterpret_cast<const unsigned char*>(label.data()), label.size(), subkey.data(),
             &subkey_len) == nullptr)
        return core::fail(Errc::crypto_failed, "HMAC-SHA256 failed");
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int out_len = 0;
    if (HMAC(EVP_sha256(), subkey.data(), static_cast<int>(subkey_len),
             reinterpret_cast<const unsigned char*>(data.view().data()), data.view().size(),
             out.data(), &out_len) == nullptr)
        return core::fail(Errc::crypto_failed, "HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(out.data()), out_len);
}

} // namespace latchkey::credentials
