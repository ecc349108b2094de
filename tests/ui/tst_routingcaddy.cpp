// The route editor with a Caddy target, against a real Caddy (Debian's caddy 2.6.2)
// started by the test on loopback ports: server "main" routes shop.test to upstream
// A and canary.test to upstream B (two more Caddy servers answering "A" and "B").
//
// In the dashboard window, offscreen: the routes are pulled without blocking and
// shown; the operator points shop.test's backend at the canary service, reviews the
// diff and applies, and a request through Caddy reaches B; the change is in the
// history. A change made underneath (stale ETag) refuses a rollback with the reason
// shown and Caddy untouched; "Pull again" and the rollback then bring A back. A regex
// RE2 accepts but Caddy's Go regexp does not is refused by Caddy itself, shown, and
// Caddy keeps its config. An edit refused as stale can replace the other change after
// the operator confirms ("Replace theirs…"). Also the --caddy-* command line.

#include "darktheme.h"
#include "dashboardoptions.h"
#include "graph/graphaggregator.h"
#include "mainwindow.h"
#include "routing/backendweightseditor.h"
#include "routing/models/routehistorymodel.h"
#include "routing/models/routetreemodel.h"
#include "routing/routediffview.h"
#include "routing/routeeditor.h"
#include "routing/routematcheditor.h"
#include "routing/routeruleeditor.h"
#include "routing/routingcontroller.h"

#include "common/testcaddy.h"
#include "routing/caddy/caddyadmin.h"

#include <QComboBox>
#include <QDockWidget>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace meshscope;
using meshscope::test::TestCaddy;

namespace {

QString text(const char *s) { return QString::fromUtf8(s); }

}  // namespace

class TestRoutingCaddy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void commandLineNamesTheCaddyTarget();
    void editorPullsEditsAndAppliesToCaddy();

private:
    // One request to server "main" for `host`; the body names the upstream that answered.
    QByteArray throughCaddy(const QByteArray &host) const { return m_caddy.request(host); }
    QByteArray routesBody() const { return m_caddy.routesBody(); }
    QString path(const char *name) const { return m_dir.filePath(QLatin1String(name)); }
    int routeFor(const RouteEditor &editor, const std::string &host) const;

    QTemporaryDir m_dir;
    TestCaddy m_caddy;
    routing::CaddyAdminConfig m_admin;
    int m_portB = 0;
};

int TestRoutingCaddy::routeFor(const RouteEditor &editor, const std::string &host) const
{
    const auto &routes = editor.editedSet().routes;
    for (size_t i = 0; i < routes.size(); ++i) {
        if (std::find(routes[i].hostnames.begin(), routes[i].hostnames.end(), host) != routes[i].hostnames.end())
            return int(i);
    }
    return -1;
}

void TestRoutingCaddy::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    applyDarkTheme(*qApp);
    QVERIFY(m_dir.isValid());
    QString error;
    QVERIFY2(m_caddy.start(m_dir.path(),
                 {{QStringLiteral("shop"), QStringLiteral("shop.test"), TestCaddy::Upstream::A},
                     {QStringLiteral("canary"), QStringLiteral("canary.test"), TestCaddy::Upstream::B}},
                 &error),
        qPrintable(error));
    m_admin = m_caddy.admin();
    m_portB = m_caddy.portB();
}

void TestRoutingCaddy::cleanupTestCase() { m_caddy.stop(); }

