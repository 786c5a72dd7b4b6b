// SPDX-License-Identifier: Apache-2.0
// Argon2id through argon2_ctx with a per-thread reusable memory buffer.
//
// Argon2id needs tens of MiB per hash. Allocating and page-faulting a fresh buffer for every
// hash costs 2-3x the hash itself, so each worker thread keeps one buffer and libargon2's
// allocate/free callbacks hand it out. libargon2 wipes the memory before "freeing" it.
#include "credentials/password_hasher.hpp"

#include <argon2.h>
#include <sys/mman.h>

#include <cstring>

#include "core/random.hpp"
#include "credentials/phc.hpp"

namespace latchkey::credentials {

namespace {

constexpr std::size_t salt_len = 16;
constexpr std::size_t hash_len = 32;

/// One mapping per thread, grown when a larger memory cost is asked for.
struct ThreadBuffer {
    void* base = nullptr;
    std::size_t size = 0;

    ThreadBuffer() = default;
    ThreadBuffer(const ThreadBuffer&) = delete;
    ThreadBuffer& operator=(const ThreadBuffer&) = delete;

    ~ThreadBuffer()
    {
        if (base != nullptr)
            ::munmap(base, size);
    }

    std::uint8_t* get(std::size_t n)
    {
        if (n > size) {
            if (base != nullptr)
                ::munmap(base, size);
            base = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (base == MAP_FAILED) {
                base = nullptr;
                size = 0;
                return nullptr;
            }
            size = n;
            ::madvise(base, size, MADV_DONTDUMP); // password-derived data stays out of cores
        }
        return static_cast<std::uint8_t*>(base);
    }
};

thread_local ThreadBuffer buffer;

int allocate(std::uint8_t** memory, std::size_t bytes)
{
    *memory = buffer.get(bytes);
    return *memory == nullptr ? ARGON2_MEMORY_ALLOCATION_ERROR : ARGON2_OK;
}

void deallocate(std::uint8_t*, std::size_t) {}

core::Result<std::string> compute(const core::Secret& password, std::string_view salt,
                                  std::size_t out_len, const Argon2Params& p)
{
    std::string out(out_len, '\0');
    std::string salt_copy(salt);
    argon2_context ctx{};
    ctx.out = reinterpret_cast<std::uint8_t*>(out.data());
    ctx.outlen = static_cast<std::uint32_t>(out.size());
    // libargon2 does not write through pwd unless ARGON2_FLAG_CLEAR_PASSWORD is set.
    ctx.pwd = reinterpret_cast<std::uint8_t*>(const_cast<char*>(password.view().data()));
    ctx.pwdlen = static_cast<std::uint32_t>(password.size());
    ctx.salt = reinterpret_cast<std::uint8_t*>(salt_copy.data());
    ctx.saltlen = static_cast<std::uint32_t>(salt_copy.size());
    ctx.t_cost = p.iterations;
    ctx.m_cost = p.memory_kib;
    ctx.lanes = p.parallelism;
    ctx.threads = p.parallelism;
    ctx.version = ARGON2_VERSION_13;
    ctx.allocate_cbk = allocate;
    ctx.free_cbk = deallocate;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    const int rc = argon2_ctx(&ctx, Argon2_id);
    if (rc != ARGON2_OK)
        return core::fail(core::Errc::crypto_failed,
                          std::string("argon2id failed: ") + argon2_error_message(rc));
    return out;
}

} // namespace

PasswordHasher::PasswordHasher(Argon2Params params)
    : params_(params)
{
    set_params(params);
}

Argon2Params PasswordHasher::params() const
{
    const std::lock_guard lock(mutex_);
    return params_;
}

void PasswordHasher::set_params(Argon2Params params)
{
    // The dummy hash is made at the new parameters so that burn() keeps costing what a real
    // verification costs.
    PhcHash h;
    h.memory_kib = params.memory_kib;
    h.iterations = params.iterations;
    h.parallelism = params.parallelism;
    h.salt = core::random_string(salt_len);
    h.hash = core::random_string(hash_len);
    const std::lock_guard lock(mutex_);
    params_ = params;
    dummy_ = format_phc(h);
}

core::Result<std::string> PasswordHasher::hash(const core::Secret& password) const
{
    const Argon2Params p = params();
    PhcHash h;
    h.memory_kib = p.memory_kib;
    h.iterations = p.iterations;
    h.parallelism = p.parallelism;
    h.salt = core::random_string(salt_len);
    ++computations_;
    LATCHKEY_TRY(raw, compute(password, h.salt, hash_len, p));
    h.hash = std::move(raw);
    return format_phc(h);
}

core::Result<bool> PasswordHasher::verify(std::string_view phc, const core::Secret& password) const
{
    LATCHKEY_TRY(h, parse_phc(phc));
    const Argon2Params p{h.memory_kib, h.iterations, h.parallelism};
    ++computations_;
    LATCHKEY_TRY(raw, compute(password, h.salt, h.hash.size(), p));
    const bool match = core::constant_time_equal(raw, h.hash);
    core::wipe(raw.data(), raw.size());
    return match;
}

bool PasswordHasher::needs_rehash(std::string_view phc) const
{
    const auto h = parse_phc(phc);
    if (!h)
        return true;
    const Argon2Params p = params();
    return h->memory_kib != p.memory_kib || h->iterations != p.iterations ||
           h->parallelism != p.parallelism || h->hash.size() != hash_len;
}

void PasswordHasher::burn(const core::Secret& password) const
{
    std::string dummy;
    {
        const std::lock_guard lock(mutex_);
        dummy = dummy_;
    }
    (void)verify(dummy, password);
}

} // namespace latchkey::credentials
