#pragma once
// CRC-32 (IEEE 802.3, the polynomial of zlib, gzip and PNG) for the block checksums of
// recordings. Our own because the session layer links no zlib; slicing-by-8, so
// checking a block costs far less than decompressing it.

#include <cstddef>
#include <cstdint>

namespace meshscope {

// Continues `crc` (0 to start) over `size` bytes.
uint32_t crc32Update(uint32_t crc, const void *data, size_t size);
inline uint32_t crc32Of(const void *data, size_t size) { return crc32Update(0, data, size); }

}  // namespace meshscope
