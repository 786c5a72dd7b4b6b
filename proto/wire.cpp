// SPDX-License-Identifier: Apache-2.0
// Encoding, decoding and framing of protocol messages.
#include "proto/wire.hpp"

#include "proto/codec.hpp"
#include "proto/security_key.hpp"

namespace latchkey::proto {

namespace {

inline constexpr std::size_t header_size = 4;

template <class Variant>
std::string encode_variant(const Variant& v, bool redact)
{
    return std::visit(
        [redact](const auto& m) {
            json::value j = to_json(m, redact);
            json::object& o = j.as_object();
            o.emplace("type", json::string_view(m.type.data(), m.type.size()));
            return json::serialize(j);
        },
        v);
}

template <class Variant, std::size_t I = 0>
core::Result<Variant> decode_as(std::string_view type, const json::value& j)
{
    if constexpr (I == std::variant_size_v<Variant>) {
        return core::fail(core::Errc::protocol_unknown_message,
                          "unknown message type '" + std::string(type.substr(0, 64)) + "'");
    } else {
        using T = std::variant_alternative_t<I, Variant>;
        if (type != T::type)
            return decode_as<Variant, I + 1>(type, j);
        T m{};
        LATCHKEY_TRY_STATUS(from_json(j, m, T::type));
        return Variant{std::in_place_index<I>, std::move(m)};
    }
}

template <class Variant>
core::Result<Variant> decode_variant(std::string_view text)
{
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    json::value j = json::parse(json::string_view(text.data(), text.size()), ec, {}, opts);
    if (ec)
        return core::fail(core::Errc::protocol_malformed, "message is not valid JSON");
    const auto* o = j.if_object();
    if (o == nullptr)
        return core::fail(core::Errc::protocol_malformed, "message is not a JSON object");
    const auto* t = o->if_contains("type");
    if (t == nullptr || !t->is_string())
        return core::fail(core::Errc::protocol_malformed, "message has no type");
    const auto& s = t->get_string();
    return decode_as<Variant>(std::string_view(s.data(), s.size()), j);
}

} // namespace

std::string encode(const Request& r)
{
    return encode_variant(r, false);
}

std::string encode(const Response& r)
{
    return encode_variant(r, false);
}

std::string to_log_string(const Request& r)
{
    return encode_variant(r, true);
}

std::string to_log_string(const Response& r)
{
    return encode_variant(r, true);
}

core::Result<Request> decode_request(std::string_view text)
{
    return decode_variant<Request>(text);
}

core::Result<Response> decode_response(std::string_view text)
{
    return decode_variant<Response>(text);
}

std::string encode(const ToKeyHelper& m)
{
    return encode_variant(m, false);
}

std::string encode(const FromKeyHelper& m)
{
    return encode_variant(m, false);
}

core::Result<ToKeyHelper> decode_to_key_helper(std::string_view text)
{
    return decode_variant<ToKeyHelper>(text);
}

core::Result<FromKeyHelper> decode_from_key_helper(std::string_view text)
{
    return decode_variant<FromKeyHelper>(text);
}

std::string_view type_name(const Request& r) noexcept
{
    return std::visit([](const auto& m) { return std::string_view(m.type); }, r);
}

std::string_view type_name(const Response& r) noexcept
{
    return std::visit([](const auto& m) { return std::string_view(m.type); }, r);
}

Response failure(const core::Error& e)
{
    Failure f;
    f.code = static_cast<std::uint16_t>(e.code.value());
    f.error = e.code.category() == core::latchkey_category()
                  ? std::string(core::errc_name(static_cast<core::Errc>(e.code.value())))
                  : e.code.message();
    f.message = e.message;
    return f;
}

core::Result<std::string> frame(std::string_view payload, std::size_t max_size)
{
    if (payload.size() > max_size)
        return core::fail(core::Errc::protocol_too_large, "message exceeds the frame size limit");
    const auto n = static_cast<std::uint32_t>(payload.size());
    std::string out;
    out.reserve(header_size + payload.size());
    out.push_back(static_cast<char>((n >> 24) & 0xff));
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
    out.append(payload);
    return out;
}

namespace {

std::uint32_t read_be32(std::string_view b) noexcept
{
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[0])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[3]));
}

} // namespace

core::Status FrameReader::check_header() const
{
    if (buffer_.size() >= header_size && read_be32(buffer_) > max_size_)
        return core::fail(core::Errc::protocol_too_large, "frame exceeds the size limit");
    return {};
}

core::Status FrameReader::feed(std::string_view bytes)
{
    // Callers read at most wanted() bytes at a time, so the buffer never holds more than one
    // frame; the header is checked before its body is read.
    buffer_.append(bytes);
    return check_header();
}

bool FrameReader::next(std::string& payload)
{
    if (buffer_.size() < header_size)
        return false;
    const std::uint32_t n = read_be32(buffer_);
    if (n > max_size_ || buffer_.size() - header_size < n)
        return false;
    payload.assign(buffer_, header_size, n);
    buffer_.erase(0, header_size + n);
    return true;
}

std::size_t FrameReader::wanted() const noexcept
{
    if (buffer_.size() < header_size)
        return header_size - buffer_.size();
    const std::uint32_t n = read_be32(buffer_);
    const std::size_t have = buffer_.size() - header_size;
    return n > have ? n - have : 1;
}

} // namespace latchkey::proto
