#include "demoprocess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#endif

namespace meshscope {

DemoProcess::DemoProcess(QObject *parent)
    : QObject(parent)
{
    // The demo's own chatter is not the dashboard's business; errors are reported by exit status.
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_process.setStandardOutputFile(QProcess::nullDevice());
#ifdef Q_OS_LINUX
    // Runs in the child between fork and exec: if the dashboard dies without its
    // clean shutdown (crash, SIGKILL), the demo generator must not live on.
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    connect(&m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (m_stopping)
            return;
        if (e == QProcess::FailedToStart)
            m_error = tr("could not start %1: %2").arg(m_program, m_process.errorString());
        else if (e == QProcess::Crashed)
            m_error = tr("demo traffic generator crashed");
        else
            return;
        Q_EMIT failed(m_error);
    });
    connect(&m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        if (m_stopping || status != QProcess::NormalExit)
            return;
        m_error = code == 0 ? tr("demo traffic generator finished")
                            : tr("demo traffic generator exited with status %1").arg(code);
        Q_EMIT failed(m_error);
    });
}

DemoProcess::~DemoProcess() { stop(); }

QString DemoProcess::findProgram()
{
    const QString name = QStringLiteral("meshscope-demo");
    // Next to the dashboard first: a build tree or an install keeps the two together,
    // and that copy matches this dashboard's version.
    const QFileInfo beside(QCoreApplication::applicationDirPath() + QLatin1Char('/') + name);
    if (beside.isFile() && beside.isExecutable())
        return QDir::cleanPath(beside.absoluteFilePath());
    return QStandardPaths::findExecutable(name);
}

bool DemoProcess::start(const QString &target, int rate)
{
    m_program = findProgram();
    if (m_program.isEmpty()) {
        m_error = tr("meshscope-demo not found next to %1 or on PATH").arg(QCoreApplication::applicationDirPath());
        return false;
    }
    m_stopping = false;
    m_error.clear();
    m_process.start(m_program, {QStringLiteral("--target"), target, QStringLiteral("--rate"), QString::number(rate)});
    return true;
}

void DemoProcess::stop(int graceMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_stopping = true;
    m_process.terminate();
    if (!m_process.waitForFinished(graceMs)) {
        m_process.kill();
        m_process.waitForFinished(1000);
    }
}

bool DemoProcess::isRunning() const { return m_process.state() != QProcess::NotRunning; }

}  // namespace meshscope
