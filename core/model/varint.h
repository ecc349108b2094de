#pragma once
// Protobuf's base-128 varint: seven bits a byte, lowest first, the top bit set on every
// byte but the last. One writer and one reader for the code that writes protobuf bytes
// by hand (packed span and request batches, recording blocks) and for the live
// history's compact frames; the bytes are those protobuf's serializer writes.

#include <cstddef>
#include <cstdint>
#include <string>

namespace meshscope {

inline constexpr size_t kMaxVarintBytes = 10;

// Writes `v` at `out`, which has room for kMaxVarintBytes; returns the byte after it.
inline char *writeVarint(char *out, uint64_t v)
{
    while (v >= 0x80) {
        *out++ = static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    *out++ = static_cast<char>(v);
    return out;
}

inline void appendVarint(std::string &out, uint64_t v)
{
    char buf[kMaxVarintBytes];
    out.append(buf, size_t(writeVarint(buf, v) - buf));
}

inline constexpr size_t varintSize(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

// Reads one varint from `p` on, never at or past `end`, and moves `p` past it. False
// when the bytes end first or it runs past kMaxVarintBytes; `v` then holds the bits
// read so far.
inline bool readVarint(const unsigned char *&p, const unsigned char *end, uint64_t &v)
{
    v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        const unsigned char b = *p++;
        v |= uint64_t(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

}  // namespace meshscope