void TestRoutingCaddy::commandLineNamesTheCaddyTarget()
{
    DashboardOptions o;
    QCOMPARE(DashboardOptions::parse(
                 {QStringLiteral("--caddy-admin"), QStringLiteral("http://127.0.0.1:2019"),
                     QStringLiteral("--caddy-server=main"), QStringLiteral("--caddy-insecure-skip-verify")},
                 &o),
        QString());
    QCOMPARE(o.caddyAdminUrl, QStringLiteral("http://127.0.0.1:2019"));
    QCOMPARE(o.caddyServer, QStringLiteral("main"));
    QVERIFY(o.caddyTls.insecureSkipVerify);
    QVERIFY(o.xdsListen.isEmpty());
    // A bare HOST:PORT is an http URL, as for `meshscope-cli routes pull`.
    QCOMPARE(DashboardOptions::parse({QStringLiteral("--caddy-admin"), QStringLiteral("127.0.0.1:2019"),
                                         QStringLiteral("--caddy-server"), QStringLiteral("main")},
                 &o),
        QString());
    QCOMPARE(o.caddyAdminUrl, QStringLiteral("http://127.0.0.1:2019"));

    const QString pem = path("caddy.json");  // a readable file; its content is only read on connect
    const QList<std::pair<QStringList, QString>> bad = {
        {{QStringLiteral("--caddy-server"), QStringLiteral("main")}, text("--caddy-server needs --caddy-admin")},
        {{QStringLiteral("--caddy-admin"), QStringLiteral("http://127.0.0.1:2019")},
            text("--caddy-admin needs --caddy-server")},
        {{QStringLiteral("--caddy-admin")}, text("--caddy-admin needs a URL")},
        {{QStringLiteral("--caddy-admin"), QStringLiteral("ftp://127.0.0.1:2019"), QStringLiteral("--caddy-server"),
             QStringLiteral("main")},
            text("is not an admin URL")},
        {{QStringLiteral("--caddy-admin"), QStringLiteral("http://127.0.0.1:2019"), QStringLiteral("--caddy-server"),
             QStringLiteral("main"), QStringLiteral("--xds-listen"), QStringLiteral("127.0.0.1:0")},
            text("give one")},
        {{QStringLiteral("--caddy-admin"), QStringLiteral("http://127.0.0.1:2019"), QStringLiteral("--caddy-server"),
             QStringLiteral("main"), QStringLiteral("--caddy-cert"), pem},
            text("--caddy-cert needs --caddy-key")},
        {{QStringLiteral("--caddy-ca"), path("nosuch.pem")}, text("--caddy-ca '")},
        {{QStringLiteral("--caddy-ca"), pem}, text("need --caddy-admin")},
    };
    for (const auto &[args, expected] : bad) {
        const QString err = DashboardOptions::parse(args, &o);
        QVERIFY2(err.contains(expected), qPrintable(args.join(QLatin1Char(' ')) + QStringLiteral(" -> ") + err));
        QVERIFY(!err.contains(QLatin1Char('\n')));
    }
    QVERIFY(DashboardOptions::usage().contains(text("--caddy-admin URL --caddy-server NAME")));
    QVERIFY(DashboardOptions::usage().contains(text("--caddy-insecure-skip-verify")));
}

