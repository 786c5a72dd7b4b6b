// SPDX-License-Identifier: Apache-2.0
// Result<T>: the subset of std::expected<T, core::Error> that latchkey uses.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.hpp"

namespace latchkey::core {

/// Wraps an Error so that `return fail(...)` converts to any Result<T>.
struct Unexpected {
    Error error;
};

inline Unexpected fail(Errc e, std::string message)
{
    return Unexpected{Error{e, std::move(message)}};
}

inline Unexpected fail(Error e)
{
    return Unexpected{std::move(e)};
}

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;

    template <class U = T>
        requires std::is_constructible_v<T, U&&>
    Result(U&& v) // NOLINT(google-explicit-constructor): mirrors std::expected
        : v_(std::in_place_index<0>, std::forward<U>(v))
    {
    }

    Result(Unexpected u) // NOLINT(google-explicit-constructor)
        : v_(std::in_place_index<1>, std::move(u.error))
    {
    }

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }

    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { return std::get<0>(v_); }

    const T& value() const& { return std::get<0>(v_); }

    /// By value: `for (auto& x : f().value())` must not iterate a destroyed temporary.
    T value() && { return std::get<0>(std::move(v_)); }

    T& operator*() & { return value(); }

    const T& operator*() const& { return value(); }

    T operator*() && { return std::move(*this).value(); }

    T* operator->() { return &value(); }

    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }

    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;

    Result() = default;

    Result(Unexpected u) // NOLINT(google-explicit-constructor)
        : error_(std::move(u.error))
        , failed_(true)
    {
    }

    [[nodiscard]] bool has_value() const noexcept { return !failed_; }

    explicit operator bool() const noexcept { return has_value(); }

    const Error& error() const& { return error_; }

    Error&& error() && { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

using Status = Result<void>;

} // namespace latchkey::core

/// Propagates a failed Result from the enclosing function; yields the value otherwise.
#define LATCHKEY_TRY(var, expr)                                                                    \
    auto var##_result_ = (expr);                                                                   \
    if (!var##_result_)                                                                            \
        return ::latchkey::core::Unexpected{std::move(var##_result_).error()};                     \
    auto var = std::move(var##_result_).value()

#define LATCHKEY_TRY_STATUS(expr)                                                                  \
    do {                                                                                           \
        auto status_ = (expr);                                                                     \
        if (!status_)                                                                              \
            return ::latchkey::core::Unexpected{std::move(status_).error()};                       \
    } while (false)
