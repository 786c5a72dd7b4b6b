// SPDX-License-Identifier: Apache-2.0
// The built libnss_latchkey.so.2 as glibc sees it: it exports the NSS functions and nothing
// else, needs no library beyond libstdc++ and libc, and answers through its entry points
// (root and uid 0 are never its to answer).
#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/elf_dynamic.hpp"

#ifndef LATCHKEY_NSS_MODULE
#error "LATCHKEY_NSS_MODULE must name the built libnss_latchkey.so.2"
#endif

namespace latchkey {
namespace {

const std::set<std::string> entry_points = {
    "_nss_latchkey_getpwnam_r", "_nss_latchkey_getpwuid_r", "_nss_latchkey_getgrnam_r",
    "_nss_latchkey_getgrgid_r", "_nss_latchkey_initgroups_dyn",
};

TEST(NssExports, ExportsOnlyTheNssFunctions)
{
    const auto info = test_support::read_dynamic(LATCHKEY_NSS_MODULE);
    EXPECT_EQ(info.defined, entry_points) << "nss_latchkey.sym must hide everything else";
}

TEST(NssExports, NeedsOnlyLibstdcxxAndLibc)
{
    // Loaded into every program that resolves a user name: no Boost runtime, sqlite, OpenSSL.
    const std::set<std::string> allowed = {"libstdc++.so.6", "libgcc_s.so.1", "libm.so.6",
                                           "libc.so.6"};
    const auto info = test_support::read_dynamic(LATCHKEY_NSS_MODULE);
    EXPECT_FALSE(info.needed.empty());
    for (const auto& lib : info.needed) {
        const bool sanitizer = lib.starts_with("libasan") || lib.starts_with("libubsan");
        EXPECT_TRUE(allowed.contains(lib) || sanitizer) << "libnss_latchkey.so.2 needs " << lib;
    }
}

TEST(NssExports, NeverAnswersForRootThroughItsEntryPoints)
{
    void* module = dlopen(LATCHKEY_NSS_MODULE, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(module, nullptr) << dlerror();
    for (const auto& name : entry_points)
        EXPECT_NE(dlsym(module, name.c_str()), nullptr) << name;
    using ByName = nss_status (*)(const char*, passwd*, char*, size_t, int*);
    using ByUid = nss_status (*)(uid_t, passwd*, char*, size_t, int*);
    using GroupByGid = nss_status (*)(gid_t, group*, char*, size_t, int*);
    const auto by_name = reinterpret_cast<ByName>(dlsym(module, "_nss_latchkey_getpwnam_r"));
    const auto by_uid = reinterpret_cast<ByUid>(dlsym(module, "_nss_latchkey_getpwuid_r"));
    const auto group_by_gid = reinterpret_cast<GroupByGid>(dlsym(module, "_nss_latchkey_getgrgid_r"));
    std::vector<char> buf(1024);
    passwd pw{};
    group gr{};
    int err = 0;
    EXPECT_EQ(by_name("root", &pw, buf.data(), buf.size(), &err), NSS_STATUS_NOTFOUND);
    EXPECT_EQ(err, ENOENT);
    err = 0;
    EXPECT_EQ(by_uid(0, &pw, buf.data(), buf.size(), &err), NSS_STATUS_NOTFOUND);
    EXPECT_EQ(err, ENOENT);
    EXPECT_EQ(by_uid(999, &pw, buf.data(), buf.size(), &err), NSS_STATUS_NOTFOUND);
    EXPECT_EQ(group_by_gid(0, &gr, buf.data(), buf.size(), &err), NSS_STATUS_NOTFOUND);
    dlclose(module);
}

} // namespace
} // namespace latchkey
