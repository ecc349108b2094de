#include "routing/routingcontroller.h"

#include "routing/routehistory.h"

#include "routing/routeeditor.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/yaml/routeyaml.h"

#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QMetaObject>
#include <QPointer>
#include <QSaveFile>

namespace meshscope {

RoutingController::RoutingController(
    RouteEditor *editor, QString listenAddress, QString routeFile, QString historyDir, QObject *parent)
    : QObject(parent)
    , m_editor(editor)
    , m_kind(Kind::Xds)
    , m_listen(std::move(listenAddress))
    , m_routeFile(std::move(routeFile))
    , m_history(historyDir.toStdString())
{
    connect(m_editor, &RouteEditor::applyRequested, this, [this](const routing::RouteSet &set) { apply(set); });
    connect(m_editor, &RouteEditor::rollbackRequested, this, &RoutingController::rollback);
    connect(m_editor, &RouteEditor::rollbackConfirmed, this,
        [this](const routing::RouteSet &set, qint64 entryId) { apply(set, entryId); });
}

RoutingController::RoutingController(
    RouteEditor *editor, routing::CaddyAdminConfig caddy, QString server, QString historyDir, QObject *parent)
    : QObject(parent)
    , m_editor(editor)
    , m_kind(Kind::Caddy)
    , m_history(historyDir.toStdString())
    , m_caddyConfig(std::move(caddy))
    , m_caddyServer(std::move(server))
{
    connect(m_editor, &RouteEditor::applyRequested, this, [this](const routing::RouteSet &set) { apply(set); });
    connect(m_editor, &RouteEditor::rollbackRequested, this, &RoutingController::rollback);
    connect(m_editor, &RouteEditor::rollbackConfirmed, this,
        [this](const routing::RouteSet &set, qint64 entryId) { apply(set, entryId); });
}

RoutingController::~RoutingController() { stop(); }

bool RoutingController::start(QString *error)
{
    if (m_kind == Kind::Caddy)
        return startCaddy(error);
    if (!m_routeFile.isEmpty()) {
        routing::RouteLoadResult loaded = routing::loadRouteFile(m_routeFile.toStdString());
        for (const routing::RouteIssue &issue : loaded.issues) {
            if (issue.severity == routing::Severity::Error) {
                *error = QStringLiteral("--routes %1: %2").arg(m_routeFile, QString::fromStdString(issue.toString()));
                return false;
            }
        }
        m_applied = std::move(loaded.set);
        m_editor->setFilePreview([this](const routing::RouteSet &set) {
            std::string current;
            const routing::RouteFileEdit edit = fileEdit(set, &current);
            RouteFilePreview preview;
            preview.fileName = QFileInfo(m_routeFile).fileName();
            const std::string name = preview.fileName.toStdString();
            preview.diff = QString::fromStdString(routing::unifiedDiff(current, edit.text, "a/" + name, "b/" + name));
            for (const std::string &note : edit.rewritten)
                preview.notes << tr("Written in meshscope's layout: %1").arg(QString::fromStdString(note));
            return preview;
        });
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

bool RoutingController::startCaddy(QString *error)
{
    const QUrl &url = m_caddyConfig.url;
    if (!url.isValid() || url.host().isEmpty()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))) {
        *error = QStringLiteral("--caddy-admin '%1' is not an admin URL (e.g. http://127.0.0.1:2019)")
                     .arg(url.toDisplayString(QUrl::RemoveUserInfo));
        return false;
    }
    if (m_caddyServer.isEmpty() || m_caddyServer.contains(QLatin1Char('/'))) {
        *error = QStringLiteral("--caddy-server '%1' is not a Caddy server name").arg(m_caddyServer);
        return false;
    }
    if (!m_caddy)
        m_caddy = new routing::CaddyAdmin(m_caddyConfig, this);
    m_editor->setDataPlane(routing::DataPlane::Caddy);
    m_editor->setTargetDescription(QStringLiteral("Caddy %1 server '%2'").arg(m_caddy->displayUrl(), m_caddyServer));
    m_editor->setHistory(m_history.list());
    pullCaddy(false);
    return true;
}

void RoutingController::stop()
{
    if (m_controlPlane) {
        m_controlPlane->setEventCallback({});
        m_controlPlane->stop();
    }
    if (m_caddy) {
        m_caddy->abortAll();
        m_busy = false;
    }
}

QString RoutingController::boundAddress() const
{
    return m_controlPlane ? QString::fromStdString(m_controlPlane->boundAddress()) : QString();
}

QString RoutingController::targetName() const
{
    if (m_kind == Kind::Caddy) {
        // As `meshscope-cli routes apply --caddy-admin` records it, so its rollback can read it.
        return QString::fromStdString(
            routing::caddyTargetKey(m_caddyConfig.url.toString().toStdString(), m_caddyServer.toStdString()));
    }
    return QString::fromStdString(routing::xdsTargetKey(boundAddress().toStdString()));
}

void RoutingController::pull()
{
    if (m_kind == Kind::Caddy && m_caddy && !m_busy)
        pullCaddy(false);
}

void RoutingController::pullCaddy(bool afterApply, std::function<void()> then)
{
    m_busy = true;
    QPointer<RoutingController> self(this);
    m_caddy->pullRoutes(m_caddyServer, [self, afterApply, then](routing::CaddyResult r) {
        if (!self)
            return;
        self->m_busy = false;
        if (!r.ok()) {
            const QString message = afterApply
                ? QStringLiteral("applied, but the routes could not be read back for the next ETag: %1").arg(r.message)
                : QStringLiteral("cannot read the routes of Caddy server '%1': %2").arg(self->m_caddyServer, r.message);
            QPointer<RoutingController> again(self);
            self->m_editor->reportTargetProblem(message, tr("Pull again"), [again] {
                if (again)
                    again->pull();
            });
            Q_EMIT self->routesPulled(false, message);
            return;
        }
        self->m_caddyVersion = r.version;
        self->m_applied = r.routes;
        self->m_pulledOnce = true;
        self->m_editor->setApplied(r.routes);
        Q_EMIT self->routesPulled(true, QString());
        if (then)
            then();
    });
}

bool RoutingController::apply(const routing::RouteSet &set, std::optional<int64_t> rollbackOf)
{
    if (m_kind == Kind::Caddy)
        return applyCaddy(set, rollbackOf);
    if (!m_controlPlane)
        return false;
    const QString target = targetName();
    const std::optional<routing::HistoryEntry> entry
        = m_history.record(target.toStdString(), m_applied, set, rollbackOf);
    if (!entry) {
        failApply(
            QStringLiteral("the route history cannot be written (%1)").arg(QString::fromStdString(m_history.error())));
        return false;
    }
    const uint64_t version = m_controlPlane->setRouteSet(set);
    m_applied = set;
    m_editor->setApplied(set, version);
    m_editor->setHistory(m_history.list());
    if (!m_routeFile.isEmpty()) {
        // The file stays the source of truth across sessions (and for `xds serve`).
        // Only the nodes that change are written; the operator's comments and layout stay.
        QSaveFile out(m_routeFile);
        const std::string yaml = fileEdit(set).text;
        if (!out.open(QIODevice::WriteOnly) || out.write(yaml.data(), qint64(yaml.size())) != qint64(yaml.size())
            || !out.commit()) {
            const QString message = QStringLiteral("pushed as version %1, but %2 could not be saved: %3")
                                        .arg(version)
                                        .arg(m_routeFile, out.errorString());
            m_editor->reportTargetProblem(message);
            Q_EMIT applyFinished(false, message);
            return false;
        }
    }
    refreshClients();
    Q_EMIT routesApplied(
        version, target, QString::fromStdString(entry->afterYaml), QString::fromStdString(entry->beforeYaml));
    Q_EMIT applyFinished(true, QString());
    return true;
}

bool RoutingController::applyCaddy(const routing::RouteSet &set, std::optional<int64_t> rollbackOf)
{
    if (!m_caddy)
        return false;
    if (m_busy) {
        failApply(QStringLiteral("Caddy server '%1' is still answering the last request; apply again in a moment")
                      .arg(m_caddyServer));
        return false;
    }
    if (!m_pulledOnce) {
        QPointer<RoutingController> self(this);
        m_editor->reportApplyError(
            QStringLiteral("the routes of Caddy server '%1' have not been read yet, so there is no ETag to apply "
                           "against")
                .arg(m_caddyServer),
            tr("Pull again"), [self] {
                if (self)
                    self->pull();
            });
        Q_EMIT applyFinished(false, QStringLiteral("not read yet"));
        return false;
    }
    m_busy = true;
    const routing::RouteSet before = m_applied;
    QPointer<RoutingController> self(this);
    m_caddy->applyRoutes(m_caddyServer, set, m_caddyVersion, [self, set, before, rollbackOf](routing::CaddyResult r) {
        if (!self)
            return;
        self->m_busy = false;
        if (!r.ok()) {
            // Caddy kept its config (If-Match and a whole-array replace): the editor keeps
            // the edits and the last good routes as what is served.
            if (r.kind == routing::CaddyResult::Error::EtagMismatch) {
                QPointer<RoutingController> again(self);
                self->m_editor->reportApplyError(
                    r.message, tr("Pull again"),
                    [again] {
                        if (again)
                            again->pull();
                    },
                    tr("Replace theirs…"),
                    [again, set, rollbackOf] {
                        if (again)
                            again->replaceTheirs(set, rollbackOf);
                    });
                Q_EMIT self->applyFinished(false, r.message);
            } else {
                self->failApply(r.message);
            }
            return;
        }
        // Recorded once Caddy took it, as `meshscope-cli routes apply` does: a refused
        // change never reaches the history.
        const std::optional<routing::HistoryEntry> entry
            = self->m_history.record(self->targetName().toStdString(), before, set, rollbackOf);
        const bool recorded = entry.has_value();
        self->m_applied = set;
        self->m_editor->setApplied(set);
        self->m_editor->setHistory(self->m_history.list());
        // Caddy answers an apply without the new ETag: read the routes back for it.
        self->pullCaddy(true);
        if (!recorded) {
            const QString message = QStringLiteral("applied to Caddy server '%1', but not recorded in the route "
                                                   "history: %2")
                                        .arg(self->m_caddyServer, QString::fromStdString(self->m_history.error()));
            self->m_editor->reportTargetProblem(message);
            Q_EMIT self->applyFinished(false, message);
            return;
        }
        // Caddy has no version of its own: the history's entry number stands for it.
        Q_EMIT self->routesApplied(uint64_t(entry->id), self->targetName(), QString::fromStdString(entry->afterYaml),
            QString::fromStdString(entry->beforeYaml));
        Q_EMIT self->applyFinished(true, QString());
    });
    return true;
}

void RoutingController::replaceTheirs(const routing::RouteSet &set, std::optional<int64_t> rollbackOf)
{
    const QString question = tr("The routes of Caddy server '%1' were changed by someone else after meshscope read "
                                "them. Replace them with yours? Their change is lost (it is not in meshscope's "
                                "history).")
                                 .arg(m_caddyServer);
    const bool yes = m_confirm ? m_confirm(question)
                               : QMessageBox::warning(m_editor, tr("Replace Caddy's routes?"), question,
                                     QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
            == QMessageBox::Yes;
    if (!yes || m_busy)
        return;
    // Read the routes (and ETag) as they are now, then apply over them: what the history
    // records as "before" is what was really replaced.
    QPointer<RoutingController> self(this);
    pullCaddy(false, [self, set, rollbackOf] {
        if (self)
            self->applyCaddy(set, rollbackOf);
    });
}

void RoutingController::failApply(const QString &message)
{
    m_editor->reportApplyError(message);
    Q_EMIT applyFinished(false, message);
}

void RoutingController::rollback(qint64 entryId)
{
    const std::optional<routing::HistoryEntry> entry = m_history.entry(entryId);
    const QString target = targetName();
    // A history shared with other targets: only this target's changes are undone here.
    // (xDS also takes back changes made to its route file; Caddy only its own server's.)
    const QString entryTarget = entry ? QString::fromStdString(entry->target) : QString();
    const bool ours
        = m_kind == Kind::Caddy ? entryTarget == target : !routing::isCaddyTargetKey(entryTarget.toStdString());
    if (entry && !ours) {
        failApply(QStringLiteral("change %1 was applied to %2, not to %3; roll it back there")
                      .arg(entryId)
                      .arg(QString::fromStdString(entry->target), target));
        return;
    }
    const std::optional<routing::RouteSet> set = m_history.rollback(entryId);
    if (!set) {
        failApply(QStringLiteral("cannot roll back change %1: %2")
                      .arg(entryId)
                      .arg(QString::fromStdString(m_history.error())));
        return;
    }
    // Through the same review as any change: the routes it restores, and the file it writes.
    m_editor->reviewRollback(entryId, *set);
}

routing::RouteFileEdit RoutingController::fileEdit(const routing::RouteSet &set, std::string *current) const
{
    QFile in(m_routeFile);
    if (!in.open(QIODevice::ReadOnly)) {
        routing::RouteFileEdit whole;
        whole.text = routing::toYaml(set);
        return whole;  // a file that is gone is written anew
    }
    const std::string text = in.readAll().toStdString();
    if (current)
        *current = text;
    return routing::editRouteFile(text, set, m_routeFile.toStdString());
}

void RoutingController::refreshClients()
{
    m_refreshQueued = false;
    if (m_controlPlane)
        m_editor->setClients(m_controlPlane->clients());
}

}  // namespace meshscope
