#pragma once
// What tests that start real peers need from the machine: a free loopback port, an
// installed tool's path, and small files written and read back.
// Header-only: every test executable includes it on its own.

#include <QByteArray>
#include <QFile>
#include <QHostAddress>
#include <QStandardPaths>
#include <QString>
#include <QTcpServer>
#include <QtTest>

namespace meshscope::test {

// A port nothing listens on right now (the peer binds it a moment later).
inline int freePort()
{
    QTcpServer s;
    if (!s.listen(QHostAddress::LocalHost, 0))
        return 0;
    return s.serverPort();
}

// On PATH, or in /usr/bin (Debian's packages) when PATH is minimal; empty if neither.
inline QString findTool(const char *name)
{
    const QString found = QStandardPaths::findExecutable(QLatin1String(name));
    if (!found.isEmpty())
        return found;
    const QString usr = QStringLiteral("/usr/bin/") + QLatin1String(name);
    return QFile::exists(usr) ? usr : QString();
}

// In CI (CI=true) every real peer must be installed: a missing one fails the test
// rather than skipping it, so a green run never hides an untested path.
inline bool missingPeerFails()
{
    const QByteArray ci = qgetenv("CI");
    return !ci.isEmpty() && ci != "false" && ci != "0";
}

inline bool writeFile(const QString &path, const QByteArray &data)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

inline QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace meshscope::test

// Skips the test when `present` is false on a developer's machine; fails it in CI.
#define MESHSCOPE_REQUIRE_PEER(present, what)                                                                          \
    do {                                                                                                               \
        if (!(present)) {                                                                                              \
            if (::meshscope::test::missingPeerFails())                                                                 \
                QFAIL(what " is not installed; CI runs every test against the real peer");                             \
            QSKIP(what " is not installed (scripts/install-deps.sh installs it)");                                     \
        }                                                                                                              \
    } while (false)
