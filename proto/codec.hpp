// SPDX-License-Identifier: Apache-2.0
// JSON <-> C++ for described structs and enums: how every message is written and read.
//
// A message is a plain struct with BOOST_DESCRIBE_STRUCT; this file turns it into a JSON object
// and back without exceptions. Rules: std::optional members may be absent or null; every other
// member must be present with the right JSON kind; unknown keys are ignored (newer peers may
// add fields); enums travel as their enumerator names.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/describe.hpp>
#include <boost/json.hpp>
#include <boost/mp11/algorithm.hpp>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::proto {

namespace json = boost::json;

template <class T>
struct is_optional : std::false_type {};

template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};

template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

/// Whether a value's plain strings are secret too, for redaction: false unless a message type
/// says otherwise with an overload found by argument-dependent lookup (proto::Message does).
template <class T>
constexpr bool redacts_strings(const T&) noexcept
{
    return false;
}

/// `redact` writes every core::Secret as "<redacted>", and every string of a value for which
/// redacts_strings() is true (for logs).
template <class T>
json::value to_json(const T& v, bool redact = false);

template <class T>
core::Status from_json(const json::value& j, T& out, std::string_view where);

namespace detail {

inline core::Status bad(std::string_view where, std::string_view what)
{
    return core::fail(core::Errc::protocol_malformed,
                      "field '" + std::string(where) + "' " + std::string(what));
}

} // namespace detail

template <class T>
json::value to_json(const T& v, bool redact)
{
    if constexpr (std::is_same_v<T, std::string>) {
        return json::value(json::string_view(v.data(), v.size()));
    } else if constexpr (std::is_same_v<T, core::Secret>) {
        if (redact)
            return json::value("<redacted>");
        return json::value(json::string_view(v.view().data(), v.view().size()));
    } else if constexpr (std::is_same_v<T, bool>) {
        return json::value(v);
    } else if constexpr (std::is_integral_v<T>) {
        if constexpr (std::is_signed_v<T>)
            return json::value(static_cast<std::int64_t>(v));
        else
            return json::value(static_cast<std::uint64_t>(v));
    } else if constexpr (std::is_enum_v<T>) {
        static_assert(boost::describe::has_describe_enumerators<T>::value, "describe the enum");
        return json::value(boost::describe::enum_to_string(v, "unknown"));
    } else if constexpr (is_optional<T>::value) {
        return v ? to_json(*v, redact) : json::value(nullptr);
    } else if constexpr (is_vector<T>::value) {
        json::array a;
        a.reserve(v.size());
        for (const auto& e : v)
            a.push_back(to_json(e, redact));
        return a;
    } else {
        static_assert(boost::describe::has_describe_members<T>::value, "describe the struct");
        json::object o;
        const bool hide_strings = redact && redacts_strings(v);
        using Ds = boost::describe::describe_members<T, boost::describe::mod_public>;
        boost::mp11::mp_for_each<Ds>([&](auto d) {
            const auto& m = v.*d.pointer;
            if constexpr (is_optional<std::decay_t<decltype(m)>>::value) {
                if (!m)
                    return; // absent rather than null: keeps frames small
            }
            if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::string>) {
                if (hide_strings) {
                    o[d.name] = "<redacted>";
                    return;
                }
            }
            o[d.name] = to_json(m, redact);
        });
        return o;
    }
}

template <class T>
core::Status from_json(const json::value& j, T& out, std::string_view where)
{
    if constexpr (std::is_same_v<T, std::string>) {
        const auto* s = j.if_string();
        if (s == nullptr)
            return detail::bad(where, "must be a string");
        out.assign(s->data(), s->size());
    } else if constexpr (std::is_same_v<T, core::Secret>) {
        const auto* s = j.if_string();
        if (s == nullptr)
            return detail::bad(where, "must be a string");
        out = core::Secret(std::string_view(s->data(), s->size()));
    } else if constexpr (std::is_same_v<T, bool>) {
        const auto* b = j.if_bool();
        if (b == nullptr)
            return detail::bad(where, "must be true or false");
        out = *b;
    } else if constexpr (std::is_integral_v<T>) {
        if (const auto* i = j.if_int64()) {
            if constexpr (std::is_signed_v<T>) {
                if (*i < std::numeric_limits<T>::min() || *i > std::numeric_limits<T>::max())
                    return detail::bad(where, "is out of range");
            } else {
                if (*i < 0 || static_cast<std::uint64_t>(*i) > std::numeric_limits<T>::max())
                    return detail::bad(where, "is out of range");
            }
            out = static_cast<T>(*i);
        } else if (const auto* u = j.if_uint64()) {
            if (*u > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
                return detail::bad(where, "is out of range");
            out = static_cast<T>(*u);
        } else {
            return detail::bad(where, "must be an integer");
        }
    } else if constexpr (std::is_enum_v<T>) {
        const auto* s = j.if_string();
        if (s == nullptr || !boost::describe::enum_from_string(s->c_str(), out))
            return detail::bad(where, "has an unknown value");
    } else if constexpr (is_optional<T>::value) {
        if (j.is_null()) {
            out.reset();
            return {};
        }
        typename T::value_type v{};
        LATCHKEY_TRY_STATUS(from_json(j, v, where));
        out = std::move(v);
    } else if constexpr (is_vector<T>::value) {
        const auto* a = j.if_array();
        if (a == nullptr)
            return detail::bad(where, "must be a list");
        out.clear();
        out.reserve(a->size());
        for (const auto& e : *a) {
            typename T::value_type v{};
            LATCHKEY_TRY_STATUS(from_json(e, v, where));
            out.push_back(std::move(v));
        }
    } else {
        static_assert(boost::describe::has_describe_members<T>::value, "describe the struct");
        const auto* o = j.if_object();
        if (o == nullptr)
            return detail::bad(where, "must be an object");
        core::Status status;
        using Ds = boost::describe::describe_members<T, boost::describe::mod_public>;
        boost::mp11::mp_for_each<Ds>([&](auto d) {
            if (!status)
                return;
            auto& m = out.*d.pointer;
            const json::value* field = o->if_contains(d.name);
            if (field == nullptr) {
                if constexpr (is_optional<std::decay_t<decltype(m)>>::value)
                    m.reset();
                else
                    status = detail::bad(d.name, "is missing");
                return;
            }
            status = from_json(*field, m, d.name);
        });
        return status;
    }
    return {};
}

} // namespace latchkey::proto
