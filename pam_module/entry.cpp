// SPDX-License-Identifier: Apache-2.0
// The six PAM entry points: the only symbols pam_latchkey.so exports (pam_latchkey.sym).
// Each builds the hook's parts, runs it, and lets no exception cross into the C caller.
// Not <security/pam_modules.h>: its prototypes lack noexcept, which clang then refuses.
#include <security/pam_appl.h>

#include <new>

#include "pam_module/conversation.hpp"
#include "pam_module/dialogue.hpp"
#include "pam_module/handle.hpp"
#include "pam_module/options.hpp"

#define LATCHKEY_PAM_EXPORT extern "C" __attribute__((visibility("default")))

// The module interface of pam_modules(3), declared here with the noexcept the definitions carry.
LATCHKEY_PAM_EXPORT int pam_sm_authenticate(pam_handle_t*, int, int, const char**) noexcept;
LATCHKEY_PAM_EXPORT int pam_sm_setcred(pam_handle_t*, int, int, const char**) noexcept;
LATCHKEY_PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t*, int, int, const char**) noexcept;
LATCHKEY_PAM_EXPORT int pam_sm_chauthtok(pam_handle_t*, int, int, const char**) noexcept;
LATCHKEY_PAM_EXPORT int pam_sm_open_session(pam_handle_t*, int, int, const char**) noexcept;
LATCHKEY_PAM_EXPORT int pam_sm_close_session(pam_handle_t*, int, int, const char**) noexcept;

namespace pam = latchkey::pam;

namespace {

/// Runs one hook with the real libpam, conversation and socket.
template <class Hook>
int run(pam_handle_t* h, int flags, int argc, const char** argv, Hook hook)
{
    pam::Handle handle{h};
    const pam::Options options = pam::parse_options(handle, argc, argv);
    pam::Conversation person{h};
    pam::SocketChannel daemon{options};
    latchkey::proto::HelperKeys keys{options.fido_helper, options.security_key};
    return hook(pam::Call{options, flags, handle, person, daemon, &keys});
}

} // namespace

LATCHKEY_PAM_EXPORT int pam_sm_authenticate(pam_handle_t* h,
                                            int flags,
                                            int argc,
                                            const char** argv) noexcept
try {
    return run(h, flags, argc, argv, pam::authenticate);
} catch (const std::bad_alloc&) {
    return PAM_BUF_ERR;
} catch (...) {
    return PAM_SERVICE_ERR;
}

// latchkey issues no credentials (no tickets, no keys): nothing to establish or delete.
LATCHKEY_PAM_EXPORT int pam_sm_setcred(pam_handle_t* /*h*/,
                                       int /*flags*/,
                                       int /*argc*/,
                                       const char** /*argv*/) noexcept
try {
    return PAM_SUCCESS;
} catch (const std::bad_alloc&) {
    return PAM_BUF_ERR;
} catch (...) {
    return PAM_SERVICE_ERR;
}

LATCHKEY_PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t* h,
                                         int flags,
                                         int argc,
                                         const char** argv) noexcept
try {
    return run(h, flags, argc, argv, pam::check_account);
} catch (const std::bad_alloc&) {
    return PAM_BUF_ERR;
} catch (...) {
    return PAM_SERVICE_ERR;
}

LATCHKEY_PAM_EXPORT int pam_sm_chauthtok(pam_handle_t* h,
                                         int flags,
                                         int argc,
                                         const char** argv) noexcept
try {
    return run(h, flags, argc, argv, pam::change_authtok);
} catch (const std::bad_alloc&) {
    return PAM_BUF_ERR;
} catch (...) {
    return PAM_SERVICE_ERR;
}

LATCHKEY_PAM_EXPORT int pam_sm_open_session(pam_handle_t* h,
                                            int flags,
                                            int argc,
                                            const char** argv) noexcept
try {
    return run(h, flags, argc, argv, pam::open_session);
} catch (const std::bad_alloc&) {
    return PAM_BUF_ERR;
} catch (...) {
    return PAM_SERVICE_ERR;
}

LATCHKEY_PAM_EXPORT int pam_sm_close_session(pam_handle_t* h,
                                             int flags,
                                             int argc,
                                             const char** argv) noexcept
try {
    return run(h, flags, argc, argv, pam::close_session);
} catch (const std::bad_alloc&) {
    return PAM_BUF_ERR;
} catch (...) {
    return PAM_SERVICE_ERR;
}
