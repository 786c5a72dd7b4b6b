// SPDX-License-Identifier: Apache-2.0
// pam::Handle: items, module data, environment and log over a pam_handle_t.
#include "pam_module/handle.hpp"

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <cstdlib>
#include <cstring>

#include "pam_module/to_pam.hpp"

namespace latchkey::pam {

namespace {

core::Unexpected failed(pam_handle_t* h, const char* call, int code)
{
    return core::fail(
        pam_code_error(code, std::string(call) + " failed: " + pam_strerror(h, code)));
}

/// pam_set_data's cleanup: the value is a strdup()ed string.
void free_data(pam_handle_t* /*h*/, void* data, int /*error_status*/)
{
    std::free(data); // NOLINT(cppcoreguidelines-no-malloc): allocated by strdup
}

/// A NUL-terminated copy of `s` for libpam that is wiped when it goes.
class CSecret {
public:
    explicit CSecret(std::string_view s)
    {
        buf_.reserve(s.size() + 1); // no reallocation, so no copy left behind
        buf_.assign(s);
    }

    CSecret(const CSecret&) = delete;
    CSecret& operator=(const CSecret&) = delete;

    ~CSecret() { core::wipe(buf_.data(), buf_.capacity()); }

    [[nodiscard]] const char* c_str() const noexcept { return buf_.c_str(); }

private:
    std::string buf_;
};

} // namespace

core::Result<std::string> Handle::user()
{
    const char* name = nullptr;
    const int r = pam_get_user(handle_, &name, nullptr);
    if (r != PAM_SUCCESS)
        return failed(handle_, "pam_get_user", r);
    if (name == nullptr || *name == '\0')
        return core::fail(pam_code_error(PAM_USER_UNKNOWN, "the application gave no user name"));
    return std::string(name);
}

std::optional<std::string> Handle::string_item(int type) const
{
    const void* item = nullptr;
    if (pam_get_item(handle_, type, &item) != PAM_SUCCESS || item == nullptr)
        return std::nullopt;
    const auto* s = static_cast<const char*>(item);
    if (*s == '\0')
        return std::nullopt;
    return std::string(s);
}

std::optional<std::string> Handle::service() const
{
    return string_item(PAM_SERVICE);
}

std::optional<std::string> Handle::rhost() const
{
    return string_item(PAM_RHOST);
}

std::optional<std::string> Handle::tty() const
{
    return string_item(PAM_TTY);
}

std::optional<core::Secret> Handle::secret_item(int type) const
{
    const void* item = nullptr;
    if (pam_get_item(handle_, type, &item) != PAM_SUCCESS || item == nullptr)
        return std::nullopt;
    // libpam owns (and wipes) the item; ours is a copy in a Secret.
    return core::Secret(static_cast<const char*>(item));
}

std::optional<core::Secret> Handle::authtok() const
{
    return secret_item(PAM_AUTHTOK);
}

std::optional<core::Secret> Handle::old_authtok() const
{
    return secret_item(PAM_OLDAUTHTOK);
}

core::Status Handle::set_secret_item(int type, const core::Secret& token)
{
    const CSecret copy(token.view()); // libpam copies it again (and wipes its copy at pam_end)
    const int r = pam_set_item(handle_, type, copy.c_str());
    if (r != PAM_SUCCESS)
        return failed(handle_, "pam_set_item", r);
    return {};
}

core::Status Handle::set_authtok(const core::Secret& token)
{
    return set_secret_item(PAM_AUTHTOK, token);
}

core::Status Handle::set_old_authtok(const core::Secret& token)
{
    return set_secret_item(PAM_OLDAUTHTOK, token);
}

std::optional<std::string> Handle::data(const std::string& name) const
{
    const void* value = nullptr;
    if (pam_get_data(handle_, name.c_str(), &value) != PAM_SUCCESS || value == nullptr)
        return std::nullopt;
    return std::string(static_cast<const char*>(value));
}

core::Status Handle::set_data(const std::string& name, std::string_view value)
{
    char* copy = strndup(value.data(), value.size());
    if (copy == nullptr)
        return core::fail(pam_code_error(PAM_BUF_ERR, "out of memory"));
    const int r = pam_set_data(handle_, name.c_str(), copy, free_data);
    if (r != PAM_SUCCESS) {
        std::free(copy); // NOLINT(cppcoreguidelines-no-malloc)
        return failed(handle_, "pam_set_data", r);
    }
    return {};
}

std::optional<std::string> Handle::getenv(const std::string& name) const
{
    const char* value = pam_getenv(handle_, name.c_str());
    if (value == nullptr)
        return std::nullopt;
    return std::string(value);
}

core::Status Handle::putenv(const std::string& name, std::string_view value)
{
    const std::string assignment = name + "=" + std::string(value);
    const int r = pam_putenv(handle_, assignment.c_str());
    if (r != PAM_SUCCESS)
        return failed(handle_, "pam_putenv", r);
    return {};
}

core::Status Handle::unset_env(const std::string& name)
{
    // "NAME" without '=' removes it; PAM_BAD_ITEM only says it was not set.
    const int r = pam_putenv(handle_, name.c_str());
    if (r != PAM_SUCCESS && r != PAM_BAD_ITEM)
        return failed(handle_, "pam_putenv", r);
    return {};
}

void Handle::log(int priority, std::string_view message)
{
    const std::string line(message);
    pam_syslog(handle_, priority, "%s", line.c_str());
}

} // namespace latchkey::pam
