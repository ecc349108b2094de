// The Re-layout button's "Re-layout and unpin all nodes": every pin goes, from the
// canvas and from the workspace's saved settings, and the nodes go back into the layout.

#include "canvas/graphcanvas.h"
#include "common/graphsamplemesh.h"
#include "graph/graphaggregator.h"
#include "mainwindow.h"

#include <QAction>
#include <QCoreApplication>
#include <QMenu>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>
#include <QToolButton>

#include <memory>

using namespace meshscope;

class TestRelayoutPins : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        // Settings go to a throwaway location, never the user's.
        QStandardPaths::setTestModeEnabled(true);
    }

    void unpinAllClearsPinsAndSavedPins()
    {
        const QString workspace = QStringLiteral("tst-unpin-%1").arg(QCoreApplication::applicationPid());
        const QString group = QStringLiteral("workspaces/") + workspace;
        const QString ads = QStringLiteral("shop/ads@v1"), cart = QStringLiteral("shop/cart@v1");
        GraphAggregator aggregator(AggregatorConfig {}, GraphAggregator::wallNowMs() - 60000);
        MainWindow w(&aggregator, workspace);
        w.resize(1400, 900);
        w.applySnapshot(samplemesh::realistic());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        GraphCanvas *canvas = w.canvas();
        QTRY_VERIFY(!canvas->nodeWidgetPosition(ads).isNull());
        QVERIFY(!canvas->nodeWidgetPosition(cart).isNull());

        const QPointF far(-4000, 2500), farther(-4300, 2700);
        canvas->setPinnedPositions({{ads, far}, {cart, farther}});
        w.saveSettings();
        {
            QSettings s(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
            QCOMPARE(s.value(group + QStringLiteral("/pinnedPositions")).toMap().size(), 2);
        }

        // The action sits in the Re-layout button's menu.
        auto *button = w.findChild<QToolButton *>(QStringLiteral("relayoutButton"));
        QVERIFY(button);
        QVERIFY(button->menu());
        QAction *unpinAll = w.findChild<QAction *>(QStringLiteral("relayoutUnpinAllAction"));
        QVERIFY(unpinAll);
        QVERIFY(button->menu()->actions().contains(unpinAll));
        QCOMPARE(button->defaultAction(), w.findChild<QAction *>(QStringLiteral("relayoutAction")));

        // Plain Re-layout keeps the pins.
        button->defaultAction()->trigger();
        QCOMPARE(canvas->pinnedPositions().size(), 2);

        unpinAll->trigger();
        QVERIFY(canvas->pinnedPositions().isEmpty());
        // Back in the layout, near the rest of the graph rather than where they were pinned.
        const QPointF adsNow = canvas->viewTransform().inverted().map(canvas->nodeWidgetPosition(ads));
        QVERIFY(QLineF(adsNow, far).length() > 1000);
        // And the saved pins are gone too (the window saves shortly after a change).
        QTRY_VERIFY_WITH_TIMEOUT(QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope"))
                                     .value(group + QStringLiteral("/pinnedPositions"))
                                     .toMap()
                                     .isEmpty(),
            5000);
        {
            MainWindow fresh(&aggregator, workspace);
            fresh.restoreSettings();
            QVERIFY(fresh.canvas()->pinnedPositions().isEmpty());
        }
        QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope")).remove(group);
    }
};

QTEST_MAIN(TestRelayoutPins)
#include "tst_relayoutpins.moc"
