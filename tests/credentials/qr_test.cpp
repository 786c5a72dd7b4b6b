// SPDX-License-Identifier: Apache-2.0
// Unit tests of the QR renderers: every half block, and every module of the SVG, against
// libqrencode's own modules.
#include "credentials/qr.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <qrencode.h>

#include <gtest/gtest.h>

#include "core/c_handle.hpp"
#include "core/error.hpp"

namespace latchkey::credentials {
namespace {

using Symbol = std::unique_ptr<QRcode, core::CFree<QRcode_free>>;

constexpr char32_t full_block = U'\u2588';
constexpr char32_t upper_half = U'\u2580';
constexpr char32_t lower_half = U'\u2584';
constexpr char32_t blank = U' ';
constexpr int quiet = 4;

// A made-up key (RFC 4648's "Hello!\xde\xad\xbe\xef" twice), as otpauth_uri() would write it.
constexpr std::string_view sample_uri =
    "otpauth://totp/latchkey:alice%40example.org?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    "&issuer=latchkey&algorithm=SHA1&digits=6&period=30";

/// The symbol the renderer should draw, from libqrencode directly with the documented
/// parameters: level M, 8-bit hint, case-sensitive, smallest version.
Symbol reference(const std::string& text)
{
    return Symbol(::QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
}

/// The code points of `s`; nullopt on anything but ASCII and well-formed 3-byte UTF-8, the
/// only encodings the renderer may produce.
std::optional<std::u32string> decode(std::string_view s)
{
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        if ((b0 & 0xf0) != 0xe0 || i + 3 > s.size())
            return std::nullopt;
        const auto b1 = static_cast<unsigned char>(s[i + 1]);
        const auto b2 = static_cast<unsigned char>(s[i + 2]);
        if ((b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80)
            return std::nullopt;
        out.push_back((char32_t{b0 & 0x0fu} << 12) | (char32_t{b1 & 0x3fu} << 6) |
                      char32_t{b2 & 0x3fu});
        i += 3;
    }
    return out;
}

/// Every line of `lines` decoded; fails the test (and returns empty) on bad UTF-8.
std::vector<std::u32string> decode_all(const std::vector<std::string>& lines)
{
    std::vector<std::u32string> out;
    for (const auto& line : lines) {
        auto cps = decode(line);
        EXPECT_TRUE(cps.has_value()) << "line " << out.size() << " is not valid UTF-8";
        if (!cps)
            return {};
        out.push_back(std::move(*cps));
    }
    return out;
}

/// Module (row, col) of `code` framed by the quiet zone; beyond the frame counts as light.
bool dark(const QRcode& code, int row, int col)
{
    const int r = row - quiet;
    const int c = col - quiet;
    if (r < 0 || c < 0 || r >= code.width || c >= code.width)
        return false;
    return (code.data[r * code.width + c] & 1) != 0;
}

/// What a terminal cell must show, light being ink.
char32_t expected_cell(bool upper_dark, bool lower_dark)
{
    if (!upper_dark && !lower_dark)
        return full_block;
    if (!upper_dark)
        return upper_half; // only the upper half is light
    if (!lower_dark)
        return lower_half; // only the lower half is light
    return blank;
}

std::vector<std::u32string> render(std::string_view text)
{
    auto lines = qr_lines(text);
    EXPECT_TRUE(lines.has_value()) << lines.error().message;
    if (!lines)
        return {};
    return decode_all(*lines);
}

TEST(QrLines, MatchesLibqrencodeModuleForModule)
{
    const Symbol code = reference(std::string(sample_uri));
    ASSERT_NE(code, nullptr);
    const int side = code->width + 2 * quiet;

    const auto lines = render(sample_uri);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>((side + 1) / 2)); // ceil(side / 2)
    for (std::size_t l = 0; l < lines.size(); ++l) {
        ASSERT_EQ(lines[l].size(), static_cast<std::size_t>(side)) << "line " << l;
        const int upper = 2 * static_cast<int>(l);
        for (int col = 0; col < side; ++col)
            EXPECT_EQ(lines[l][static_cast<std::size_t>(col)],
                      expected_cell(dark(*code, upper, col), dark(*code, upper + 1, col)))
                << "line " << l << ", column " << col;
    }
}

TEST(QrLines, HasNoNewlinesAndOnlyHalfBlocks)
{
    const auto raw = qr_lines(sample_uri);
    ASSERT_TRUE(raw.has_value()) << raw.error().message;
    for (const auto& line : *raw)
        EXPECT_EQ(line.find('\n'), std::string::npos);
    for (const auto& line : decode_all(*raw))
        for (const char32_t cp : line)
            EXPECT_TRUE(cp == full_block || cp == upper_half || cp == lower_half || cp == blank)
                << "U+" << std::hex << static_cast<unsigned>(cp);
}

TEST(QrLines, DrawsFourModuleQuietZoneAsInkOnEverySide)
{
    const auto lines = render(sample_uri);
    ASSERT_GE(lines.size(), 4u);
    const std::size_t side = lines[0].size();
    // Symbols are 17 + 4 * version modules wide: odd, so with 8 quiet modules the last line
    // holds one quiet row over nothing and the line before it two quiet rows.
    ASSERT_EQ(side % 2, 1u);
    ASSERT_EQ(lines.size(), (side + 1) / 2);
    const std::u32string all_ink(side, full_block);
    EXPECT_EQ(lines[0], all_ink);
    EXPECT_EQ(lines[1], all_ink);
    EXPECT_EQ(lines[lines.size() - 2], all_ink);
    EXPECT_EQ(lines[lines.size() - 1], all_ink);
    for (std::size_t l = 0; l < lines.size(); ++l) {
        ASSERT_EQ(lines[l].size(), side);
        for (std::size_t c = 0; c < quiet; ++c) {
            EXPECT_EQ(lines[l][c], full_block) << "line " << l << ", column " << c;
            EXPECT_EQ(lines[l][side - 1 - c], full_block) << "line " << l << ", column " << c;
        }
    }
}

// The finder patterns are fixed by ISO/IEC 18004, so this checks the colours and the pairing of
// rows without trusting the reference decoding above.
TEST(QrLines, DrawsFinderPatternsDarkAsBlank)
{
    const auto lines = render(sample_uri);
    ASSERT_GE(lines.size(), 8u);
    const std::size_t side = lines[0].size();
    const std::size_t width = side - static_cast<std::size_t>(2 * quiet);

    // Symbol rows 0 and 1 share line 2: the top-left finder's dark ring over its light ring,
    // then the light separator.
    const std::u32string top = lines[2].substr(quiet, 8);
    EXPECT_EQ(top, std::u32string({blank, lower_half, lower_half, lower_half, lower_half,
                                   lower_half, blank, full_block}));
    // Symbol rows 2 and 3: dark ring, light ring, the dark 3x3 core, light ring, dark ring.
    const std::u32string core_rows = lines[3].substr(quiet, 7);
    EXPECT_EQ(core_rows,
              std::u32string({blank, full_block, blank, blank, blank, full_block, blank}));

    // The last symbol row (even in framed coordinates, as the width is odd) shares its line
    // with the quiet zone: the bottom-left finder's dark lower edge over light.
    const std::size_t last = (width - 1 + quiet) / 2;
    const std::u32string bottom = lines[last].substr(quiet, 8);
    EXPECT_EQ(bottom, std::u32string({lower_half, lower_half, lower_half, lower_half, lower_half,
                                      lower_half, lower_half, full_block}))
        << "line " << last;
}

TEST(QrLines, IsCaseSensitive)
{
    const auto upper = qr_lines("LATCHKEY");
    const auto lower = qr_lines("latchkey");
    ASSERT_TRUE(upper.has_value());
    ASSERT_TRUE(lower.has_value());
    EXPECT_NE(*upper, *lower);

    const Symbol code = reference("latchkey");
    ASSERT_NE(code, nullptr);
    const auto lines = decode_all(*lower);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>((code->width + 2 * quiet + 1) / 2));
    for (std::size_t l = 0; l < lines.size(); ++l)
        for (std::size_t c = 0; c < lines[l].size(); ++c) {
            const int row = 2 * static_cast<int>(l);
            const int col = static_cast<int>(c);
            EXPECT_EQ(lines[l][c], expected_cell(dark(*code, row, col), dark(*code, row + 1, col)));
        }
}

TEST(QrLines, FitsTheLargestVersion40Payload)
{
    // Version 40 at level M holds 2331 bytes in 8-bit mode; lower-case letters stay 8-bit.
    const auto lines = qr_lines(std::string(2331, 'a'));
    ASSERT_TRUE(lines.has_value()) << lines.error().message;
    const std::size_t side = 177 + 2 * quiet;
    ASSERT_EQ(lines->size(), (side + 1) / 2);
    const auto decoded = decode_all(*lines);
    ASSERT_EQ(decoded.size(), lines->size());
    for (const auto& line : decoded)
        EXPECT_EQ(line.size(), side);
}

TEST(QrLines, RejectsEmptyText)
{
    const auto lines = qr_lines("");
    ASSERT_FALSE(lines.has_value());
    EXPECT_TRUE(lines.error().is(core::Errc::invalid_argument)) << lines.error().message;
}

TEST(QrLines, RejectsTextTooLongForAnyVersion)
{
    for (const std::size_t n : {std::size_t{2332}, std::size_t{10000}}) {
        const auto lines = qr_lines(std::string(n, 'a'));
        ASSERT_FALSE(lines.has_value()) << n << " bytes";
        EXPECT_TRUE(lines.error().is(core::Errc::invalid_argument)) << lines.error().message;
    }
}

TEST(QrLines, RejectsNulByte)
{
    // libqrencode reads a C string: it would silently encode only "otpauth".
    const auto lines = qr_lines(std::string_view("otpauth\0://totp/x", 17));
    ASSERT_FALSE(lines.has_value());
    EXPECT_TRUE(lines.error().is(core::Errc::invalid_argument)) << lines.error().message;
}

TEST(QrLines, ErrorMessagesDoNotEchoTheText)
{
    const std::string secretish = "otpauth://totp/x?secret=" + std::string(3000, 'q');
    const auto lines = qr_lines(secretish);
    ASSERT_FALSE(lines.has_value());
    EXPECT_EQ(lines.error().message.find("secret="), std::string::npos);
    EXPECT_EQ(lines.error().message.find("QQQQ"), std::string::npos);
}

/// The dark modules an SVG of qr_svg() paints, read back from its path: runs "Mx yhNv1h-Nz".
std::optional<std::vector<std::vector<bool>>> painted(const std::string& svg, int side)
{
    const auto start = svg.find(" d=\"");
    if (start == std::string::npos)
        return std::nullopt;
    std::vector<std::vector<bool>> grid(static_cast<std::size_t>(side),
                                        std::vector<bool>(static_cast<std::size_t>(side)));
    std::size_t i = start + 4;
    const auto number = [&] {
        int n = 0;
        while (i < svg.size() && svg[i] >= '0' && svg[i] <= '9')
            n = n * 10 + (svg[i++] - '0');
        return n;
    };
    const auto take = [&](std::string_view token) {
        if (svg.compare(i, token.size(), token) != 0)
            return false;
        i += token.size();
        return true;
    };
    while (take("M")) {
        const int x = number();
        if (!take(" "))
            return std::nullopt;
        const int y = number();
        if (!take("h"))
            return std::nullopt;
        const int n = number();
        if (!take("v1h-") || number() != n || !take("z") || n < 1 || x + n > side || y >= side)
            return std::nullopt;
        for (int c = x; c < x + n; ++c)
            grid[static_cast<std::size_t>(y)][static_cast<std::size_t>(c)] = true;
    }
    if (!take("\"/></svg>") || i != svg.size())
        return std::nullopt;
    return grid;
}

TEST(QrSvg, PaintsExactlyLibqrencodesDarkModulesInsideTheQuietZone)
{
    const Symbol code = reference(std::string(sample_uri));
    ASSERT_NE(code, nullptr);
    const int side = code->width + 2 * quiet;
    const auto svg = qr_svg(sample_uri);
    ASSERT_TRUE(svg.has_value()) << svg.error().message;
    EXPECT_EQ(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                             std::to_string(side) + " " + std::to_string(side) + "\"",
                         0),
              0U)
        << *svg;
    EXPECT_NE(svg->find("fill=\"#fff\""), std::string::npos) << "a light background";
    const auto grid = painted(*svg, side);
    ASSERT_TRUE(grid.has_value()) << *svg;
    for (int row = 0; row < side; ++row)
        for (int col = 0; col < side; ++col)
            EXPECT_EQ((*grid)[static_cast<std::size_t>(row)][static_cast<std::size_t>(col)],
                      dark(*code, row, col))
                << "row " << row << ", column " << col;
}

TEST(QrSvg, RefusesWhatTheLinesRefuse)
{
    for (const std::string& text :
         {std::string(), std::string(2332, 'a'), std::string("otpauth\0://totp/x", 17)}) {
        const auto svg = qr_svg(text);
        ASSERT_FALSE(svg.has_value()) << text.size() << " bytes";
        EXPECT_TRUE(svg.error().is(core::Errc::invalid_argument)) << svg.error().message;
    }
}

} // namespace
} // namespace latchkey::credentials
