#pragma once
// SHA-256 (FIPS 180-4), used to verify GPT-2's vocabulary files before they are trusted.
#include <string>
#include <string_view>

namespace gs::tok {

// Lower-case hex digest of `data`, 64 characters.
std::string sha256_hex(std::string_view data);

}  // namespace gs::tok
