#pragma once
// For tests that run meshscope-cli as a user would: wait for the line on stderr in
// which a command (graph, record, traces...) says where it listens for OTLP.

#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QString>

namespace meshscope::test {

// The port the CLI bound, or 0 when the process exited or said nothing in time.
// Everything read is kept in *stderrSoFar for failure messages.
inline int waitForListeningPort(QProcess &p, QByteArray *stderrSoFar, int timeoutMs = 20000)
{
    static const QRegularExpression re(
        QStringLiteral("meshscope-cli(?: \\w+)?: listening for OTLP on 127\\.0\\.0\\.1:(\\d+)"));
    QElapsedTimer timer;
    timer.start();
    p.setReadChannel(QProcess::StandardError);
    while (timer.elapsed() < timeoutMs) {
        *stderrSoFar += p.readAllStandardError();
        const auto m = re.match(QString::fromUtf8(*stderrSoFar));
        if (m.hasMatch())
            return m.captured(1).toInt();
        if (p.state() == QProcess::NotRunning)
            return 0;
        p.waitForReadyRead(100);
    }
    return 0;
}

}  // namespace meshscope::test
