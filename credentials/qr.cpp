// SPDX-License-Identifier: Apache-2.0
// QR codes through libqrencode, drawn as text the way `qrencode -t UTF8` draws them.
//
// The text is usually an otpauth URI, so the symbol libqrencode returns encodes a TOTP secret:
// its module buffer is wiped before it is freed, and so is our NUL-terminated copy of the text.
// libqrencode frees its own intermediate copies (input list, bit stream) without wiping them;
// nothing outside the library can reach those.
#include "credentials/qr.hpp"

#include <cerrno>
#include <cstddef>
#include <memory>
#include <system_error>

#include <qrencode.h>

#include "core/c_handle.hpp"
#include "core/secret.hpp"

namespace latchkey::credentials {

namespace {

using core::Errc;

/// Light modules around the symbol on every side: the 4 that ISO/IEC 18004 asks for.
constexpr int quiet_zone = 4;

// One character cell shows two module rows. Ink is light, so a dark module leaves its half of
// the cell blank. Spelled as bytes so the source charset cannot change them.
constexpr std::string_view both_light = "\xe2\x96\x88";  // U+2588 FULL BLOCK
constexpr std::string_view upper_light = "\xe2\x96\x80"; // U+2580 UPPER HALF BLOCK
constexpr std::string_view lower_light = "\xe2\x96\x84"; // U+2584 LOWER HALF BLOCK
constexpr std::string_view both_dark = " ";
constexpr std::size_t max_glyph_bytes = 3;

/// Wipes the modules (they encode the text) before libqrencode frees the symbol.
void free_wiped(QRcode* code) noexcept
{
    if (code == nullptr)
        return;
    if (code->data != nullptr && code->width > 0) {
        const auto width = static_cast<std::size_t>(code->width);
        core::wipe(code->data, width * width);
    }
    ::QRcode_free(code);
}

using QrSymbol = std::unique_ptr<QRcode, core::CFree<free_wiped>>;

/// Whether the module at (row, col) of the symbol framed by its quiet zone is dark; anything
/// outside the symbol, the quiet zone included, is light.
bool is_dark(const QRcode& code, int row, int col) noexcept
{
    const int r = row - quiet_zone;
    const int c = col - quiet_zone;
    if (r < 0 || r >= code.width || c < 0 || c >= code.width)
        return false;
    return (code.data[r * code.width + c] & 1) != 0; // bit 0 is the colour; the rest, its role
}

std::string_view glyph(bool upper_dark, bool lower_dark) noexcept
{
    if (upper_dark)
        return lower_dark ? both_dark : lower_light;
    return lower_dark ? upper_light : both_light;
}

/// The symbol of `text`: level M, 8-bit mode, case-sensitive, the smallest version.
core::Result<QrSymbol> encode(std::string_view text)
{
    if (text.empty())
        return core::fail(Errc::invalid_argument, "QR code text is empty");
    if (text.find('\0') != std::string_view::npos)
        return core::fail(Errc::invalid_argument, "QR code text contains a NUL byte");

    // libqrencode takes a C string.
    std::vector<char> c_text(text.size() + 1, '\0');
    const core::WipeOnExit wipe_c_text(c_text.data(), c_text.size());
    text.copy(c_text.data(), text.size());

    errno = 0;
    // Version 0: the smallest that fits. QR_MODE_8 keeps non-alphanumeric bytes as they are
    // (libqrencode still packs runs of digits or upper-case letters tighter).
    QrSymbol code(::QRcode_encodeString(c_text.data(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
    if (!code) {
        const int err = errno;
        if (err == ERANGE)
            return core::fail(Errc::invalid_argument, "QR code text is too long (" +
                                                          std::to_string(text.size()) + " bytes)");
        return core::fail(Errc::internal,
                          "libqrencode: " + (err != 0 ? std::generic_category().message(err)
                                                      : std::string("encoding failed")));
    }
    if (code->width <= 0 || code->data == nullptr)
        return core::fail(Errc::internal, "libqrencode returned an empty symbol");
    return code;
}

} // namespace

core::Result<std::vector<std::string>> qr_lines(std::string_view text)
{
    auto encoded = encode(text);
    if (!encoded)
        return core::fail(encoded.error());
    const QRcode* code = encoded->get();

    const int side = code->width + 2 * quiet_zone;
    const int line_count = (side + 1) / 2;

    // Allocate everything before drawing the first module: no reallocation then leaves part
    // of the picture (and so of the secret) behind in freed memory, and bad_alloc can only
    // come before there is anything to leave.
    std::vector<std::string> lines(static_cast<std::size_t>(line_count));
    for (auto& line : lines)
        line.reserve(static_cast<std::size_t>(side) * max_glyph_bytes);

    for (int l = 0; l < line_count; ++l) {
        std::string& line = lines[static_cast<std::size_t>(l)];
        // An odd last line's lower row lies beyond the quiet zone, so is_dark() calls it light.
        for (int col = 0; col < side; ++col)
            line += glyph(is_dark(*code, 2 * l, col), is_dark(*code, 2 * l + 1, col));
    }
    return lines;
}

core::Result<std::string> qr_svg(std::string_view text)
{
    auto encoded = encode(text);
    if (!encoded)
        return core::fail(encoded.error());
    const QRcode& code = **encoded;
    const int side = code.width + 2 * quiet_zone;
    const std::string size = std::to_string(side);

    // One path: a rectangle per run of dark modules in a row. Reserved before the first module
    // for the same reason as the lines: a row holds at most (width + 1) / 2 runs, and a run
    // takes at most 20 bytes ("M177 177h177v1h-177z" is the longest).
    const auto width = static_cast<std::size_t>(code.width);
    std::string svg;
    svg.reserve(512 + width * (width + 1) / 2 * 20);
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + size + " " + size +
           "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">"
           "<rect width=\"" +
           size + "\" height=\"" + size + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
    for (int row = quiet_zone; row < side - quiet_zone; ++row) {
        for (int col = quiet_zone; col < side - quiet_zone;) {
            if (!is_dark(code, row, col)) {
                ++col;
                continue;
            }
            int run = 1;
            while (is_dark(code, row, col + run))
                ++run;
            const auto length = std::to_string(run); // short: held in the string itself
            svg += 'M';
            svg += std::to_string(col);
            svg += ' ';
            svg += std::to_string(row);
            svg += 'h';
            svg += length;
            svg += "v1h-";
            svg += length;
            svg += 'z';
            col += run;
        }
    }
    svg += "\"/></svg>";
    return svg;
}

} // namespace latchkey::credentials
