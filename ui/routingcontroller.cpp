#include "routingcontroller.h"

#include "routeeditor.h"
#include "routing/routeyaml.h"
#include "routing/xdscontrolplane.h"

#include <QFileInfo>
#include <QMetaObject>
#include <QPointer>
#include <QSaveFile>

namespace meshscope {

RoutingController::RoutingController(RouteEditor *editor, QString listenAddress, QString routeFile,
                                     QString historyDir, QObject *parent)
    : QObject(parent)
    , m_editor(editor)
    , m_listen(std::move(listenAddress))
    , m_routeFile(std::move(routeFile))
    , m_history(historyDir.toStdString())
{
    connect(m_editor, &RouteEditor::applyRequested, this, [this](const routing::RouteSet &set) { apply(set); });
    connect(m_editor, &RouteEditor::rollbackRequested, this, &RoutingController::rollback);
}

RoutingController::~RoutingController()
{
    stop();
}

bool RoutingController::start(QString *error)
{
    if (!m_routeFile.isEmpty()) {
        routing::RouteLoadResult loaded = routing::loadRouteFile(m_routeFile.toStdString());
        for (const routing::RouteIssue &issue : loaded.issues) {
            if (issue.severity == routing::Severity::Error) {
                *error = QStringLiteral("--routes %1: %2").arg(m_routeFile, QString::fromStdString(issue.toString()));
                return false;
            }
        }
        m_applied = std::move(loaded.set);
    }
    routing::XdsControlPlaneConfig config;
    config.listenAddress = m_listen.toStdString();
    m_controlPlane = std::make_unique<routing::XdsControlPlane>(config);
    QPointer<RoutingController> self(this);
    m_controlPlane->setEventCallback([self](const routing::XdsClientEvent &) {
        // gRPC thread: coalesce bursts of ACKs into one refresh on the GUI thread.
        QMetaObject::invokeMethod(
            self.data(),
            [self] {
                if (self && !self->m_refreshQueued) {
                    self->m_refreshQueued = true;
                    QMetaObject::invokeMethod(self.data(), &RoutingController::refreshClients, Qt::QueuedConnection);
                }
            },
            Qt::QueuedConnection);
    });
    std::string bindError;
    if (!m_controlPlane->start(&bindError)) {
        *error = QString::fromStdString(bindError);
        m_controlPlane.reset();
        return false;
    }
    const uint64_t version = m_controlPlane->setRouteSet(m_applied);
    m_editor->setTargetDescription(QStringLiteral("xDS %1").arg(boundAddress()));
    m_editor->setApplied(m_applied, version);
    m_editor->setHistory(m_history.list());
    return true;
}

void RoutingController::stop()
{
    if (m_controlPlane) {
        m_controlPlane->setEventCallback({});
        m_controlPlane->stop();
    }
}

QString RoutingController::boundAddress() const
{
    return m_controlPlane ? QString::fromStdString(m_controlPlane->boundAddress()) : QString();
}

bool RoutingController::apply(const routing::RouteSet &set, std::optional<int64_t> rollbackOf)
{
    if (!m_controlPlane)
        return false;
    const QString target = QStringLiteral("xds ") + boundAddress();
    if (!m_history.record(target.toStdString(), m_applied, set, rollbackOf)) {
        m_editor->reportApplyError(
            QStringLiteral("not applied: the route history cannot be written (%1)").arg(QString::fromStdString(m_history.error())));
        return false;
    }
    const uint64_t version = m_controlPlane->setRouteSet(set);
    m_applied = set;
    m_editor->setApplied(set, version);
    m_editor->setHistory(m_history.list());
    if (!m_routeFile.isEmpty()) {
        // The file stays the source of truth across sessions (and for `xds serve`).
        QSaveFile out(m_routeFile);
        const std::string yaml = routing::toYaml(set);
        if (!out.open(QIODevice::WriteOnly) || out.write(yaml.data(), qint64(yaml.size())) != qint64(yaml.size())
            || !out.commit()) {
            m_editor->reportApplyError(QStringLiteral("pushed as version %1, but %2 could not be saved: %3")
                                           .arg(version)
                                           .arg(m_routeFile, out.errorString()));
            return false;
        }
    }
    refreshClients();
    return true;
}

void RoutingController::rollback(qint64 entryId)
{
    const std::optional<routing::RouteSet> set = m_history.rollback(entryId);
    if (!set) {
        m_editor->reportApplyError(QStringLiteral("cannot roll back change %1: %2")
                                       .arg(entryId)
                                       .arg(QString::fromStdString(m_history.error())));
        return;
    }
    apply(*set, entryId);
}

void RoutingController::refreshClients()
{
    m_refreshQueued = false;
    if (m_controlPlane)
        m_editor->setClients(m_controlPlane->clients());
}

}  // namespace meshscope
