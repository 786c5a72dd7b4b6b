// SPDX-License-Identifier: Apache-2.0
// The glibc NSS entry points of libnss_latchkey.so.2: the only symbols it exports
// (nss_latchkey.sym). Each copies an entry into the caller's buffer and lets no exception
// cross into the C caller. No enumeration (setpwent/getpwent): `getent passwd` without a key
// lists the host's own users only, like SSSD's default.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <grp.h>
#include <nss.h>
#include <pwd.h>

#include "nss_module/lookup.hpp"

#define LATCHKEY_NSS_EXPORT extern "C" __attribute__((visibility("default")))

LATCHKEY_NSS_EXPORT nss_status
_nss_latchkey_getpwnam_r(const char*, struct passwd*, char*, size_t, int*) noexcept;
LATCHKEY_NSS_EXPORT nss_status
_nss_latchkey_getpwuid_r(uid_t, struct passwd*, char*, size_t, int*) noexcept;
LATCHKEY_NSS_EXPORT nss_status
_nss_latchkey_getgrnam_r(const char*, struct group*, char*, size_t, int*) noexcept;
LATCHKEY_NSS_EXPORT nss_status
_nss_latchkey_getgrgid_r(gid_t, struct group*, char*, size_t, int*) noexcept;
LATCHKEY_NSS_EXPORT nss_status _nss_latchkey_initgroups_dyn(
    const char*, gid_t, long int*, long int*, gid_t**, long int, int*) noexcept;

namespace {

namespace nss = latchkey::nss;
namespace proto = latchkey::proto;

/// Hands out pieces of the caller's buffer; runs out rather than overflows.
class Arena {
public:
    Arena(char* buffer, size_t size)
        : at_(buffer)
        , left_(size)
    {
    }

    char* copy(const std::string& s)
    {
        if (s.size() + 1 > left_)
            return nullptr;
        char* out = at_;
        std::memcpy(out, s.c_str(), s.size() + 1);
        at_ += s.size() + 1;
        left_ -= s.size() + 1;
        return out;
    }

    /// Room for `n` pointers, aligned for them.
    char** pointers(size_t n)
    {
        const auto misalign = reinterpret_cast<uintptr_t>(at_) % alignof(char*);
        const size_t pad = misalign == 0 ? 0 : alignof(char*) - misalign;
        if (pad + n * sizeof(char*) > left_)
            return nullptr;
        at_ += pad;
        left_ -= pad;
        auto** out = reinterpret_cast<char**>(at_);
        at_ += n * sizeof(char*);
        left_ -= n * sizeof(char*);
        return out;
    }

private:
    char* at_;
    size_t left_;
};

/// What glibc expects beside each status: ENOENT for not found and unavailable (no such entry,
/// no source), ERANGE for a buffer too small (glibc calls again with a larger one), EAGAIN for
/// a passing failure.
nss_status status_of(nss::Status s, int* errnop)
{
    switch (s) {
    case nss::Status::success: return NSS_STATUS_SUCCESS;
    case nss::Status::not_found: *errnop = ENOENT; return NSS_STATUS_NOTFOUND;
    case nss::Status::try_again: *errnop = EAGAIN; return NSS_STATUS_TRYAGAIN;
    case nss::Status::unavailable: break;
    }
    *errnop = ENOENT;
    return NSS_STATUS_UNAVAIL;
}

nss_status too_small(int* errnop)
{
    *errnop = ERANGE;
    return NSS_STATUS_TRYAGAIN;
}

nss_status
fill(const nss::Found<proto::NssUser>& f, struct passwd* pw, char* buffer, size_t size, int* errnop)
{
    if (f.status != nss::Status::success || !f.entry)
        return status_of(f.status == nss::Status::success ? nss::Status::not_found : f.status,
                         errnop);
    const proto::NssUser& u = *f.entry;
    Arena arena(buffer, size);
    pw->pw_name = arena.copy(u.name);
    pw->pw_passwd = arena.copy("x");
    pw->pw_gecos = arena.copy(u.gecos);
    pw->pw_dir = arena.copy(u.home);
    pw->pw_shell = arena.copy(u.shell);
    if (!pw->pw_name || !pw->pw_passwd || !pw->pw_gecos || !pw->pw_dir || !pw->pw_shell)
        return too_small(errnop);
    pw->pw_uid = u.uid;
    pw->pw_gid = u.gid;
    return NSS_STATUS_SUCCESS;
}

nss_status
fill(const nss::Found<proto::NssGroup>& f, struct group* gr, char* buffer, size_t size, int* errnop)
{
    if (f.status != nss::Status::success || !f.entry)
        return status_of(f.status == nss::Status::success ? nss::Status::not_found : f.status,
                         errnop);
    const proto::NssGroup& g = *f.entry;
    Arena arena(buffer, size);
    char** members = arena.pointers(g.members.size() + 1);
    if (!members)
        return too_small(errnop);
    for (size_t i = 0; i < g.members.size(); ++i)
        if (!(members[i] = arena.copy(g.members[i])))
            return too_small(errnop);
    members[g.members.size()] = nullptr;
    gr->gr_name = arena.copy(g.name);
    gr->gr_passwd = arena.copy("x");
    if (!gr->gr_name || !gr->gr_passwd)
        return too_small(errnop);
    gr->gr_gid = g.gid;
    gr->gr_mem = members;
    return NSS_STATUS_SUCCESS;
}

/// A failure inside the module (out of memory, say) is "unavailable": the next source answers.
nss_status failed(int* errnop, int err)
{
    *errnop = err;
    return NSS_STATUS_UNAVAIL;
}

/// Runs one entry point's work; no exception reaches glibc's caller.
template <class Work>
nss_status guarded(int* errnop, Work work) noexcept
{
    try {
        return work();
    } catch (const std::bad_alloc&) {
        return failed(errnop, ENOMEM);
    } catch (...) {
        return failed(errnop, EIO);
    }
}

} // namespace

