#pragma once
// Text checks every source applies to names, paths and ids it reads off the wire.

#include <string_view>

namespace meshscope {

// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool isValidUtf8(std::string_view s);

}  // namespace meshscope
