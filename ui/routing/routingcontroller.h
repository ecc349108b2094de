#pragma once
// Connects the route editor to the data plane it edits, one target per controller:
//
// - xDS (--xds-listen): hosts meshscope's xDS control plane inside the dashboard,
//   serves the route set, pushes what the editor applies, writes the applied set back
//   into the route file when one was opened (only the nodes that change: editRouteFile
//   keeps the operator's comments and layout), and feeds each connected client's
//   ACK/NACK status back to the editor. A rollback goes through the editor's review.
// - Caddy (--caddy-admin, --caddy-server): pulls one Caddy HTTP server's routes
//   through its admin API (keeping the ETag), and applies an edit in one request with
//   If-Match, so a config changed underneath or one Caddy rejects is refused whole and
//   the last good routes stay in place; after an apply the routes are pulled again
//   for the new ETag.
//
// Either way every applied change is recorded in the route history (so it can be
// rolled back from the editor or `meshscope-cli routes rollback`).
//
// Threads: GUI thread. The control plane's event callback runs on gRPC threads and
// only posts a refresh here; Caddy requests are asynchronous (CaddyAdmin), so nothing
// here waits on the network.

#include "routing/caddy/caddyadmin.h"
#include "routing/routehistory.h"
#include "routing/routemodel.h"
#include "routing/yaml/routefileedit.h"

#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace meshscope {

namespace routing {
class XdsControlPlane;
}
class RouteEditor;

class RoutingController : public QObject {
    Q_OBJECT
public:
    enum class Kind { Xds, Caddy };

    // xDS. `routeFile` may be empty: the editor starts with no routes and nothing is saved.
    RoutingController(
        RouteEditor *editor, QString listenAddress, QString routeFile, QString historyDir, QObject *parent = nullptr);
    // Caddy: the routes of HTTP server `server` (apps.http.servers.<server>) behind the admin API.
    RoutingController(RouteEditor *editor, routing::CaddyAdminConfig caddy, QString server, QString historyDir,
        QObject *parent = nullptr);
    ~RoutingController() override;

    Kind kind() const { return m_kind; }

    // xDS: loads the route file and starts serving it. False with a one-line reason
    // when the file does not load or the address cannot be bound.
    // Caddy: starts the first pull and returns at once; a pull that fails is shown in
    // the editor (with a "Pull again" button) and reported by routesPulled().
    bool start(QString *error);
    void stop();
    QString boundAddress() const;  // xDS only
    // Where changes go, as the route history names it: "xds 127.0.0.1:18000",
    // "caddy http://127.0.0.1:2019 main" (the form `meshscope-cli routes rollback` reads).
    QString targetName() const;
    routing::XdsControlPlane *controlPlane() const { return m_controlPlane.get(); }
    routing::CaddyAdmin *caddyAdmin() const { return m_caddy; }
    // The ETag the next Caddy apply is sent with (empty before the first good pull).
    QString caddyEtag() const { return m_caddyVersion.etag; }
    // A Caddy request is in flight: an apply meanwhile is refused with a reason.
    bool isBusy() const { return m_busy; }

    // Caddy: reads the routes again (what the editor's "Pull again" does). Edits in the
    // editor are kept; their diff is then taken against what Caddy has now.
    void pull();

    // Applies `set` and tells the editor. xDS: pushes, records and saves the route file
    // at once; false (with the reason shown in the editor) when the history cannot be
    // written or the file cannot be saved. Caddy: sends it and returns true; the
    // outcome comes with applyFinished() (and is shown in the editor when refused).
    bool apply(const routing::RouteSet &set, std::optional<int64_t> rollbackOf = std::nullopt);

    // Caddy, after an apply was refused because its routes changed underneath: asks
    // whether to replace them anyway (what `routes apply --force` does). How it asks
    // can be replaced (tests answer without a dialog); the default is a message box.
    using Confirm = std::function<bool(const QString &question)>;
    void setConfirm(Confirm confirm) { m_confirm = std::move(confirm); }

Q_SIGNALS:
    // Caddy: a pull finished; on failure `message` says why in one line.
    void routesPulled(bool ok, const QString &message);
    // An apply finished: ok, or refused/failed with the one-line reason the editor shows.
    void applyFinished(bool ok, const QString &message);
    // Routes took effect at the target: the xDS version pushed (for Caddy, the route
    // history's entry number), where, and the routes as YAML, with those they replaced
    // (the timeline shows the diff). A recording keeps them.
    void routesApplied(quint64 version, const QString &target, const QString &routesYaml, const QString &previousYaml);

private:
    void refreshClients();
    void rollback(qint64 entryId);
    bool startCaddy(QString *error);
    void pullCaddy(bool afterApply, std::function<void()> then = {});
    void replaceTheirs(const routing::RouteSet &set, std::optional<int64_t> rollbackOf);
    bool applyCaddy(const routing::RouteSet &set, std::optional<int64_t> rollbackOf);
    void failApply(const QString &message);
    // The route file edited to hold `set` (its current text in `current`).
    routing::RouteFileEdit fileEdit(const routing::RouteSet &set, std::string *current = nullptr) const;

    RouteEditor *m_editor;
    Kind m_kind;
    QString m_listen;
    QString m_routeFile;
    routing::RouteHistory m_history;
    routing::RouteSet m_applied;
    std::unique_ptr<routing::XdsControlPlane> m_controlPlane;
    bool m_refreshQueued = false;

    routing::CaddyAdminConfig m_caddyConfig;
    QString m_caddyServer;
    routing::CaddyAdmin *m_caddy = nullptr;
    routing::CaddyRoutesVersion m_caddyVersion;
    bool m_pulledOnce = false;
    bool m_busy = false;
    Confirm m_confirm;
};

}  // namespace meshscope