LATCHKEY_NSS_EXPORT nss_status _nss_latchkey_getpwnam_r(
    const char* name, struct passwd* pw, char* buffer, size_t size, int* errnop) noexcept
{
    return guarded(errnop, [&] {
        return fill(nss::user_by_name(nss::default_sources(), name), pw, buffer, size, errnop);
    });
}

LATCHKEY_NSS_EXPORT nss_status _nss_latchkey_getpwuid_r(
    uid_t uid, struct passwd* pw, char* buffer, size_t size, int* errnop) noexcept
{
    return guarded(errnop, [&] {
        return fill(nss::user_by_uid(nss::default_sources(), uid), pw, buffer, size, errnop);
    });
}

LATCHKEY_NSS_EXPORT nss_status _nss_latchkey_getgrnam_r(
    const char* name, struct group* gr, char* buffer, size_t size, int* errnop) noexcept
{
    return guarded(errnop, [&] {
        return fill(nss::group_by_name(nss::default_sources(), name), gr, buffer, size, errnop);
    });
}

LATCHKEY_NSS_EXPORT nss_status _nss_latchkey_getgrgid_r(
    gid_t gid, struct group* gr, char* buffer, size_t size, int* errnop) noexcept
{
    return guarded(errnop, [&] {
        return fill(nss::group_by_gid(nss::default_sources(), gid), gr, buffer, size, errnop);
    });
}

/// Adds the user's groups besides `group` (its primary one) to *groupsp[*start..], growing the
/// array (malloc'd by glibc) up to `limit` entries when limit > 0.
LATCHKEY_NSS_EXPORT nss_status _nss_latchkey_initgroups_dyn(const char* user,
                                                            gid_t group,
                                                            long int* start,
                                                            long int* size,
                                                            gid_t** groupsp,
                                                            long int limit,
                                                            int* errnop) noexcept
{
    return guarded(errnop, [&] {
        const auto found = nss::groups_of(nss::default_sources(), user);
        if (found.status != nss::Status::success || !found.entry)
            return status_of(found.status, errnop);
        for (const std::uint32_t gid : *found.entry) {
            if (gid == group)
                continue;
            if (*start == *size) {
                if (limit > 0 && *size >= limit)
                    break;
                long int grown = *size > 0 ? *size * 2 : 8;
                if (limit > 0 && grown > limit)
                    grown = limit;
                auto* more = static_cast<gid_t*>(
                    std::realloc(*groupsp, static_cast<size_t>(grown) * sizeof(gid_t)));
                if (more == nullptr)
                    return failed(errnop, ENOMEM);
                *groupsp = more;
                *size = grown;
            }
            (*groupsp)[(*start)++] = gid;
        }
        return NSS_STATUS_SUCCESS;
    });
}
