// SPDX-License-Identifier: Apache-2.0
// QR codes drawn with UTF-8 half blocks, so `latchkeyctl` can show an otpauth URI to scan, and
// as SVG for the account page.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace latchkey::credentials {

/// Draws `text` as a QR code for a terminal, two module rows per line using the UTF-8 half
/// blocks U+2580 '▀', U+2584 '▄', U+2588 '█' and space, with a 4-module quiet zone on all sides.
/// Light modules (and the quiet zone) are drawn as ink, dark modules as blank, so the code scans
/// on the usual light-text-on-dark-background terminal (like `qrencode -t UTF8`). Error
/// correction level M, 8-bit mode, case-sensitive; the smallest version that fits.
///
/// A code `width` modules wide gives ceil((width + 8) / 2) lines of width + 8 characters each;
/// the lower half of an odd last line counts as light. Lines carry no '\n'.
///
/// The lines encode `text`: when it holds a secret (an otpauth URI), so do they. Show them to
/// the enrolling user, never log them. libqrencode's own module buffer is wiped before it is
/// freed.
///
/// Errors: Errc::invalid_argument when `text` is empty, contains a NUL byte (libqrencode takes
/// a C string) or is too long for a version 40 code; Errc::internal when libqrencode fails in
/// any other way (including running out of memory).
core::Result<std::vector<std::string>> qr_lines(std::string_view text);

/// The same code for a web page: an inline SVG element (no script, no external reference, so
/// a strict Content-Security-Policy shows it), dark modules black on white with the quiet zone,
/// one unit a module, scaled by the page. The same errors as qr_lines(), and the same care:
/// the markup encodes `text`.
core::Result<std::string> qr_svg(std::string_view text);

} // namespace latchkey::credentials
