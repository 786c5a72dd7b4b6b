// SPDX-License-Identifier: Apache-2.0
// Unit tests of SecretBox: sealing, tamper detection and the key file's life cycle.
#include "credentials/secret_box.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::credentials {
namespace {

using core::Errc;

using test_support::TempDir;

void write_file(const std::string& path, const std::string& bytes, mode_t mode)
{
    std::ofstream(path, std::ios::binary) << bytes;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

core::Secret test_key(char fill = 'k')
{
    return core::Secret(std::string(SecretBox::key_size, fill));
}

SecretBox make_box(char fill = 'k')
{
    auto box = SecretBox::from_key(test_key(fill));
    if (!box)
        throw std::runtime_error(box.error().message);
    return std::move(box).value();
}

const std::string totp_secret = "12345678901234567890"; // the RFC 6238 SHA-1 test secret

TEST(SecretBox, RoundTripsASecret)
{
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed) << sealed.error().message;
    EXPECT_EQ(sealed->find(totp_secret), std::string::npos);
    const auto opened = box.open_sealed(*sealed, "totp:42");
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->view(), totp_secret);
}

TEST(SecretBox, WritesVersionNonceCiphertextAndTag)
{
    const auto sealed = make_box().seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed);
    ASSERT_EQ(sealed->size(), 1 + 12 + totp_secret.size() + 16);
    EXPECT_EQ(static_cast<unsigned char>((*sealed)[0]), 1);
}

TEST(SecretBox, RoundTripsAnEmptySecret)
{
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(), "totp:42");
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->size(), SecretBox::overhead);
    const auto opened = box.open_sealed(*sealed, "totp:42");
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_TRUE(opened->empty());
}

TEST(SecretBox, RoundTripsALargeBinarySecret)
{
    std::string big(100000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>(i * 7 + 3);
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(big), "oidc:signing-key");
    ASSERT_TRUE(sealed);
    const auto opened = box.open_sealed(*sealed, "oidc:signing-key");
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->view(), big);
}

TEST(SecretBox, UsesAFreshNonceForEverySeal)
{
    const auto box = make_box();
    const auto a = box.seal(core::Secret(totp_secret), "totp:42");
    const auto b = box.seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_NE(*a, *b);
    EXPECT_NE(a->substr(1, 12), b->substr(1, 12));
}

TEST(SecretBox, RejectsAChangeToAnySingleByte)
{
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed);
    // Covers the version byte, every nonce byte, every ciphertext byte and every tag byte.
    for (std::size_t i = 0; i < sealed->size(); ++i) {
        for (const int flip : {0x01, 0x80, 0xff}) {
            std::string bad = *sealed;
            bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ flip);
            const auto opened = box.open_sealed(bad, "totp:42");
            ASSERT_FALSE(opened) << "byte " << i << " flip " << flip;
            EXPECT_TRUE(opened.error().is(Errc::crypto_failed)) << opened.error().message;
        }
    }
}

TEST(SecretBox, RejectsAnotherContext)
{
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed);
    for (const char* other : {"totp:43", "totp:4", "totp:420", "", "oidc:42"}) {
        const auto opened = box.open_sealed(*sealed, other);
        ASSERT_FALSE(opened) << other;
        EXPECT_TRUE(opened.error().is(Errc::crypto_failed));
    }
}

TEST(SecretBox, RejectsAnotherKey)
{
    const auto sealed = make_box('a').seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed);
    const auto opened = make_box('b').open_sealed(*sealed, "totp:42");
    ASSERT_FALSE(opened);
    EXPECT_TRUE(opened.error().is(Errc::crypto_failed));
}

TEST(SecretBox, RejectsTruncatedOrExtendedInput)
{
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed);
    for (std::size_t n = 0; n < sealed->size(); ++n) {
        const auto opened = box.open_sealed(sealed->substr(0, n), "totp:42");
        ASSERT_FALSE(opened) << "length " << n;
        EXPECT_TRUE(opened.error().is(Errc::crypto_failed));
    }
    const auto longer = box.open_sealed(*sealed + '\0', "totp:42");
    ASSERT_FALSE(longer);
    EXPECT_TRUE(longer.error().is(Errc::crypto_failed));
}

TEST(SecretBox, RejectsAKeyOfTheWrongSize)
{
    for (const std::size_t n : {0, 16, 31, 33, 64}) {
        const auto box = SecretBox::from_key(core::Secret(std::string(n, 'k')));
        ASSERT_FALSE(box) << n;
        EXPECT_TRUE(box.error().is(Errc::invalid_argument));
    }
}

