// SPDX-License-Identifier: Apache-2.0
// Opening a security key, and naming what went wrong with it.
#include "hostkey/device.hpp"

#include <array>

#include "hostkey/ctap_socket.hpp"

namespace latchkey::hostkey {

namespace {

Problem problem_of_rc(int rc) noexcept
{
    switch (rc) {
    case FIDO_ERR_USER_ACTION_TIMEOUT:
    case FIDO_ERR_ACTION_TIMEOUT:
    case FIDO_ERR_USER_ACTION_PENDING: return Problem::timeout;
    case FIDO_ERR_TX:
    case FIDO_ERR_RX:
    case FIDO_ERR_RX_NOT_CBOR:
    case FIDO_ERR_RX_INVALID_CBOR: return Problem::removed;
    case FIDO_ERR_PIN_REQUIRED:
    case FIDO_ERR_UV_BLOCKED: return Problem::pin_required;
    case FIDO_ERR_PIN_INVALID:
    case FIDO_ERR_PIN_AUTH_INVALID: return Problem::pin_invalid;
    case FIDO_ERR_PIN_BLOCKED:
    case FIDO_ERR_PIN_AUTH_BLOCKED: return Problem::pin_blocked;
    case FIDO_ERR_NO_CREDENTIALS: return Problem::no_credentials;
    case FIDO_ERR_UNSUPPORTED_OPTION:
    case FIDO_ERR_UNSUPPORTED_ALGORITHM: return Problem::not_supported;
    default: return Problem::failed;
    }
}

} // namespace

Problem problem_of(const core::Error& e) noexcept
{
    if (e.code.category() != proto::key_problem_category())
        return Problem::failed;
    return static_cast<Problem>(e.code.value());
}

core::Unexpected fido_failure(int rc, std::string_view doing)
{
    const Problem p = problem_of_rc(rc);
    return core::fail(core::Error{p, std::string(doing) + ": " + fido_strerr(rc)});
}

core::Result<Device> Device::open(std::string_view where)
{
    static const bool initialised = (fido_init(0), true);
    (void)initialised;
    fido_dev_t* raw = fido_dev_new();
    if (raw == nullptr)
        return core::fail(core::Errc::internal, "out of memory");
    Device dev(raw);
    if (where.starts_with("unix:")) {
        const std::string path(where.substr(5));
        if (fido_dev_set_io_functions(raw, &socket_io()) != FIDO_OK ||
            fido_dev_set_transport_functions(raw, &socket_transport()) != FIDO_OK)
            return core::fail(core::Errc::internal, "libfido2 refused the socket transport");
        if (const int rc = fido_dev_open(raw, path.c_str()); rc != FIDO_OK)
            return core::fail(core::Error{Problem::no_device, "no security key answers at " + path +
                                                                  ": " + fido_strerr(rc)});
        return dev;
    }
    if (!where.empty() && where != "usb")
        return core::fail(core::Errc::invalid_argument,
                          "a security key is at \"usb\" or \"unix:PATH\", not \"" +
                              std::string(where) + "\"");
    constexpr std::size_t most = 16;

    struct FreeList {
        void operator()(fido_dev_info_t* l) const noexcept { fido_dev_info_free(&l, most); }
    };

    const std::unique_ptr<fido_dev_info_t, FreeList> list(fido_dev_info_new(most));
    if (!list)
        return core::fail(core::Errc::internal, "out of memory");
    std::size_t found = 0;
    const int rc = fido_dev_info_manifest(list.get(), most, &found);
    std::string path;
    for (std::size_t i = 0; rc == FIDO_OK && i < found && path.empty(); ++i)
        if (const char* p = fido_dev_info_path(fido_dev_info_ptr(list.get(), i)))
            path = p;
    if (path.empty())
        return core::fail(core::Error{Problem::no_device, "no security key is plugged in"});
    if (const int open_rc = fido_dev_open(raw, path.c_str()); open_rc != FIDO_OK)
        return fido_failure(open_rc, "opening the security key");
    return dev;
}

} // namespace latchkey::hostkey
