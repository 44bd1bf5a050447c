#pragma once
// TOML text as a toml11 value, for every reader of eisim's TOML (configs, sweep files).
#include <string>
#include <toml.hpp>

namespace eisim {

/// Parse `text`; text that is not TOML throws config_error "<origin> is not valid TOML: <the
/// parser's message, at most 600 characters>".
toml::value parse_toml_text(const std::string& text, const std::string& origin);

/// The longest prefix of the UTF-8 text `s` of at most `n` bytes that ends between characters, so
/// that a message quoting a shortened value stays UTF-8 (cutting "é", two bytes, in the middle
/// would leave a byte that no UTF-8 reader, Python's included, decodes).
inline std::string utf8_prefix(const std::string& s, std::size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n; // s[n] continues a character
    return s.substr(0, n);
}

} // namespace eisim
