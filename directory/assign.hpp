// SPDX-License-Identifier: Apache-2.0
// `key=value` assignments onto described structs, for `policy set` and `settings set`.
#pragma once

#include <charconv>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/describe.hpp>
#include <boost/mp11/algorithm.hpp>

#include "core/result.hpp"

namespace latchkey::directory {

namespace detail {

inline core::Status parse_value(std::string_view key, std::string_view text, bool& out)
{
    if (text == "true" || text == "yes" || text == "on" || text == "1")
        out = true;
    else if (text == "false" || text == "no" || text == "off" || text == "0")
        out = false;
    else
        return core::fail(core::Errc::invalid_argument,
                          std::string(key) + " must be true or false");
    return {};
}

inline core::Status parse_value(std::string_view key, std::string_view text, std::uint32_t& out)
{
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
        return core::fail(core::Errc::invalid_argument,
                          std::string(key) + " must be a whole number");
    return {};
}

/// A comma-separated list; the empty string is the empty list.
inline core::Status parse_value(std::string_view, std::string_view text,
                                std::vector<std::string>& out)
{
    out.clear();
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(',', start);
        if (end == std::string_view::npos)
            end = text.size();
        auto item = text.substr(start, end - start);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (!item.empty())
            out.emplace_back(item);
        start = end + 1;
    }
    return {};
}

/// One of a described enum's names.
template <class E, class = std::enable_if_t<std::is_enum_v<E>>>
core::Status parse_value(std::string_view key, std::string_view text, E& out)
{
    bool found = false;
    std::string names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto e) {
        names += names.empty() ? "" : ", ";
        names += e.name;
        if (!found && text == e.name) {
            out = e.value;
            found = true;
        }
    });
    if (!found)
        return core::fail(core::Errc::invalid_argument,
                          std::string(key) + " must be one of " + names);
    return {};
}

} // namespace detail

/// Sets the member of `target` named `key` from its text form. Unknown keys are an error that
/// lists the known ones.
template <class T>
core::Status assign(T& target, std::string_view key, std::string_view value)
{
    core::Status status = core::fail(core::Errc::invalid_argument, "");
    bool found = false;
    std::string known;
    using Ds = boost::describe::describe_members<T, boost::describe::mod_public>;
    boost::mp11::mp_for_each<Ds>([&](auto d) {
        known += known.empty() ? "" : ", ";
        known += d.name;
        if (found || key != d.name)
            return;
        found = true;
        status = detail::parse_value(key, value, target.*d.pointer);
    });
    if (!found)
        return core::fail(core::Errc::invalid_argument,
                          "unknown key '" + std::string(key) + "'; known keys: " + known);
    return status;
}

} // namespace latchkey::directory
