#pragma once
// The `meshscope-demo` child of `meshscope --demo`: finds the program next to the
// dashboard's executable (else on PATH), starts it against the dashboard's own OTLP
// receiver, reports when it fails, and stops it on exit (terminate, then kill).

#include <QObject>
#include <QProcess>
#include <QString>

namespace meshscope {

class DemoProcess : public QObject {
    Q_OBJECT
public:
    explicit DemoProcess(QObject *parent = nullptr);
    ~DemoProcess() override;

    // Empty when the program cannot be found.
    static QString findProgram();

    // target: the receiver's "host:port". Returns false (and says why in error())
    // when the program is missing; a failure after that arrives as failed().
    bool start(const QString &target, int rate = 40);
    // Terminates, waits up to graceMs, then kills. Blocks at most graceMs.
    void stop(int graceMs = 2000);
    bool isRunning() const;
    QString program() const { return m_program; }
    QString error() const { return m_error; }

Q_SIGNALS:
    void failed(const QString &reason);

private:
    QProcess m_process;
    QString m_program;
    QString m_error;
    bool m_stopping = false;
};

}  // namespace meshscope
