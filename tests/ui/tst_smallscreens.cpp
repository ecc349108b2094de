// The dashboard on laptop screens with every dock open (Inspect, Live requests and a
// route editor, as when meshscope hosts a control plane), at 1280x800, 1366x768 and
// 1920x1080: the window really takes that size, and "Review & Apply…", the inspect
// panel's header and the requests table's Status, Duration and Trace ID columns are
// on screen; Inspect and Routes show at once (not as tabs), also after a layout saved
// by an older version is restored; the canvas legend never covers a node's label in
// the fitted view; selecting a service selects the rule routing to it without taking
// the keyboard from the canvas; closing with unapplied route edits asks first.

#include "canvas/canvastheme.h"
#include "canvas/graphcanvas.h"
#include "common/graphsamplemesh.h"
#include "darktheme.h"
#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"
#include "mainwindow.h"
#include "routing/routeactions.h"
#include "routing/routeeditor.h"
#include "routing/yaml/routeyaml.h"

#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>
#include <QtTest>

#include <algorithm>
#include <memory>

using namespace meshscope;

namespace {

const QString kReviews = QStringLiteral("bookinfo/reviews@v2");
const QString kPayment = QStringLiteral("shop/payment@v1");  // no route sends traffic to it

routing::RouteSet bookinfoRoutes()
{
    const QString path = QFINDTESTDATA(QStringLiteral("../../examples/routes/bookinfo-reviews.yaml"));
    return routing::loadRouteFile(path.toStdString()).set;
}

// `rect` (in `widget`'s coordinates) as far as it can be seen inside `window`: clipped
// by every ancestor on the way (scroll area viewports, docks, the window itself).
QRect shownPart(QWidget *widget, const QRect &rect, QWidget *window)
{
    QRect visible(widget->mapTo(window, rect.topLeft()), rect.size());
    for (QWidget *w = widget; w && w != window; w = w->parentWidget()) {
        if (w->isHidden())
            return {};
        visible &= QRect(w->mapTo(window, QPoint(0, 0)), w->size());
    }
    return visible & window->rect();
}

bool wholeOnScreen(QWidget *widget, QWidget *window)
{
    return widget && widget->isVisible() && !widget->rect().isEmpty()
        && shownPart(widget, widget->rect(), window).size() == widget->size();
}

}  // namespace

