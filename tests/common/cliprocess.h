#pragma once
// For tests that run meshscope-cli as a user would: wait for the line on stderr in
// which a command (graph, record, traces...) says where it listens for OTLP; or run a
// command to its end.

#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QString>
#include <QStringList>

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

// One run of a program to its end: its exit status (-1: it crashed or outlived
// timeoutMs and was killed), stdout and stderr.
struct ProgramRun {
    int status = -1;
    QString out;
    QString err;
};

inline ProgramRun runProgram(const QString &program, const QStringList &args, int timeoutMs = 30000)
{
    QProcess p;
    p.start(program, args);
    ProgramRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

}  // namespace meshscope::test
