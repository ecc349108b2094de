#pragma once
// The .msrec file format: the contract between RecordingWriter, RecordingReader and any
// other tool that reads recordings. Everything multi-byte is little-endian.
//
//   file    := header block* [index trailer]
//
//   header  := "MSREC\0"                       6 bytes, kFileMagic
//              u32 format version              kFormatVersion; a reader refuses newer ones
//              i64 creation time               ms since the epoch
//              u32 N, N bytes                  msrec.FileHeader (protobuf): meshscope
//                                              version, creation time, free-form JSON
//
//   block   := frame, payload
//   frame   := u32 kBlockMagic ("MSBK")        kFrameSize = 17 bytes
//              u32 compressed length C         payload bytes that follow the frame
//              u32 raw length                  after zstd decompression
//              u32 CRC-32 of the C payload bytes (IEEE polynomial, as zlib's crc32)
//              u8  block type                  BlockType; readers skip unknown types
//   payload := zstd frame of the protobuf message for the type:
//              Events -> msrec.RecordingBlock  (events of about one second of session
//                        time, cut early when the raw size passes ~4 MiB; fields
//                        first_ms, last_ms and the counts come before the events, so
//                        a scan learns them from the first decompressed bytes)
//              Index  -> msrec.RecordingIndex  (written once, on close)
//
//   trailer := u64 offset of the index block's frame
//              u32 CRC-32 of those 8 bytes
//              u32 kTrailerMagic ("MSIX")      the last 16 bytes of a closed file
//
// Blocks are length-delimited, so a reader walks them without the index; the index
// only saves it the walk. Events in a block are in append order; their times
// (receive time, ms since the epoch) rise within a few ms, so blocks may overlap
// slightly and a reader orders events by time when it replays.
//
// Reader rules (RecordingReader):
// - a file without a valid trailer (the writer crashed or was killed) is read by
//   walking its blocks, up to the last complete one; an incomplete tail is reported
//   with its size and the time read up to;
// - a format version above kFormatVersion is refused, naming both versions;
// - a block whose checksum, zstd frame or protobuf is bad is reported with its offset
//   and skipped; the others are read;
// - a file that does not start with kFileMagic is not a recording.
// Compatible changes (new protobuf fields, new block types) keep the version; anything
// an old reader would misread raises it.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace meshscope::msrecformat {

inline constexpr std::string_view kFileMagic {"MSREC\0", 6};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kFixedHeaderSize = 6 + 4 + 8 + 4;  // magic, version, creation time, N

inline constexpr uint32_t kBlockMagic = 0x4B42534D;  // "MSBK" as bytes on disk
inline constexpr size_t kFrameSize = 4 + 4 + 4 + 4 + 1;
inline constexpr uint32_t kTrailerMagic = 0x5849534D;  // "MSIX" as bytes on disk
inline constexpr size_t kTrailerSize = 8 + 4 + 4;

enum class BlockType : uint8_t { Events = 1, Index = 2 };

// The writer aims for these; a reader accepts any block up to the limits below.
inline constexpr int64_t kBlockDurationMs = 1000;
inline constexpr size_t kBlockRawBytes = size_t(4) << 20;
// Larger lengths in a frame are taken for corruption, not allocated.
inline constexpr uint32_t kMaxBlockBytes = uint32_t(1) << 30;

struct Frame {
    uint32_t magic = kBlockMagic;
    uint32_t compressedLength = 0;
    uint32_t rawLength = 0;
    uint32_t crc = 0;
    BlockType type = BlockType::Events;
};

inline void putU32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void putU64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline uint32_t getU32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}
inline uint64_t getU64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

inline void encodeFrame(const Frame &f, unsigned char out[kFrameSize])
{
    putU32(out, f.magic);
    putU32(out + 4, f.compressedLength);
    putU32(out + 8, f.rawLength);
    putU32(out + 12, f.crc);
    out[16] = static_cast<unsigned char>(f.type);
}
inline Frame decodeFrame(const unsigned char in[kFrameSize])
{
    Frame f;
    f.magic = getU32(in);
    f.compressedLength = getU32(in + 4);
    f.rawLength = getU32(in + 8);
    f.crc = getU32(in + 12);
    f.type = static_cast<BlockType>(in[16]);
    return f;
}

}  // namespace meshscope::msrecformat