TEST(SecretBox, ErrorMessagesNeverHoldTheSecret)
{
    const auto box = make_box();
    const auto sealed = box.seal(core::Secret(totp_secret), "totp:42");
    ASSERT_TRUE(sealed);
    std::string bad = *sealed;
    bad.back() = static_cast<char>(bad.back() ^ 1);
    const auto opened = box.open_sealed(bad, "totp:42");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().message.find(totp_secret), std::string::npos);
}

TEST(SecretBoxKeyFile, IsCreatedWithMode0600AndReused)
{
    const TempDir dir;
    const std::string path = dir.file("secret.key");
    const auto first = SecretBox::open(path);
    ASSERT_TRUE(first) << first.error().message;

    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_size, 32);

    const auto second = SecretBox::open(path);
    ASSERT_TRUE(second) << second.error().message;
    const auto sealed = first->seal(core::Secret(totp_secret), "totp:7");
    ASSERT_TRUE(sealed);
    const auto opened = second->open_sealed(*sealed, "totp:7");
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->view(), totp_secret);

    // Exactly one file: the temporary was renamed, not left behind.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                            std::filesystem::directory_iterator()),
              1);
}

TEST(SecretBoxKeyFile, CreatesADifferentKeyEachTime)
{
    const TempDir dir;
    const auto a = SecretBox::open(dir.file("a.key"));
    const auto b = SecretBox::open(dir.file("b.key"));
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    const auto sealed = a->seal(core::Secret(totp_secret), "totp:7");
    ASSERT_TRUE(sealed);
    EXPECT_FALSE(b->open_sealed(*sealed, "totp:7"));
}

TEST(SecretBoxKeyFile, UsesAnExistingKeyFile)
{
    const TempDir dir;
    const std::string path = dir.file("secret.key");
    write_file(path, std::string(32, 'k'), 0600);
    const auto from_file = SecretBox::open(path);
    ASSERT_TRUE(from_file) << from_file.error().message;
    const auto sealed = make_box('k').seal(core::Secret(totp_secret), "totp:7");
    ASSERT_TRUE(sealed);
    const auto opened = from_file->open_sealed(*sealed, "totp:7");
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->view(), totp_secret);
}

TEST(SecretBoxKeyFile, RefusesAFileOthersCanRead)
{
    const TempDir dir;
    const std::string path = dir.file("secret.key");
    write_file(path, std::string(32, 'k'), 0644);
    const auto box = SecretBox::open(path);
    ASSERT_FALSE(box);
    EXPECT_TRUE(box.error().is(Errc::config_invalid));
    EXPECT_NE(box.error().message.find("chmod 600 " + path), std::string::npos)
        << box.error().message;
    EXPECT_EQ(box.error().message.find(std::string(32, 'k')), std::string::npos);
}

TEST(SecretBoxKeyFile, RefusesAFileTheGroupCanWrite)
{
    const TempDir dir;
    const std::string path = dir.file("secret.key");
    write_file(path, std::string(32, 'k'), 0620);
    const auto box = SecretBox::open(path);
    ASSERT_FALSE(box);
    EXPECT_TRUE(box.error().is(Errc::config_invalid));
    EXPECT_NE(box.error().message.find("chmod 600"), std::string::npos);
}

TEST(SecretBoxKeyFile, RefusesAFileOfTheWrongSize)
{
    const TempDir dir;
    for (const std::size_t n : {0, 31, 33}) {
        const std::string path = dir.file("key" + std::to_string(n));
        write_file(path, std::string(n, 'k'), 0600);
        const auto box = SecretBox::open(path);
        ASSERT_FALSE(box) << n;
        EXPECT_TRUE(box.error().is(Errc::config_invalid));
        EXPECT_NE(box.error().message.find(path), std::string::npos);
    }
}

TEST(SecretBoxKeyFile, RefusesADirectory)
{
    const TempDir dir;
    const std::string path = dir.file("secret.key");
    ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
    const auto box = SecretBox::open(path);
    ASSERT_FALSE(box);
    EXPECT_TRUE(box.error().is(Errc::config_invalid));
    EXPECT_NE(box.error().message.find(path), std::string::npos);
}

TEST(SecretBoxKeyFile, RefusesAFifo)
{
    const TempDir dir;
    const std::string path = dir.file("secret.key");
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const auto box = SecretBox::open(path); // must not block
    ASSERT_FALSE(box);
    EXPECT_TRUE(box.error().is(Errc::config_invalid));
}

TEST(SecretBoxKeyFile, NeedsTheParentDirectory)
{
    const TempDir dir;
    const std::string path = dir.file("missing/secret.key");
    const auto box = SecretBox::open(path);
    ASSERT_FALSE(box);
    EXPECT_TRUE(box.error().is(Errc::config_invalid));
    EXPECT_NE(box.error().message.find(dir.file("missing")), std::string::npos)
        << box.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir.file("missing")));
}

} // namespace
} // namespace latchkey::credentials
