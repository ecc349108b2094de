#pragma once
// How the dashboard writes numbers, status codes, node names and request paths, so
// that the canvas legend, the inspect panel, the tables and the tests agree on text.

#include "graph/healthpolicy.h"

#include <QColor>
#include <QString>

#include <cstdint>
#include <string>

namespace meshscope {

namespace display {

QString rps(double value);  // "12.4 rps" style number without the unit: "12.4"
QString percent(double fraction);  // 0.0123 -> "1.23 %"
QString millis(double ms);  // "14.2 ms", "1.35 s"
QString count(uint64_t n);  // 12345 -> "12,345"
// 1, 2, 5 x 10^n at or above v: chart axis steps an operator reads at a glance.
double niceStep(double v);
// "0:42", "12:05", "1:02:03": a running clock (recording time, replay position).
QString clock(int64_t ms);
// "812 bytes", "4.2 MB", "1.09 GB" (decimal units, as file managers show file sizes).
QString dataSize(uint64_t bytes);
// "1 day", "4 days": English plurals without a translation catalogue.
QString quantity(qint64 n, const QString &singular, const QString &plural);

// HTTP codes as "503 Service Unavailable"; gRPC codes (stored as 1000 + code) as
// "gRPC UNAVAILABLE (14)".
QString statusCode(int code);
QString grpcCodeName(int code);
// Status column of a single request: HTTP code, else gRPC code, else "-".
QString requestStatus(int httpStatus, int grpcStatus);

// "shop/frontend@v2" -> "frontend"; keeps ids that carry no namespace as they are.
QString nodeLabel(const std::string &nodeId);

// Paths whose query string carries a credential-looking parameter lose the whole
// query: "/login?token=abc" -> "/login?…". Other paths are shown unchanged.
QString redactPath(const std::string &path);

QColor healthColor(Health health);
QString healthText(Health health);

}  // namespace display

}  // namespace meshscope
