// Links out: the inspect panel's "Open in Grafana" opens the exact URL for a node and
// an edge (in a Prometheus source's own labels where one reports the item), is
// disabled and says how to set it without a template; the requests table opens a
// row's trace; the Links dialog refuses bad templates with the reason; and each
// workspace keeps its own templates, through the window's Sources menu.

#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/linksdialog.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"
#include "mainwindow.h"
#include "sources/sourcemanager.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QUrlQuery>

using namespace meshscope;

namespace {

const QString kEdge = QStringLiteral("shop/frontend->shop/checkout");
const QString kPlain
    = QStringLiteral("http://grafana.local:3000/explore?ns={namespace}&svc={service}&from={from}&to={to}"
                     "&expr={promql}");
const QString kTraceId = QStringLiteral("4bf92f3577b34da6a3ce929d0e0e4736");

ObservedRequest request(int httpStatus = 200)
{
    ObservedRequest r;
    r.source.name = "frontend";
    r.source.ns = "shop";
    r.target.name = "checkout";
    r.target.ns = "shop";
    r.event.protocol = Protocol::Http;
    r.event.httpStatus = httpStatus;
    r.event.error = httpStatus >= 500;
    r.event.durationMs = 12;
    return r;
}

QString encoded(const QString &value) { return QString::fromLatin1(QUrl::toPercentEncoding(value)); }

// Records what would have opened in the browser.
struct Opened {
    QList<QUrl> urls;
    UrlOpener opener()
    {
        return [this](const QUrl &url) {
            urls << url;
            return true;
        };
    }
};

RequestEvent row(uint64_t seq, const std::string &traceId)
{
    RequestEvent e;
    e.seq = seq;
    e.timeMs = 1700000000000 + int64_t(seq);
    e.sourceId = "shop/frontend";
    e.targetId = "shop/checkout";
    e.protocol = Protocol::Http;
    e.method = "GET";
    e.path = "/cart";
    e.httpStatus = 200;
    e.traceId = traceId;
    return e;
}

}  // namespace

class TestLinks : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void grafanaForNodeAndEdge();
    void grafanaDisabledWithoutTemplate();
    void grafanaUsesThePrometheusSourcesLabels();
    void requestRowOpensTrace();
    void dialogRefusesBadTemplates();
    void templatesPerWorkspace();
    void windowKeepsLinksPerWorkspace();
};

void TestLinks::initTestCase()
{
    // Settings go to a throwaway location, never the user's.
    QStandardPaths::setTestModeEnabled(true);
}

