// SPDX-License-Identifier: Apache-2.0
// Argon2id password hashing with libargon2, stored as PHC strings.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::credentials {

/// Argon2id's cost: [password] in the config.
struct Argon2Params {
    std::uint32_t memory_kib = 64 * 1024;
    std::uint32_t iterations = 3;
    std::uint32_t parallelism = 1;
};

class PasswordHasher {
public:
    explicit PasswordHasher(Argon2Params params);

    /// Hashes with a fresh 16-byte salt at the current parameters.
    core::Result<std::string> hash(const core::Secret& password) const;

    /// Recomputes the hash at the stored parameters and compares in constant time. A malformed
    /// stored hash is an error, never a match.
    core::Result<bool> verify(std::string_view phc, const core::Secret& password) const;

    /// True when the stored hash uses other parameters than the current ones (upgrade on logon).
    bool needs_rehash(std::string_view phc) const;

    /// Spends the same time as verifying a real hash, for users that do not exist.
    void burn(const core::Secret& password) const;

    /// How many Argon2id computations this hasher has made (hash, verify and burn each make
    /// one): what a refusal costs is part of what it reveals, and tests count it.
    [[nodiscard]] std::uint64_t computations() const noexcept { return computations_.load(); }

    void set_params(Argon2Params params);
    Argon2Params params() const;

private:
    mutable std::mutex mutex_;
    Argon2Params params_;
    std::string dummy_; ///< a hash of random bytes at the current parameters, for burn()
    mutable std::atomic<std::uint64_t> computations_{0};
};

} // namespace latchkey::credentials
