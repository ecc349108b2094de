#pragma once
// Hosts meshscope's xDS control plane inside the dashboard (--xds-listen): serves
// the route set, pushes what the route editor applies, records every change in the
// route history (so it can be rolled back from the editor or `meshscope-cli routes
// rollback`), writes the applied set back to the route file when one was opened,
// and feeds each connected client's ACK/NACK status back to the editor.
//
// Threads: GUI thread. The control plane's event callback runs on gRPC threads and
// only posts a refresh here.

#include "routing/routehistory.h"
#include "routing/routemodel.h"

#include <QObject>
#include <QString>

#include <memory>

namespace meshscope {

namespace routing {
class XdsControlPlane;
}
class RouteEditor;

class RoutingController : public QObject {
    Q_OBJECT
public:
    // `routeFile` may be empty: the editor starts with no routes and nothing is saved.
    RoutingController(RouteEditor *editor, QString listenAddress, QString routeFile, QString historyDir,
                      QObject *parent = nullptr);
    ~RoutingController() override;

    // Loads the route file and starts serving it. False with a one-line reason when
    // the file does not load or the address cannot be bound.
    bool start(QString *error);
    void stop();
    QString boundAddress() const;
    routing::XdsControlPlane *controlPlane() const { return m_controlPlane.get(); }

    // Pushes `set`, records it and tells the editor. False (with the reason shown in
    // the editor) when the history cannot be written or the file cannot be saved.
    bool apply(const routing::RouteSet &set, std::optional<int64_t> rollbackOf = std::nullopt);

private:
    void refreshClients();
    void rollback(qint64 entryId);

    RouteEditor *m_editor;
    QString m_listen;
    QString m_routeFile;
    routing::RouteHistory m_history;
    routing::RouteSet m_applied;
    std::unique_ptr<routing::XdsControlPlane> m_controlPlane;
    bool m_refreshQueued = false;
};

}  // namespace meshscope
