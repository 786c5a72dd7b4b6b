// SPDX-License-Identifier: Apache-2.0
// The PAM state a hook reads and writes (items, module data, environment, log), and
// pam::Handle, its implementation over a pam_handle_t.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

struct pam_handle; // pam_handle_t, from <security/_pam_types.h>

namespace latchkey::pam {

/// Everything a hook needs from libpam except the conversation (which is a Prompter), so the
/// dialogue can be tested against a fake. Failures of libpam calls come back as errors in
/// pam_category() (to_pam.hpp), carrying the PAM code.
class Host {
public:
    virtual ~Host() = default;

    /// pam_get_user(): PAM_USER, asking the person through the application if it is unset.
    virtual core::Result<std::string> user() = 0;

    // String items; nullopt when unset or empty.
    [[nodiscard]] virtual std::optional<std::string> service() const = 0;
    [[nodiscard]] virtual std::optional<std::string> rhost() const = 0;
    [[nodiscard]] virtual std::optional<std::string> tty() const = 0;

    /// PAM_AUTHTOK / PAM_OLDAUTHTOK as an earlier module left them; nullopt when unset.
    [[nodiscard]] virtual std::optional<core::Secret> authtok() const = 0;
    [[nodiscard]] virtual std::optional<core::Secret> old_authtok() const = 0;
    virtual core::Status set_authtok(const core::Secret& token) = 0;
    virtual core::Status set_old_authtok(const core::Secret& token) = 0;

    /// Module data (pam_get_data/pam_set_data), kept by libpam until pam_end().
    [[nodiscard]] virtual std::optional<std::string> data(const std::string& name) const = 0;
    virtual core::Status set_data(const std::string& name, std::string_view value) = 0;

    /// The PAM environment: pam_getenv(), pam_putenv("NAME=value"); unset_env() removes NAME.
    [[nodiscard]] virtual std::optional<std::string> getenv(const std::string& name) const = 0;
    virtual core::Status putenv(const std::string& name, std::string_view value) = 0;
    virtual core::Status unset_env(const std::string& name) = 0;

    /// pam_syslog(): one line, prefixed by libpam with the module, service and hook.
    virtual void log(int priority, std::string_view message) = 0;

protected:
    Host() = default;
    Host(const Host&) = default;
    Host& operator=(const Host&) = default;
};

/// A non-owning view of the pam_handle_t a hook was called with: the module never calls
/// pam_end(), and the view must not outlive the call.
class Handle final : public Host {
public:
    explicit Handle(pam_handle* handle) noexcept
        : handle_(handle)
    {
    }

    core::Result<std::string> user() override;
    [[nodiscard]] std::optional<std::string> service() const override;
    [[nodiscard]] std::optional<std::string> rhost() const override;
    [[nodiscard]] std::optional<std::string> tty() const override;
    [[nodiscard]] std::optional<core::Secret> authtok() const override;
    [[nodiscard]] std::optional<core::Secret> old_authtok() const override;
    core::Status set_authtok(const core::Secret& token) override;
    core::Status set_old_authtok(const core::Secret& token) override;
    [[nodiscard]] std::optional<std::string> data(const std::string& name) const override;
    core::Status set_data(const std::string& name, std::string_view value) override;
    [[nodiscard]] std::optional<std::string> getenv(const std::string& name) const override;
    core::Status putenv(const std::string& name, std::string_view value) override;
    core::Status unset_env(const std::string& name) override;
    void log(int priority, std::string_view message) override;

private:
    [[nodiscard]] std::optional<std::string> string_item(int type) const;
    [[nodiscard]] std::optional<core::Secret> secret_item(int type) const;
    core::Status set_secret_item(int type, const core::Secret& token);

    pam_handle* handle_;
};

} // namespace latchkey::pam