void TestLinks::grafanaForNodeAndEdge()
{
    const int64_t now = 1700000000000;
    GraphAggregator agg({}, now - 60'000);
    agg.ingestRequests({request(), request(503)}, now - 1000, "otlp");
    InspectPanel panel(&agg);
    panel.setPersistenceEnabled(false);
    panel.setSnapshot(agg.snapshot(now));
    panel.setChartWindowSeconds(300);
    Opened opened;
    panel.setUrlOpener(opened.opener());
    panel.setLinkTemplates({kPlain, {}});

    // A node: what it serves, from the destination proxy's report; the chart window as from/to.
    panel.showNode(QStringLiteral("shop/checkout"));
    QVERIFY(panel.grafanaButton()->isEnabled());
    panel.grafanaAction(MeshRate::Requests)->trigger();
    QCOMPARE(opened.urls.size(), 1);
    QCOMPARE(QString::fromLatin1(opened.urls.last().toEncoded()),
        QStringLiteral("http://grafana.local:3000/explore?ns=shop&svc=checkout&from=1699999700000&to=1700000000000"
                       "&expr=sum%28rate%28istio_requests_total%7Breporter%3D~%22destination%7Cwaypoint%22%2C"
                       "destination_workload_namespace%3D%22shop%22%2Cdestination_canonical_service%3D%22checkout"
                       "%22%7D%5B1m%5D%29%29"));

    // An edge's error rate: both ends, 5xx or a gRPC failure over all its requests.
    panel.showEdge(kEdge);
    QVERIFY(panel.grafanaButton()->isEnabled());
    panel.grafanaAction(MeshRate::Errors)->trigger();
    QCOMPARE(opened.urls.size(), 2);
    const QString sel = QStringLiteral(
        R"(reporter=~"destination|waypoint",source_workload_namespace="shop",source_canonical_service="frontend",)"
        R"(destination_workload_namespace="shop",destination_canonical_service="checkout")");
    const QString promql = QStringLiteral(R"(sum(rate(istio_requests_total{%1,response_code=~"5.."}[1m]) or )"
                                          R"(rate(istio_requests_total{%1,grpc_response_status!~"0|"}[1m])) / )"
                                          R"(sum(rate(istio_requests_total{%1}[1m])))")
                               .arg(sel);
    QCOMPARE(QString::fromLatin1(opened.urls.last().toEncoded()),
        QStringLiteral("http://grafana.local:3000/explore?ns=shop&svc=checkout&from=1699999700000&to=1700000000000"
                       "&expr=")
            + encoded(promql));

    // The default example: Grafana's Explore JSON reads back with the query intact.
    panel.setLinkTemplates({LinkTemplate::example(LinkTemplate::Kind::Grafana), {}});
    panel.setChartWindowSeconds(60);
    panel.grafanaAction(MeshRate::Errors)->trigger();
    QCOMPARE(opened.urls.size(), 3);
    const QUrl url = opened.urls.last();
    QCOMPARE(url.host(), QStringLiteral("localhost"));
    QCOMPARE(url.path(), QStringLiteral("/explore"));
    const QJsonObject left
        = QJsonDocument::fromJson(QUrlQuery(url).queryItemValue(QStringLiteral("left"), QUrl::FullyDecoded).toUtf8())
              .object();
    QCOMPARE(left[QLatin1String("queries")].toArray().at(0).toObject()[QLatin1String("expr")].toString(), promql);
    QCOMPARE(
        left[QLatin1String("range")].toObject()[QLatin1String("from")].toString(), QStringLiteral("1699999940000"));
    QCOMPARE(left[QLatin1String("range")].toObject()[QLatin1String("to")].toString(), QStringLiteral("1700000000000"));
    QCOMPARE(panel.grafanaUrl(MeshRate::Errors), url);
}

void TestLinks::grafanaDisabledWithoutTemplate()
{
    const int64_t now = 1700000000000;
    GraphAggregator agg({}, now - 60'000);
    agg.ingestRequests({request()}, now - 1000, "otlp");
    InspectPanel panel(&agg);
    panel.setPersistenceEnabled(false);
    panel.setSnapshot(agg.snapshot(now));
    Opened opened;
    panel.setUrlOpener(opened.opener());
    panel.showNode(QStringLiteral("shop/checkout"));

    // No template: disabled, and the tooltip says where to set one.
    QToolButton *button = panel.grafanaButton();
    QVERIFY(!button->isEnabled());
    QVERIFY(!panel.grafanaAction(MeshRate::Requests)->isEnabled());
    QVERIFY2(button->toolTip().contains(QStringLiteral("Sources › Links to Grafana and Jaeger…")),
        qPrintable(button->toolTip()));
    QVERIFY2(button->toolTip().contains(QStringLiteral("{promql}")), qPrintable(button->toolTip()));
    panel.grafanaAction(MeshRate::Requests)->trigger();
    QVERIFY(opened.urls.isEmpty());
    QVERIFY(!panel.grafanaUrl(MeshRate::Requests).isValid());

    // A template saved wrong (by hand in the settings file): disabled with the reason.
    panel.setLinkTemplates({QStringLiteral("grafana.local/explore?q={promql}"), {}});
    QVERIFY(!button->isEnabled());
    QVERIFY2(button->toolTip().startsWith(QStringLiteral("The Grafana link must start with http:// or https://")),
        qPrintable(button->toolTip()));

    // Set: enabled. The folded node has no one query: disabled again, saying so.
    panel.setLinkTemplates({kPlain, {}});
    QVERIFY(button->isEnabled());
    QVERIFY(panel.grafanaAction(MeshRate::Errors)->isEnabled());
    panel.showNode(QStringLiteral("other"));
    QVERIFY(!button->isEnabled());
    QVERIFY2(button->toolTip().contains(QStringLiteral("folded")), qPrintable(button->toolTip()));
    panel.grafanaAction(MeshRate::Requests)->trigger();
    QVERIFY(opened.urls.isEmpty());
    // The button offers both rates.
    QCOMPARE(button->menu()->actions().size(), 2);
}

void TestLinks::grafanaUsesThePrometheusSourcesLabels()
{
    // An edge only a Linkerd Prometheus source reports: its labels, matchers and window.
    GraphAggregator agg;
    SourceManager sources(agg);
    SourceSpec spec;
    spec.id = SourceSpec::newId();
    spec.kind = SourceSpec::Kind::Prometheus;
    spec.address = QStringLiteral("http://127.0.0.1:9");
    spec.mesh = MeshKind::Linkerd;
    spec.selector = QStringLiteral("cluster=\"east\"");
    spec.windowSeconds = 120;
    QCOMPARE(sources.upsert(spec), QString());
    QVERIFY(sources.prometheusSource("prometheus"));
    PulledEdge pulled;
    pulled.source.ns = "shop";
    pulled.source.name = "frontend";
    pulled.target.ns = "shop";
    pulled.target.name = "checkout";
    pulled.stats.requests = 600;
    pulled.stats.rps = 10;
    agg.setPulledEdges("prometheus", {pulled}, GraphAggregator::wallNowMs());

    InspectPanel panel(&agg);
    panel.setPersistenceEnabled(false);
    panel.setSourceManager(&sources);
    panel.setSnapshot(agg.snapshot(GraphAggregator::wallNowMs()));
    panel.setLinkTemplates({QStringLiteral("https://g.example/explore?expr={promql}"), {}});
    panel.showEdge(kEdge);
    const QUrl url = panel.grafanaUrl(MeshRate::Requests);
    QCOMPARE(QUrlQuery(url).queryItemValue(QStringLiteral("expr"), QUrl::FullyDecoded),
        QStringLiteral(R"(sum(rate(response_total{direction="outbound",namespace="shop",deployment="frontend",)"
                       R"(dst_namespace="shop",dst_deployment="checkout",cluster="east"}[2m])))"));
    sources.stopAll();
}

void TestLinks::requestRowOpensTrace()
{
    RequestsPanel panel(nullptr);
    Opened opened;
    panel.setUrlOpener(opened.opener());
    panel.model()->append({row(1, kTraceId.toStdString()), row(2, {})});
    panel.view()->setCurrentIndex(panel.proxy()->index(0, RequestsTableModel::Path));

    // A trace ID but no link: disabled, saying where the link is set.
    QAction *open = panel.openTraceAction();
    QVERIFY(!open->isEnabled());
    QVERIFY2(open->toolTip().contains(QStringLiteral("Sources › Links to Grafana and Jaeger…")),
        qPrintable(open->toolTip()));
    open->trigger();
    QVERIFY(opened.urls.isEmpty());

    panel.setLinkTemplates({{}, LinkTemplate::example(LinkTemplate::Kind::Trace)});
    QVERIFY(open->isEnabled());
    open->trigger();
    QCOMPARE(opened.urls.size(), 1);
    QCOMPARE(opened.urls.last().toEncoded(), QByteArray("http://localhost:16686/trace/") + kTraceId.toLatin1());
    QCOMPARE(panel.currentRowTraceUrl(), opened.urls.last());

    // A row without a trace ID has nothing to open.
    panel.view()->setCurrentIndex(panel.proxy()->index(1, RequestsTableModel::Path));
    QVERIFY(!open->isEnabled());
    open->trigger();
    QCOMPARE(opened.urls.size(), 1);
}

void TestLinks::dialogRefusesBadTemplates()
{
    LinksDialog dialog({QStringLiteral("http://g:3000/explore?q={promql}"), {}});
    QList<LinkTemplates> accepted;
    connect(&dialog, &LinksDialog::templatesAccepted, this, [&](const LinkTemplates &l) { accepted << l; });
    QPushButton *save = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save);
    QVERIFY(save->isEnabled());
    QCOMPARE(dialog.grafanaField()->placeholderText(), LinkTemplate::example(LinkTemplate::Kind::Grafana));

    dialog.traceField()->setText(QStringLiteral("http://localhost:16686/search"));
    QCOMPARE(dialog.traceError(), QStringLiteral("The trace link must contain {trace_id}, where the trace ID goes."));
    QCOMPARE(dialog.findChild<QLabel *>(QStringLiteral("traceTemplateError"))->text(), dialog.traceError());
    QVERIFY(!save->isEnabled());
    dialog.grafanaField()->setText(QStringLiteral("ftp://g/explore?q={promql}"));
    QCOMPARE(dialog.grafanaError(),
        QStringLiteral("The Grafana link must start with http:// or https://: it opens in the web browser."));
    dialog.accept();
    QVERIFY(accepted.isEmpty());

    // "Use example" fills in a working template; both fine, Save hands them over trimmed.
    dialog.findChild<QToolButton *>(QStringLiteral("traceTemplateExample"))->click();
    QCOMPARE(dialog.traceError(), QString());
    dialog.grafanaField()->setText(QStringLiteral("  https://g:3000/explore?q={promql}&from={from}  "));
    QCOMPARE(dialog.grafanaError(), QString());
    QVERIFY(save->isEnabled());
    save->click();
    QCOMPARE(accepted.size(), 1);
    QCOMPARE(accepted.front().grafana, QStringLiteral("https://g:3000/explore?q={promql}&from={from}"));
    QCOMPARE(accepted.front().trace, LinkTemplate::example(LinkTemplate::Kind::Trace));
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
}

void TestLinks::templatesPerWorkspace()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("links.ini"));
    {
        QSettings s(file, QSettings::IniFormat);
        saveLinkTemplates(s, QStringLiteral("prod"),
            {QStringLiteral("https://grafana.prod/x?q={promql}"),
                QStringLiteral("https://jaeger.prod/trace/{trace_id}")});
        saveLinkTemplates(s, QStringLiteral("lab/east"), {QStringLiteral("http://localhost:3000/x?q={promql}"), {}});
    }
    QSettings s(file, QSettings::IniFormat);
    QCOMPARE(s.value(QStringLiteral("workspaces/prod/links/grafana")).toString(),
        QStringLiteral("https://grafana.prod/x?q={promql}"));
    // A slash in a workspace name stays one level deep, as MainWindow names its group.
    QCOMPARE(s.value(QStringLiteral("workspaces/lab_east/links/grafana")).toString(),
        QStringLiteral("http://localhost:3000/x?q={promql}"));
    QVERIFY(!s.contains(QStringLiteral("workspaces/lab_east/links/trace")));
    const LinkTemplates prod = loadLinkTemplates(s, QStringLiteral("prod"));
    const LinkTemplates lab = loadLinkTemplates(s, QStringLiteral("lab/east"));
    QCOMPARE(prod.trace, QStringLiteral("https://jaeger.prod/trace/{trace_id}"));
    QCOMPARE(lab.grafana, QStringLiteral("http://localhost:3000/x?q={promql}"));
    QCOMPARE(lab.trace, QString());
    QCOMPARE(loadLinkTemplates(s, QStringLiteral("nobody")), LinkTemplates());
    // Emptied: the key goes.
    saveLinkTemplates(s, QStringLiteral("prod"), {QStringLiteral("https://grafana.prod/x?q={promql}"), {}});
    QVERIFY(!s.contains(QStringLiteral("workspaces/prod/links/trace")));
    QCOMPARE(loadLinkTemplates(s, QStringLiteral("lab/east")).grafana, lab.grafana);
}

