// SPDX-License-Identifier: Apache-2.0
// Bounded CBOR decoding: a libcbor streaming pass that enforces the limits, then cbor_load.
#include "webauthn/cbor.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

// State of the streaming pass. `open` holds, for each container being read, how many items it
// still expects; an item that completes a container also counts against its parent.
struct Scan {
    const CborLimits* limits = nullptr;
    std::vector<std::uint64_t> open;
    std::size_t items = 0;
    std::size_t remaining = 0; // bytes after the head being decoded
    bool done = false;
    Reason failure = Reason::malformed_cbor;
    bool failed = false;
};

Scan& scan_of(void* ctx)
{
    return *static_cast<Scan*>(ctx);
}

void fail_scan(Scan& s, Reason r)
{
    if (!s.failed) {
        s.failed = true;
        s.failure = r;
    }
}

void finish_item(Scan& s)
{
    while (!s.open.empty()) {
        if (--s.open.back() > 0)
            return;
        s.open.pop_back();
    }
    s.done = true;
}

bool count_item(Scan& s)
{
    if (++s.items > s.limits->max_items) {
        fail_scan(s, Reason::too_large);
        return false;
    }
    return true;
}

void leaf(Scan& s)
{
    if (count_item(s))
        finish_item(s);
}

void start_container(Scan& s, std::uint64_t children)
{
    if (!count_item(s))
        return;
    // Every child takes at least one byte: a declared count beyond the remaining bytes is a lie
    // that would otherwise make cbor_load allocate for it.
    if (children > s.remaining || children > s.limits->max_items) {
        fail_scan(s, Reason::malformed_cbor);
        return;
    }
    if (children == 0) {
        finish_item(s);
        return;
    }
    if (s.open.size() + 1 > s.limits->max_depth) {
        fail_scan(s, Reason::too_large);
        return;
    }
    s.open.push_back(children);
}

void on_string(void* ctx, cbor_data, std::size_t len)
{
    auto& s = scan_of(ctx);
    if (len > s.limits->max_string)
        fail_scan(s, Reason::too_large);
    else
        leaf(s);
}

template <class T>
void on_value(void* ctx, T)
{
    leaf(scan_of(ctx));
}

void on_simple(void* ctx)
{
    leaf(scan_of(ctx));
}

void on_forbidden(void* ctx)
{
    fail_scan(scan_of(ctx), Reason::malformed_cbor);
}

void on_tag(void* ctx, std::uint64_t)
{
    fail_scan(scan_of(ctx), Reason::malformed_cbor);
}

void on_array(void* ctx, std::size_t n)
{
    start_container(scan_of(ctx), n);
}

void on_map(void* ctx, std::size_t n)
{
    // A map of n pairs holds 2n items.
    auto& s = scan_of(ctx);
    if (n > s.remaining / 2)
        fail_scan(s, Reason::malformed_cbor);
    else
        start_container(s, 2 * static_cast<std::uint64_t>(n));
}

cbor_callbacks make_callbacks()
{
    cbor_callbacks cb = cbor_empty_callbacks;
    cb.uint8 = on_value<std::uint8_t>;
    cb.uint16 = on_value<std::uint16_t>;
    cb.uint32 = on_value<std::uint32_t>;
    cb.uint64 = on_value<std::uint64_t>;
    cb.negint8 = on_value<std::uint8_t>;
    cb.negint16 = on_value<std::uint16_t>;
    cb.negint32 = on_value<std::uint32_t>;
    cb.negint64 = on_value<std::uint64_t>;
    cb.byte_string = on_string;
    cb.string = on_string;
    cb.byte_string_start = on_forbidden;
    cb.string_start = on_forbidden;
    cb.indef_array_start = on_forbidden;
    cb.indef_map_start = on_forbidden;
    cb.indef_break = on_forbidden;
    cb.tag = on_tag;
    cb.array_start = on_array;
    cb.map_start = on_map;
    cb.float2 = on_value<float>;
    cb.float4 = on_value<float>;
    cb.float8 = on_value<double>;
    cb.undefined = on_simple;
    cb.null = on_simple;
    cb.boolean = on_value<bool>;
    return cb;
}

const cbor_callbacks scan_callbacks = make_callbacks();

// The length of the one well-formed, bounded item at the front of `bytes`.
core::Result<std::size_t> scan(std::string_view bytes, const CborLimits& limits)
{
    Scan s;
    s.limits = &limits;
    const auto* data = reinterpret_cast<cbor_data>(bytes.data());
    std::size_t pos = 0;
    while (!s.done) {
        if (pos >= bytes.size())
            return core::fail(core::Error{Reason::malformed_cbor, "CBOR item is truncated"});
        // Counts from this head on: looser than the bytes after it by at most the head's 9.
        s.remaining = bytes.size() - pos;
        const auto r = cbor_stream_decode(data + pos, bytes.size() - pos, &scan_callbacks, &s);
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
            return core::fail(
                core::Error{Reason::malformed_cbor, "CBOR item is malformed or truncated"});
        pos += r.read;
        if (s.failed)
            return core::fail(core::Error{s.failure, s.failure == Reason::too_large
                                                         ? "CBOR item exceeds its limits"
                                                         : "CBOR item is malformed"});
    }
    return pos;
}

} // namespace

