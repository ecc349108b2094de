#pragma once
// How the tests print what they compare: std::string values in QCOMPARE's failure
// output, and a snapshot's edges in QVERIFY2 messages.
// Header-only: every test executable includes it on its own.

#include "graph/graphsnapshot.h"

#include <QString>
#include <QStringList>
#include <QTest>

#include <string>

// QCOMPARE on std::string prints both values on failure.
namespace QTest {
template <>
inline char *toString<std::string>(const std::string &s)
{
    return qstrdup(('"' + s + '"').c_str());
}
}  // namespace QTest

namespace meshscope::test {

// "a->b=3, b->c=1": each edge with its request count.
inline QString edgeList(const GraphSnapshot &snap)
{
    QStringList ids;
    for (const EdgeSnapshot &e : snap.edges)
        ids << QString::fromStdString(e.id) + QLatin1Char('=') + QString::number(e.stats.requests);
    return ids.join(QLatin1String(", "));
}

}  // namespace meshscope::test