void TestLinks::windowKeepsLinksPerWorkspace()
{
    const QString a = QStringLiteral("tst-links-a"), b = QStringLiteral("tst-links-b");
    QSettings settings(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
    settings.remove(QStringLiteral("workspaces/") + a);
    settings.remove(QStringLiteral("workspaces/") + b);
    GraphAggregator agg;
    SourceManager sources(agg);
    {
        // Set in one workspace through Sources > Links to Grafana and Jaeger…
        MainWindow w(&agg, a);
        w.restoreSettings();
        w.setSourceManager(&sources);
        auto *action = w.findChild<QAction *>(QStringLiteral("linksAction"));
        QVERIFY(action);
        action->trigger();
        auto *dialog = w.findChild<LinksDialog *>();
        QVERIFY(dialog);
        dialog->grafanaField()->setText(QStringLiteral("http://grafana.a:3000/x?q={promql}"));
        dialog->traceField()->setText(QStringLiteral("http://jaeger.a:16686/trace/{trace_id}"));
        dialog->accept();
        QCOMPARE(w.inspectPanel()->linkTemplates().grafana, QStringLiteral("http://grafana.a:3000/x?q={promql}"));
        RequestsPanel *requests = w.requestsPanel();
        requests->setPaused(true);
        requests->model()->append({row(1, kTraceId.toStdString())});
        requests->view()->setCurrentIndex(requests->proxy()->index(0, RequestsTableModel::Path));
        QCOMPARE(requests->currentRowTraceUrl().toEncoded(),
            QByteArray("http://jaeger.a:16686/trace/") + kTraceId.toLatin1());
    }
    {
        // The other workspace has none; given its own, it keeps them apart.
        MainWindow w(&agg, b);
        w.restoreSettings();
        QCOMPARE(w.inspectPanel()->linkTemplates(), LinkTemplates());
        QVERIFY(!w.inspectPanel()->grafanaButton()->isEnabled());
        QSettings s(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
        saveLinkTemplates(s, b, {QStringLiteral("http://grafana.b:3000/x?q={promql}"), {}});
    }
    {
        MainWindow w(&agg, a);
        w.restoreSettings();
        QCOMPARE(w.inspectPanel()->linkTemplates(),
            LinkTemplates({QStringLiteral("http://grafana.a:3000/x?q={promql}"),
                QStringLiteral("http://jaeger.a:16686/trace/{trace_id}")}));
    }
    {
        MainWindow w(&agg, b);
        w.restoreSettings();
        QCOMPARE(w.inspectPanel()->linkTemplates().grafana, QStringLiteral("http://grafana.b:3000/x?q={promql}"));
        QCOMPARE(w.inspectPanel()->linkTemplates().trace, QString());
    }
    {
        // Not persisting (screenshots): applied for the session, not written.
        MainWindow w(&agg, b);
        w.setPersistenceEnabled(false);
        w.setSourceManager(&sources);
        w.findChild<QAction *>(QStringLiteral("linksAction"))->trigger();
        auto *dialog = w.findChild<LinksDialog *>();
        QVERIFY(dialog);
        dialog->grafanaField()->setText(QStringLiteral("http://elsewhere:3000/x?q={promql}"));
        dialog->accept();
        QCOMPARE(w.inspectPanel()->linkTemplates().grafana, QStringLiteral("http://elsewhere:3000/x?q={promql}"));
        QSettings s(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
        QCOMPARE(loadLinkTemplates(s, b).grafana, QStringLiteral("http://grafana.b:3000/x?q={promql}"));
    }
    sources.stopAll();
    settings.remove(QStringLiteral("workspaces/") + a);
    settings.remove(QStringLiteral("workspaces/") + b);
}

QTEST_MAIN(TestLinks)
#include "tst_links.moc"