class TestSmallScreens : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<MainWindow> m_window;
    RouteEditor *m_editor = nullptr;

    // The window as main.cpp builds it with --xds-listen and a route file, every dock open.
    bool openWindow(QSize size)
    {
        m_aggregator = std::make_unique<GraphAggregator>();
        m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
        m_window->setPersistenceEnabled(false);
        m_editor = new RouteEditor;
        m_window->setRouteEditor(m_editor);
        m_editor->setTargetDescription(QStringLiteral("xDS 127.0.0.1:18000"));
        m_editor->setApplied(bookinfoRoutes(), 3);
        m_window->applySnapshot(samplemesh::realistic());
        m_window->resize(size);
        m_window->show();
        if (!QTest::qWaitForWindowExposed(m_window.get()))
            return false;
        QApplication::setActiveWindow(m_window.get());
        return QTest::qWaitFor([this] { return !m_window->canvas()->nodeWidgetPosition(kReviews).isNull(); });
    }

    void waitForRender()
    {
        QVERIFY(QTest::qWaitFor([this] { return m_window->canvas()->isRenderUpToDate(); }, 15000));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        applyDarkTheme(*qApp);
    }

    void cleanup()
    {
        m_window.reset();
        m_aggregator.reset();
    }

    void sizes_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::newRow("1280x800") << QSize(1280, 800);
        QTest::newRow("1366x768") << QSize(1366, 768);
        QTest::newRow("1920x1080") << QSize(1920, 1080);
    }

    void everyControlFitsOnScreen_data() { sizes_data(); }
    void everyControlFitsOnScreen()
    {
        QFETCH(QSize, size);
        QVERIFY(openWindow(size));
        MainWindow *w = m_window.get();
        // The window can be that small, so it is that size: nothing forces it wider.
        QVERIFY2(w->minimumSizeHint().width() <= size.width() && w->minimumSizeHint().height() <= size.height(),
            qPrintable(
                QStringLiteral("minimum %1x%2").arg(w->minimumSizeHint().width()).arg(w->minimumSizeHint().height())));
        QTRY_COMPARE(w->size(), size);

        QCOMPARE(w->selectNode(kReviews), kReviews);
        QTest::qWait(50);

        // Inspect and Routes side by side in time: both shown, neither a tab of the other.
        for (QDockWidget *dock : {w->inspectDock(), w->routesDock(), w->requestsDock()}) {
            QVERIFY2(wholeOnScreen(dock, w), qPrintable(dock->objectName()));
            QVERIFY(w->tabifiedDockWidgets(dock).isEmpty());
        }
        QVERIFY(!w->inspectDock()->geometry().intersects(w->routesDock()->geometry()));
        // The canvas keeps a usable share of the window.
        QVERIFY2(w->canvas()->width() >= size.width() / 2, qPrintable(QString::number(w->canvas()->width())));
        QVERIFY2(w->canvas()->height() >= size.height() / 2 - 40, qPrintable(QString::number(w->canvas()->height())));

        QVERIFY2(wholeOnScreen(m_editor->applyButton(), w), "Review & Apply");
        QVERIFY(wholeOnScreen(m_editor->findChild<QPushButton *>(QStringLiteral("revertRouteButton")), w));
        QVERIFY2(
            wholeOnScreen(w->inspectPanel()->findChild<QLabel *>(QStringLiteral("inspectTitle")), w), "inspect title");
        QVERIFY2(wholeOnScreen(w->inspectPanel()->findChild<QLabel *>(QStringLiteral("inspectHealth")), w),
            "inspect health pill");

        // The requests table's trailing columns are in view, wide enough to read.
        auto *table = w->requestsPanel()->findChild<QTableView *>(QStringLiteral("requestsTable"));
        QVERIFY(wholeOnScreen(table, w));
        QHeaderView *header = table->horizontalHeader();
        const int cw = table->fontMetrics().averageCharWidth();
        for (int column : {int(RequestsTableModel::Status), int(RequestsTableModel::Duration),
                 int(RequestsTableModel::TraceId), int(RequestsTableModel::Path)}) {
            const QRect section(
                header->sectionViewportPosition(column), 0, header->sectionSize(column), header->height());
            const QString name = table->model()->headerData(column, Qt::Horizontal).toString();
            QVERIFY2(!header->isSectionHidden(column), qPrintable(name));
            QVERIFY2(header->sectionSize(column) >= 6 * cw, qPrintable(name));
            QVERIFY2(shownPart(header->viewport(), section, w)
                    == QRect(header->viewport()->mapTo(w, section.topLeft()), section.size()),
                qPrintable(name + QStringLiteral(" at ") + QString::number(section.x())));
        }
    }

    void legendLeavesNodeLabelsAlone_data() { sizes_data(); }
    void legendLeavesNodeLabelsAlone()
    {
        QFETCH(QSize, size);
        QVERIFY(openWindow(size));
        GraphCanvas *canvas = m_window->canvas();
        QComboBox *namespaces = m_window->namespaceCombo();
        // The whole mesh (at 1280 px too far out for labels), and one namespace, close
        // enough for every name to be drawn; each with the legend folded and open.
        for (const QString &ns : {QString(), QStringLiteral("bookinfo")}) {
            namespaces->setCurrentIndex(std::max(0, namespaces->findData(ns)));
            QCOMPARE(canvas->filter().ns, ns);
            for (const bool folded : {true, false}) {
                canvas->setLegendCollapsed(folded);
                canvas->fitToView();
                waitForRender();
                QCOMPARE(canvas->isLegendCollapsed(), folded);
                const QRectF legend = canvas->legendRect();
                QVERIFY(!legend.isEmpty());
                QVERIFY(QRectF(canvas->rect()).contains(legend));
                const QHash<QString, QRectF> labels = canvas->nodeLabelRects();
                if (!ns.isEmpty() || size.width() >= 1920)
                    QVERIFY2(labels.size() >= 6, qPrintable(QString::number(labels.size())));
                for (auto it = labels.begin(); it != labels.end(); ++it) {
                    QVERIFY2(!it.value().intersects(legend),
                        qPrintable(QStringLiteral("%1 (folded %2): label %3,%4 %5x%6 under the legend at %7,%8")
                                       .arg(it.key())
                                       .arg(folded)
                                       .arg(it.value().x())
                                       .arg(it.value().y())
                                       .arg(it.value().width())
                                       .arg(it.value().height())
                                       .arg(legend.x())
                                       .arg(legend.y())));
                }
            }
        }
    }

    // Rates on the graph at the zoom it opens with: labels at the fitted view, none on
    // a node, a node's name or another label.
    void edgeLabelsAtFitCoverNoNodeOrLabel_data() { sizes_data(); }
    void edgeLabelsAtFitCoverNoNodeOrLabel()
    {
        QFETCH(QSize, size);
        QVERIFY(openWindow(size));
        GraphCanvas *canvas = m_window->canvas();
        canvas->setEdgeLabel(GraphCanvas::EdgeLabel::Rps);
        QComboBox *namespaces = m_window->namespaceCombo();
        for (const QString &ns : {QString(), QStringLiteral("bookinfo")}) {
            namespaces->setCurrentIndex(std::max(0, namespaces->findData(ns)));
            canvas->fitToView();
            waitForRender();
            const QHash<QString, QRectF> nodeLabels = canvas->nodeLabelRects();
            const QHash<QString, QRectF> edgeLabels = canvas->edgeLabelRects();
            const QString where = QStringLiteral("%1 at %2 %")
                                      .arg(ns.isEmpty() ? QStringLiteral("all") : ns)
                                      .arg(canvas->zoom() * 100, 0, 'f', 0);
            if (nodeLabels.isEmpty()) {
                QVERIFY2(edgeLabels.isEmpty(), qPrintable(where));  // too far out for any label
                continue;
            }
            QVERIFY2(edgeLabels.size() >= 3, qPrintable(where + QStringLiteral(": %1").arg(edgeLabels.size())));
            const double r = canvas::kNodeRadius * canvas->zoom();
            for (auto e = edgeLabels.begin(); e != edgeLabels.end(); ++e) {
                QVERIFY2(QRectF(canvas->rect()).intersects(e.value()), qPrintable(e.key()));
                for (auto n = nodeLabels.begin(); n != nodeLabels.end(); ++n) {
                    QVERIFY2(!e.value().intersects(n.value()),
                        qPrintable(where + QStringLiteral(": %1 on the name of %2").arg(e.key(), n.key())));
                    const QPointF c = canvas->nodeWidgetPosition(n.key());
                    QVERIFY2(!e.value().intersects(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)),
                        qPrintable(where + QStringLiteral(": %1 on node %2").arg(e.key(), n.key())));
                }
                for (auto o = std::next(e); o != edgeLabels.end(); ++o)
                    QVERIFY2(!e.value().intersects(o.value()),
                        qPrintable(where + QStringLiteral(": %1 on %2").arg(e.key(), o.key())));
            }
        }
    }

    // Two versions of a service never read the same: short of room, the middle of the
    // name goes before the version does.
    void versionsOfOneServiceReadApart_data() { sizes_data(); }
    void versionsOfOneServiceReadApart()
    {
        QFETCH(QSize, size);
        QVERIFY(openWindow(size));
        GraphCanvas *canvas = m_window->canvas();
        QComboBox *namespaces = m_window->namespaceCombo();
        int checked = 0;
        for (const QString &ns : {QString(), QStringLiteral("bookinfo")}) {
            namespaces->setCurrentIndex(std::max(0, namespaces->findData(ns)));
            for (const double zoom : {0.0, 0.4, 0.55}) {
                canvas->fitToView();
                if (zoom > 0)
                    canvas->zoomBy(zoom / canvas->zoom(), QPointF(canvas->width() / 2.0, canvas->height() / 2.0));
                waitForRender();
                const QHash<QString, QString> texts = canvas->nodeLabelTexts();
                QSet<QString> seen;
                for (auto it = texts.begin(); it != texts.end(); ++it) {
                    if (!it.key().startsWith(QStringLiteral("bookinfo/reviews@v")))
                        continue;
                    const QString at = QStringLiteral("%1 reads '%2' at %3 %")
                                           .arg(it.key(), it.value())
                                           .arg(canvas->zoom() * 100, 0, 'f', 0);
                    QVERIFY2(it.value().endsWith(it.key().right(2)), qPrintable(at));
                    QVERIFY2(!seen.contains(it.value()), qPrintable(at));
                    seen.insert(it.value());
                    ++checked;
                }
            }
        }
        QVERIFY(checked >= 3);
    }

    void clickingTheLegendFoldsIt()
    {
        QVERIFY(openWindow(QSize(1920, 1080)));
        GraphCanvas *canvas = m_window->canvas();
        QVERIFY(!canvas->isLegendCollapsed());  // room enough for the whole legend
        const QRectF open = canvas->legendRect();
        const QString selected = canvas->selectedNode();
        QTest::mouseClick(canvas, Qt::LeftButton, {}, open.center().toPoint());
        QVERIFY(canvas->isLegendCollapsed());
        QVERIFY(canvas->legendRect().width() < open.width() / 3);
        QCOMPARE(canvas->selectedNode(), selected);  // the click went to the legend alone
        QTest::mouseClick(canvas, Qt::LeftButton, {}, canvas->legendRect().center().toPoint());
        QVERIFY(!canvas->isLegendCollapsed());
        QCOMPARE(canvas->legendRect(), open);
    }

    void selectingANodeFocusesItsRoutes()
    {
        QVERIFY(openWindow(QSize(1280, 800)));
        GraphCanvas *canvas = m_window->canvas();
        canvas->setFocus(Qt::OtherFocusReason);
        QTRY_VERIFY(canvas->hasFocus());
        const auto want = routing::findRuleFor(m_editor->editedSet(), kReviews.toStdString());
        QVERIFY(want.has_value());
        QVERIFY(m_editor->currentRoute() != want->route || m_editor->currentRule() != want->rule);

        QTest::mouseClick(canvas, Qt::LeftButton, {}, canvas->nodeWidgetPosition(kReviews).toPoint());
        QCOMPARE(canvas->selectedNode(), kReviews);
        QCOMPARE(m_editor->currentRoute(), want->route);
        QCOMPARE(m_editor->currentRule(), want->rule);
        QVERIFY(wholeOnScreen(
            m_window->inspectPanel()->findChild<QLabel *>(QStringLiteral("inspectTitle")), m_window.get()));
        QVERIFY2(canvas->hasFocus(),
            QApplication::focusWidget() ? QApplication::focusWidget()->metaObject()->className() : "none");

        // A service nothing routes to leaves the editor as it was, without a notice.
        QTest::mouseClick(canvas, Qt::LeftButton, {}, canvas->nodeWidgetPosition(kPayment).toPoint());
        QCOMPARE(canvas->selectedNode(), kPayment);
        QCOMPARE(m_editor->currentRoute(), want->route);
        QCOMPARE(m_editor->currentRule(), want->rule);
        QVERIFY(m_editor->noticeText().isEmpty());
        QVERIFY(canvas->hasFocus());
    }

    void closingAsksOnlyWithUnappliedEdits()
    {
        QVERIFY(openWindow(QSize(1366, 768)));
        QStringList asked;
        MainWindow::CloseAnswer answer = MainWindow::CloseAnswer::Cancel;
        m_window->setCloseQuestion([&](const QString &question) {
            asked << question;
            return answer;
        });

        // A weight moved: an edit Apply accepts.
        routing::RouteSet edited = bookinfoRoutes();
        auto rule = std::find_if(edited.routes.front().rules.begin(), edited.routes.front().rules.end(),
            [](const routing::RouteRule &r) { return r.backends.size() >= 2; });
        QVERIFY(rule != edited.routes.front().rules.end());
        rule->backends[0].weight += 10;
        m_editor->setEdited(edited);
        QVERIFY(m_editor->canApply());
        QVERIFY(!m_window->close());
        QCOMPARE(asked.size(), 1);
        QVERIFY2(asked.first().contains(QStringLiteral("unapplied")), qPrintable(asked.first()));
        QVERIFY(m_window->isVisible());

        // Review: the window stays, with the diff up for review.
        answer = MainWindow::CloseAnswer::Review;
        QVERIFY(!m_window->close());
        QCOMPARE(asked.size(), 2);
        QVERIFY(m_window->isVisible());
        QVERIFY(m_window->routesDock()->isVisible());
        QVERIFY(m_editor->reviewDialog() != nullptr);
        m_editor->reviewDialog()->reject();

        // Without unapplied edits nothing is asked.
        m_editor->revert();
        QVERIFY(!m_editor->hasChanges());
        QVERIFY(m_window->close());
        QCOMPARE(asked.size(), 2);
        QVERIFY(!m_window->isVisible());

        // Discard closes.
        m_window->show();
        m_editor->createRouteFor(kPayment);
        answer = MainWindow::CloseAnswer::Discard;
        QVERIFY(m_window->close());
        QCOMPARE(asked.size(), 3);
        QVERIFY(!m_window->isVisible());
    }

    void closeQuestionIsAMessageBoxByDefault()
    {
        QVERIFY(openWindow(QSize(1366, 768)));
        m_editor->createRouteFor(kPayment);
        QString title;
        QStringList buttons;
        QTimer::singleShot(0, this, [&] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box)
                return;
            title = box->windowTitle();
            for (QAbstractButton *b : box->buttons())
                buttons << b->text();
            box->button(QMessageBox::Cancel)->click();
        });
        QVERIFY(!m_window->close());
        QCOMPARE(title, QStringLiteral("Unapplied route changes"));
        QVERIFY2(buttons.contains(QStringLiteral("&Discard and Quit")), qPrintable(buttons.join(QLatin1Char(','))));
        QVERIFY(m_window->isVisible());
        m_window->closeWithoutAsking();  // what Ctrl+C in the terminal does
        QVERIFY(!m_window->isVisible());
    }

    void oldTabbedLayoutIsNotRestored()
    {
        const QString workspace = QStringLiteral("tst-small-%1").arg(QCoreApplication::applicationPid());
        const QString group = QStringLiteral("workspaces/") + workspace;
        GraphAggregator aggregator;
        {
            // What an older version saved: Routes a tab behind Inspect (state version 0).
            MainWindow w(&aggregator, workspace);
            w.setRouteEditor(new RouteEditor);
            w.tabifyDockWidget(w.inspectDock(), w.routesDock());
            QVERIFY(!w.tabifiedDockWidgets(w.routesDock()).isEmpty());
            QSettings s(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
            s.setValue(group + QStringLiteral("/windowState"), w.saveState());
        }
        {
            // Restored before the route editor exists, as main.cpp does.
            MainWindow w(&aggregator, workspace);
            w.restoreSettings();
            w.setRouteEditor(new RouteEditor);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            QVERIFY(w.tabifiedDockWidgets(w.routesDock()).isEmpty());
            QVERIFY(w.inspectDock()->isVisible() && w.routesDock()->isVisible());
            // A layout the user makes now is kept.
            w.addDockWidget(Qt::LeftDockWidgetArea, w.routesDock());
            w.saveSettings();
        }
        {
            MainWindow w(&aggregator, workspace);
            w.restoreSettings();
            w.setRouteEditor(new RouteEditor);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            QCOMPARE(w.dockWidgetArea(w.routesDock()), Qt::LeftDockWidgetArea);
        }
        QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope")).remove(group);
    }
};

QTEST_MAIN(TestSmallScreens)
#include "tst_smallscreens.moc"