core::Result<CborItem>
decode_cbor(std::string_view bytes, const CborLimits& limits, std::size_t* consumed)
{
    if (bytes.size() > limits.max_size)
        return core::fail(core::Error{Reason::too_large, "CBOR input exceeds its size limit"});
    LATCHKEY_TRY(length, scan(bytes, limits));
    if (consumed == nullptr && length != bytes.size())
        return core::fail(
            core::Error{Reason::malformed_cbor, "trailing bytes after the CBOR item"});
    cbor_load_result result{};
    CborItem item{cbor_load(reinterpret_cast<cbor_data>(bytes.data()), length, &result)};
    if (!item || result.error.code != CBOR_ERR_NONE || result.read != length)
        return core::fail(core::Error{Reason::malformed_cbor, "CBOR item could not be decoded"});
    if (consumed != nullptr)
        *consumed = length;
    return item;
}

core::Result<std::string> encode_cbor(const cbor_item_t& item)
{
    unsigned char* buffer = nullptr;
    std::size_t capacity = 0;
    const std::size_t written = cbor_serialize_alloc(&item, &buffer, &capacity);
    const std::unique_ptr<unsigned char, core::CFree<std::free>> owned{buffer};
    if (written == 0)
        return core::fail(core::Error{Reason::internal, "CBOR item could not be encoded"});
    return std::string(reinterpret_cast<const char*>(buffer), written);
}

core::Result<std::string> encode_canonical_map(const cbor_item_t& map)
{
    auto* m = const_cast<cbor_item_t*>(&map); // libcbor's accessors take non-const pointers
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
        return core::fail(core::Error{Reason::malformed_cbor, "CBOR item is not a map"});
    const std::size_t n = cbor_map_size(m);
    const cbor_pair* pairs = cbor_map_handle(m);
    std::vector<std::pair<std::string, std::size_t>> keys;
    keys.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        LATCHKEY_TRY(encoded, encode_cbor(*pairs[i].key));
        keys.emplace_back(std::move(encoded), i);
    }
    std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
        if (a.first.size() != b.first.size())
            return a.first.size() < b.first.size();
        return a.first < b.first;
    });
    CborItem sorted{cbor_new_definite_map(n)};
    if (!sorted)
        return core::fail(core::Error{Reason::internal, "out of memory"});
    for (const auto& [encoded, i] : keys) {
        if (!cbor_map_add(sorted.get(), cbor_pair{pairs[i].key, pairs[i].value}))
            return core::fail(core::Error{Reason::internal, "out of memory"});
    }
    return encode_cbor(*sorted);
}

namespace {

bool key_equal(cbor_item_t* a, cbor_item_t* b)
{
    if (cbor_typeof(a) != cbor_typeof(b))
        return false;
    if (cbor_isa_uint(a) || cbor_isa_negint(a))
        return cbor_get_int(a) == cbor_get_int(b);
    if (auto x = as_text(a))
        return x == as_text(b);
    if (auto x = as_bytes(a))
        return x == as_bytes(b);
    return false; // other key types are never looked up, so they never shadow each other
}

} // namespace

bool has_unique_keys(const cbor_item_t& map)
{
    auto* m = const_cast<cbor_item_t*>(&map);
    if (!cbor_isa_map(m))
        return false;
    const std::size_t n = cbor_map_size(m);
    const cbor_pair* pairs = cbor_map_handle(m);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (key_equal(pairs[i].key, pairs[j].key))
                return false;
    return true;
}

const cbor_item_t* map_find(const cbor_item_t* map, std::int64_t key)
{
    auto* m = const_cast<cbor_item_t*>(map);
    if (m == nullptr || !cbor_isa_map(m))
        return nullptr;
    const cbor_pair* pairs = cbor_map_handle(m);
    for (std::size_t i = 0, n = cbor_map_size(m); i < n; ++i)
        if (as_int(pairs[i].key) == key)
            return pairs[i].value;
    return nullptr;
}

const cbor_item_t* map_find(const cbor_item_t* map, std::string_view key)
{
    auto* m = const_cast<cbor_item_t*>(map);
    if (m == nullptr || !cbor_isa_map(m))
        return nullptr;
    const cbor_pair* pairs = cbor_map_handle(m);
    for (std::size_t i = 0, n = cbor_map_size(m); i < n; ++i)
        if (as_text(pairs[i].key) == key)
            return pairs[i].value;
    return nullptr;
}

std::optional<std::int64_t> as_int(const cbor_item_t* item)
{
    auto* i = const_cast<cbor_item_t*>(item);
    if (i == nullptr)
        return std::nullopt;
    if (cbor_isa_uint(i)) {
        const std::uint64_t v = cbor_get_int(i);
        if (v > static_cast<std::uint64_t>(INT64_MAX))
            return std::nullopt;
        return static_cast<std::int64_t>(v);
    }
    if (cbor_isa_negint(i)) {
        const std::uint64_t v = cbor_get_int(i); // the value is -1 - v
        if (v > static_cast<std::uint64_t>(INT64_MAX))
            return std::nullopt;
        return -1 - static_cast<std::int64_t>(v);
    }
    return std::nullopt;
}

std::optional<std::string_view> as_bytes(const cbor_item_t* item)
{
    auto* i = const_cast<cbor_item_t*>(item);
    if (i == nullptr || !cbor_isa_bytestring(i) || !cbor_bytestring_is_definite(i))
        return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(cbor_bytestring_handle(i)),
                            cbor_bytestring_length(i));
}

std::optional<std::string_view> as_text(const cbor_item_t* item)
{
    auto* i = const_cast<cbor_item_t*>(item);
    if (i == nullptr || !cbor_isa_string(i) || !cbor_string_is_definite(i))
        return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(cbor_string_handle(i)),
                            cbor_string_length(i));
}

} // namespace latchkey::webauthn
