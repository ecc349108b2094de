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
