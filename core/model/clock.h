#pragma once
// The wall clock every layer stamps events with (ms since the epoch).

#include <QDateTime>

#include <cstdint>

namespace meshscope {

inline int64_t wallNowMs() { return QDateTime::currentMSecsSinceEpoch(); }

}  // namespace meshscope