void TestRoutingCaddy::editorPullsEditsAndAppliesToCaddy()
{
    GraphAggregator aggregator;
    MainWindow window(&aggregator, QStringLiteral("test"));
    window.setPersistenceEnabled(false);
    window.resize(1500, 950);
    auto *editor = new RouteEditor;
    window.setRouteEditor(editor);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *dock = window.findChild<QDockWidget *>(QStringLiteral("routesDock"));
    QVERIFY(dock);
    dock->raise();

    RoutingController controller(editor, m_admin, QStringLiteral("main"), path("history"));
    QCOMPARE(controller.targetName(), QStringLiteral("caddy %1 main").arg(m_admin.url.toString()));
    QSignalSpy pulled(&controller, &RoutingController::routesPulled);
    QSignalSpy finished(&controller, &RoutingController::applyFinished);
    QString error;
    QVERIFY2(controller.start(&error), qPrintable(error));
    // start() only sent the request: the GUI thread did not wait for Caddy.
    QVERIFY(controller.isBusy());
    QVERIFY(editor->appliedSet().routes.empty());
    QCOMPARE(pulled.count(), 0);
    QVERIFY(pulled.wait(10000));
    QCOMPARE(pulled.at(0).at(0).toBool(), true);
    QVERIFY(!controller.isBusy());
    QCOMPARE(controller.caddyEtag(),
        routing::CaddyAdmin::etagFor(routing::CaddyAdmin::routesPath(QStringLiteral("main")), routesBody()));

    // The editor shows the pulled routes, validated for Caddy.
    QCOMPARE(editor->dataPlane(), routing::DataPlane::Caddy);
    QCOMPARE(editor->treeModel()->rowCount(), 2);
    const int shop = routeFor(*editor, "shop.test");
    QVERIFY(shop >= 0 && routeFor(*editor, "canary.test") >= 0);
    QVERIFY(!editor->hasChanges());

    // The operator points shop.test at the canary service (upstream B).
    QVERIFY(editor->selectRule(shop, 0));
    BackendWeightsEditor *be = editor->ruleEditor()->backendsEditor();
    QCOMPARE(be->count(), 1);
    QComboBox *name = be->nameBox(0);
    QCOMPARE(name->currentText(), QStringLiteral("shop"));
    const int canary = name->findText(QStringLiteral("canary"));
    QVERIFY(canary >= 0);
    name->setCurrentIndex(canary);
    QVERIFY(editor->hasChanges());
    QVERIFY2(editor->diffText().contains(QStringLiteral("canary")), qPrintable(editor->diffText()));
    QVERIFY2(editor->applyButton()->isEnabled(), qPrintable(editor->applyButton()->toolTip()));
    QCOMPARE(throughCaddy("shop.test"), QByteArray("A"));  // nothing sent before Apply

    QTest::mouseClick(editor->applyButton(), Qt::LeftButton);
    RouteDiffDialog *review = editor->reviewDialog();
    QVERIFY(review);
    QVERIFY2(
        review->view()->toPlainText().contains(QStringLiteral("canary")), qPrintable(review->view()->toPlainText()));
    QTest::mouseClick(review->applyButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QCOMPARE(throughCaddy("shop.test"), QByteArray("B"));
    QVERIFY(routesBody().contains(QStringLiteral("127.0.0.1:%1").arg(m_portB).toUtf8()));
    // Recorded where the CLI looks, and read back for the next ETag.
    RouteHistoryModel *history = editor->historyModel();
    QCOMPARE(history->rowCount(), 1);
    QCOMPARE(history->index(0, RouteHistoryModel::Target).data().toString(), controller.targetName());
    QTRY_COMPARE_WITH_TIMEOUT(pulled.count(), 2, 10000);
    QCOMPARE(pulled.at(1).at(0).toBool(), true);
    QCOMPARE(controller.caddyEtag(),
        routing::CaddyAdmin::etagFor(routing::CaddyAdmin::routesPath(QStringLiteral("main")), routesBody()));
    QVERIFY(!editor->hasChanges());

    // Someone changes the routes underneath; rolling change 1 back is then refused
    // with the reason, and Caddy keeps what it has.
    const routing::CaddyResult underneath = routing::CaddyAdmin::requestSync(m_admin, "PUT",
        routing::CaddyAdmin::routesPath(QStringLiteral("main")) + QStringLiteral("/0/terminal"),
        QByteArrayLiteral("true"));
    QVERIFY2(underneath.ok(), qPrintable(underneath.message));
    const QByteArray changed = routesBody();
    editor->showTab(RouteEditor::Tab::History);
    editor->historyView()->setCurrentIndex(history->index(history->rowOfId(1), 0));
    QVERIFY(editor->rollbackButton()->isEnabled());
    QTest::mouseClick(editor->rollbackButton(), Qt::LeftButton);
    QVERIFY(editor->reviewDialog());
    QTest::mouseClick(editor->reviewDialog()->applyButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(1).at(0).toBool(), false);
    const QString stale
        = text("Caddy's routes for server main changed since they were read (ETag mismatch); pull again and reapply");
    QCOMPARE(finished.at(1).at(1).toString(), stale);
    QVERIFY2(editor->noticeText().contains(stale), qPrintable(editor->noticeText()));
    QCOMPARE(routesBody(), changed);
    QCOMPARE(throughCaddy("shop.test"), QByteArray("B"));
    QCOMPARE(history->rowCount(), 1);

    // The notice's "Pull again" reads the new ETag; the rollback then goes through.
    auto *pullAgain = editor->findChild<QPushButton *>(QStringLiteral("routeNoticeAction"));
    QVERIFY(pullAgain && pullAgain->isVisible());
    QCOMPARE(pullAgain->text(), QStringLiteral("Pull again"));
    QTest::mouseClick(pullAgain, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(pulled.count(), 3, 10000);
    QCOMPARE(controller.caddyEtag(),
        routing::CaddyAdmin::etagFor(routing::CaddyAdmin::routesPath(QStringLiteral("main")), changed));
    editor->historyView()->setCurrentIndex(history->index(history->rowOfId(1), 0));
    QTest::mouseClick(editor->rollbackButton(), Qt::LeftButton);
    QVERIFY(editor->reviewDialog());
    QTest::mouseClick(editor->reviewDialog()->applyButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.at(2).at(0).toBool(), qPrintable(finished.at(2).at(1).toString()));
    QCOMPARE(throughCaddy("shop.test"), QByteArray("A"));
    QCOMPARE(history->rowCount(), 2);
    QVERIFY(
        history->index(0, RouteHistoryModel::Change).data().toString().startsWith(QStringLiteral("rollback of #1")));
    QTRY_COMPARE_WITH_TIMEOUT(pulled.count(), 4, 10000);

    // A path regex RE2 compiles but Go's regexp does not: Caddy refuses the whole array,
    // the editor says so and keeps the edit; Caddy's config is unchanged.
    const QByteArray before = routesBody();
    const int shopNow = routeFor(*editor, "shop.test");
    QVERIFY(editor->selectRule(shopNow, 0));
    // Caddy matches the hostname as a Host; no xds:/// target is named.
    QVERIFY2(editor->ruleEditor()->contextText().startsWith(text("shop.test · tried in order")),
        qPrintable(editor->ruleEditor()->contextText()));
    RouteMatchEditor *match = editor->ruleEditor()->matchEditor();
    match->pathTypeBox()->setCurrentIndex(match->pathTypeBox()->findText(QStringLiteral("Regex (RE2)")));
    QLineEdit *value = match->pathValueEdit();
    value->setFocus();
    value->selectAll();
    QTest::keyClicks(value, QStringLiteral("/x\\C"));
    QVERIFY(editor->hasChanges());
    QVERIFY2(editor->applyButton()->isEnabled(), qPrintable(editor->applyButton()->toolTip()));
    QTest::mouseClick(editor->applyButton(), Qt::LeftButton);
    review = editor->reviewDialog();
    QVERIFY(review);
    QTest::mouseClick(review->applyButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(3).at(0).toBool(), false);
    const QString refused = finished.at(3).at(1).toString();
    QVERIFY2(refused.startsWith(text("Caddy refused the routes for server main and kept its config (HTTP ")),
        qPrintable(refused));
    QVERIFY2(editor->noticeText().contains(refused), qPrintable(editor->noticeText()));
    QVERIFY(editor->hasChanges());
    QCOMPARE(routesBody(), before);
    QCOMPARE(throughCaddy("shop.test"), QByteArray("A"));
    QCOMPARE(history->rowCount(), 2);

    // A regex both accept, while someone else changes the routes underneath: the apply
    // is refused as stale, and the notice offers "Replace theirs…", which asks first.
    value->selectAll();
    QTest::keyClicks(value, QStringLiteral("/x"));
    const bool terminal = routesBody().contains("\"terminal\":true");
    const routing::CaddyResult again = routing::CaddyAdmin::requestSync(m_admin, "PUT",
        routing::CaddyAdmin::routesPath(QStringLiteral("main")) + QStringLiteral("/0/terminal"),
        terminal ? QByteArrayLiteral("false") : QByteArrayLiteral("true"));
    QVERIFY2(again.ok(), qPrintable(again.message));
    const QByteArray theirs = routesBody();
    auto applyEdits = [&] {
        QTest::mouseClick(editor->applyButton(), Qt::LeftButton);
        QVERIFY(editor->reviewDialog());
        QTest::mouseClick(editor->reviewDialog()->applyButton(), Qt::LeftButton);
    };
    applyEdits();
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(4).at(1).toString(), stale);
    auto *replace = editor->findChild<QPushButton *>(QStringLiteral("routeNoticeSecondAction"));
    QVERIFY(replace && replace->isVisible());
    QCOMPARE(replace->text(), text("Replace theirs…"));
    QStringList asked;
    controller.setConfirm([&asked](const QString &question) {
        asked << question;
        return false;
    });
    QTest::mouseClick(replace, Qt::LeftButton);
    QCOMPARE(asked.size(), 1);
    QVERIFY2(asked.at(0).contains(text("changed by someone else")), qPrintable(asked.at(0)));
    QTest::qWait(300);
    QCOMPARE(finished.count(), 5);
    QCOMPARE(routesBody(), theirs);

    // Asked again and answered yes: read as it is now, then replaced and recorded.
    applyEdits();
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(5).at(1).toString(), stale);
    controller.setConfirm([&asked](const QString &question) {
        asked << question;
        return true;
    });
    QTest::mouseClick(replace, Qt::LeftButton);
    QCOMPARE(asked.size(), 2);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.at(6).at(0).toBool(), qPrintable(finished.at(6).at(1).toString()));
    QVERIFY(routesBody() != theirs);
    QVERIFY2(routesBody().contains("/x"), routesBody().constData());
    QCOMPARE(history->rowCount(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(!editor->hasChanges(), 10000);
    // The pull before the replacement said the edits were kept; once they are served,
    // that notice is gone.
    QVERIFY2(!editor->noticeText().contains(text("Your edits are kept")), qPrintable(editor->noticeText()));
    controller.stop();
}

QTEST_MAIN(TestRoutingCaddy)
#include "tst_routingcaddy.moc"
