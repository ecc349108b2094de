// Item models of the dashboard (live requests, peers, status codes) and their proxies,
// each run under QAbstractItemModelTester; plus the display formatting they share and
// the GUI's command-line parsing.

#include "dashboardoptions.h"
#include "displayformat.h"
#include "englishplurals.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/models/statuscodesmodel.h"
#include "sources/models/peerstablemodel.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTest>

using namespace meshscope;

namespace {

RequestEvent request(uint64_t seq, const std::string &path = "/api/items", int http = 200)
{
    RequestEvent e;
    e.seq = seq;
    e.timeMs = 1700000000000 + int64_t(seq);
    e.sourceId = "shop/frontend@v1";
    e.targetId = "shop/backend@v2";
    e.protocol = Protocol::Http;
    e.method = "GET";
    e.path = path;
    e.httpStatus = http;
    e.error = http >= 500;
    e.durationMs = 12.5;
    e.traceId = "0af7651916cd43dd8448eb211c80319c";
    return e;
}

std::vector<RequestEvent> batch(uint64_t firstSeq, int n)
{
    std::vector<RequestEvent> v;
    for (int i = 0; i < n; ++i)
        v.push_back(request(firstSeq + uint64_t(i), "/api/items/" + std::to_string(i), i % 10 == 0 ? 503 : 200));
    return v;
}

}  // namespace

class TestModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void requestsAppendInOneInsertPerBatch();
    void requestsStayBounded();
    void requestsMergeLateArrivalsInStartOrder();
    void requestsRedactCredentialsInPaths();
    void requestsProxyFilters();
    void peersUpdateInPlaceOrReset();
    void peersProxySorts();
    void statusCodesNamesAndShares();
    void formatting();
    void optionsParse();
    void optionsCheckSourceValues();
    void pluralsReadAsEnglish();
};

void TestModels::requestsAppendInOneInsertPerBatch()
{
    RequestsTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QCOMPARE(model.append(batch(1, 50)), 50);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(model.columnCount(), int(RequestsTableModel::ColumnCount));
    QCOMPARE(model.append({}), 0);
    QCOMPARE(inserted.count(), 1);

    const QModelIndex first = model.index(0, RequestsTableModel::From);
    QCOMPARE(first.data().toString(), QStringLiteral("frontend@v1"));
    QCOMPARE(first.data(Qt::ToolTipRole).toString(), QStringLiteral("shop/frontend@v1"));
    QCOMPARE(model.index(0, RequestsTableModel::Status).data().toString(), QStringLiteral("503"));
    QVERIFY(model.index(0, RequestsTableModel::Status).data(RequestsTableModel::ErrorRole).toBool());
    QCOMPARE(model.index(1, RequestsTableModel::Duration).data().toString(), QStringLiteral("12.5 ms"));
    QCOMPARE(model.index(1, RequestsTableModel::Protocol).data().toString(), QStringLiteral("http"));
    QCOMPARE(model.index(1, RequestsTableModel::TraceId).data().toString(),
        QStringLiteral("0af7651916cd43dd8448eb211c80319c"));
    QCOMPARE(model.headerData(RequestsTableModel::Path, Qt::Horizontal).toString(), QStringLiteral("Path"));

    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestModels::requestsStayBounded()
{
    RequestsTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(100);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.append(batch(1, 80));
    model.append(batch(81, 60));  // 40 oldest leave, in one removal
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(model.index(0, 0).data(RequestsTableModel::SeqRole).toULongLong(), 41ull);
    QCOMPARE(model.index(99, 0).data(RequestsTableModel::SeqRole).toULongLong(), 140ull);

    // A batch larger than the capacity keeps only its newest rows.
    model.append(batch(1000, 250));
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.index(0, 0).data(RequestsTableModel::SeqRole).toULongLong(), 1150ull);

    model.setCapacity(10);
    QCOMPARE(model.rowCount(), 10);
    QCOMPARE(model.index(9, 0).data(RequestsTableModel::SeqRole).toULongLong(), 1249ull);
}

void TestModels::requestsMergeLateArrivalsInStartOrder()
{
    RequestsTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(8);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    auto at = [](uint64_t seq, int64_t ms) {
        RequestEvent e = request(seq);
        e.timeMs = ms;
        return e;
    };
    auto times = [&model] {
        QList<qlonglong> out;
        for (int r = 0; r < model.rowCount(); ++r)
            out << model.index(r, 0).data(RequestsTableModel::TimeMsRole).toLongLong();
        return out;
    };
    // A batch in any order lands sorted, in one insert.
    QCOMPARE(model.append({at(1, 30), at(2, 10), at(3, 20)}), 3);
    QCOMPARE(times(), QList<qlonglong>({10, 20, 30}));
    QCOMPARE(inserted.count(), 1);
    // Newer rows append; late ones go between, one insert per gap they fill.
    model.append({at(4, 40), at(5, 15), at(6, 16), at(7, 5)});
    QCOMPARE(times(), QList<qlonglong>({5, 10, 15, 16, 20, 30, 40}));
    QCOMPARE(inserted.count(), 4);
    // The same start time keeps the order of arrival.
    model.append({at(8, 20)});
    QCOMPARE(model.index(4, 0).data(RequestsTableModel::SeqRole).toULongLong(), 3ull);
    QCOMPARE(model.index(5, 0).data(RequestsTableModel::SeqRole).toULongLong(), 8ull);
    // Past the capacity the earliest leave.
    model.append({at(9, 50), at(10, 1)});
    QCOMPARE(model.rowCount(), 8);
    QCOMPARE(times(), QList<qlonglong>({10, 15, 16, 20, 20, 30, 40, 50}));
}

void TestModels::requestsRedactCredentialsInPaths()
{
    RequestsTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append({request(1, "/login?user=bob&token=s3cr3t"), request(2, "/search?q=shoes&page=2"),
        request(3, "/v1/charge?api_key=abc"), request(4, "/reset?Password=hunter2"),
        request(5, "/cb?code=xyz&state=1")});
    QCOMPARE(model.index(0, RequestsTableModel::Path).data().toString(), QStringLiteral("/login?…"));
    QCOMPARE(model.index(1, RequestsTableModel::Path).data().toString(), QStringLiteral("/search?q=shoes&page=2"));
    QCOMPARE(model.index(2, RequestsTableModel::Path).data().toString(), QStringLiteral("/v1/charge?…"));
    QCOMPARE(model.index(3, RequestsTableModel::Path).data().toString(), QStringLiteral("/reset?…"));
    QCOMPARE(model.index(4, RequestsTableModel::Path).data().toString(), QStringLiteral("/cb?…"));
    for (int r = 0; r < model.rowCount(); ++r) {
        for (int c = 0; c < model.columnCount(); ++c) {
            const QString text
                = model.index(r, c).data().toString() + model.index(r, c).data(Qt::ToolTipRole).toString();
            QVERIFY2(
                !text.contains(QLatin1String("s3cr3t")) && !text.contains(QLatin1String("hunter2")), qPrintable(text));
        }
    }
}

void TestModels::requestsProxyFilters()
{
    RequestsTableModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setFilterKeyColumn(-1);
    proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(batch(1, 30));
    proxy.setFilterFixedString(QStringLiteral("503"));
    QCOMPARE(proxy.rowCount(), 3);
    model.append(batch(31, 10));  // rows arriving while filtered are filtered too
    QCOMPARE(proxy.rowCount(), 4);
    model.setCapacity(5);
    QCOMPARE(proxy.rowCount(), 0);
    proxy.setFilterFixedString(QString());
    QCOMPARE(proxy.rowCount(), 5);
}

void TestModels::peersUpdateInPlaceOrReset()
{
    PeersTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto peer = [](const char *id, const char *label, double rps, double err) {
        PeersTableModel::PeerRow p;
        p.id = QLatin1String(id);
        p.label = QLatin1String(label);
        p.stats.requests = 100;
        p.stats.rps = rps;
        p.stats.errorRate = err;
        p.stats.p95Ms = 42;
        p.health = HealthPolicy {}.classify(p.stats);
        return p;
    };
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setPeers({peer("shop/a", "a", 10, 0), peer("shop/b", "b", 2.5, 0.2)});
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0, PeersTableModel::Peer).data().toString(), QStringLiteral("a"));
    QCOMPARE(model.index(0, PeersTableModel::Rps).data().toString(), QStringLiteral("10.0"));
    QCOMPARE(model.index(1, PeersTableModel::ErrorRate).data().toString(), QStringLiteral("20.0 %"));
    QCOMPARE(model.index(1, PeersTableModel::P95).data().toString(), QStringLiteral("42.0 ms"));
    QCOMPARE(
        model.index(1, PeersTableModel::Peer).data(PeersTableModel::PeerIdRole).toString(), QStringLiteral("shop/b"));

    // Same peers, new numbers: cells change, rows (and the user's selection) stay.
    model.setPeers({peer("shop/a", "a", 11, 0), peer("shop/b", "b", 3, 0.2)});
    QCOMPARE(reset.count(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.index(0, PeersTableModel::Rps).data().toString(), QStringLiteral("11.0"));

    model.setPeers({peer("shop/c", "c", 1, 0)});
    QCOMPARE(reset.count(), 2);
    QCOMPARE(model.rowCount(), 1);
    model.setPeerHeader(QStringLiteral("From"));
    QCOMPARE(model.headerData(PeersTableModel::Peer, Qt::Horizontal).toString(), QStringLiteral("From"));
    model.setPeers({});
    QCOMPARE(model.rowCount(), 0);
}

void TestModels::peersProxySorts()
{
    PeersTableModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(PeersTableModel::SortRole);
    proxy.setDynamicSortFilter(true);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.sort(PeersTableModel::Rps, Qt::DescendingOrder);
    QVector<PeersTableModel::PeerRow> rows;
    for (int i = 0; i < 5; ++i) {
        PeersTableModel::PeerRow p;
        p.id = QStringLiteral("n%1").arg(i);
        p.label = p.id;
        p.stats.rps = i * 1.5;
        rows.append(p);
    }
    model.setPeers(rows);
    QCOMPARE(proxy.index(0, PeersTableModel::Peer).data().toString(), QStringLiteral("n4"));
    // Numbers change in place and the proxy re-sorts (9.5 rps is more than 6 rps).
    rows[1].stats.rps = 9.5;
    model.setPeers(rows);
    QCOMPARE(proxy.index(0, PeersTableModel::Peer).data().toString(), QStringLiteral("n1"));
}

void TestModels::statusCodesNamesAndShares()
{
    StatusCodesModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(StatusCodesModel::SortRole);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.sort(StatusCodesModel::Code);

    model.setCodes({{200, 900}, {503, 50}, {1014, 40}, {1000, 10}});
    QCOMPARE(model.rowCount(), 4);
    // Most frequent first.
    QCOMPARE(model.index(0, StatusCodesModel::Code).data().toString(), QStringLiteral("200 OK"));
    QCOMPARE(model.index(0, StatusCodesModel::Count).data().toString(), QStringLiteral("900"));
    QCOMPARE(model.index(0, StatusCodesModel::Share).data().toString(), QStringLiteral("90.0 %"));
    QCOMPARE(model.index(1, StatusCodesModel::Code).data().toString(), QStringLiteral("503 Service Unavailable"));
    QCOMPARE(model.index(2, StatusCodesModel::Code).data().toString(), QStringLiteral("gRPC UNAVAILABLE (14)"));
    QCOMPARE(model.index(3, StatusCodesModel::Code).data().toString(), QStringLiteral("gRPC OK (0)"));
    QCOMPARE(model.index(2, StatusCodesModel::Code).data(StatusCodesModel::CodeRole).toInt(), 1014);
    QCOMPARE(proxy.index(0, StatusCodesModel::Code).data().toString(), QStringLiteral("200 OK"));
    QCOMPARE(proxy.index(3, StatusCodesModel::Code).data().toString(), QStringLiteral("gRPC UNAVAILABLE (14)"));

    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setCodes({{200, 1000}, {503, 60}, {1014, 41}, {1000, 10}});
    QCOMPARE(reset.count(), 0);  // same codes in the same order: updated in place
    model.setCodes({{404, 3}});
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.index(0, StatusCodesModel::Code).data().toString(), QStringLiteral("404 Not Found"));
    model.setCodes({});
    QCOMPARE(model.rowCount(), 0);
}

void TestModels::formatting()
{
    QCOMPARE(display::percent(0), QStringLiteral("0 %"));
    QCOMPARE(display::percent(0.0123), QStringLiteral("1.23 %"));
    QCOMPARE(display::percent(0.00001), QStringLiteral("<0.01 %"));
    QCOMPARE(display::millis(0.5), QStringLiteral("0.50 ms"));
    QCOMPARE(display::millis(1500), QStringLiteral("1.50 s"));
    QCOMPARE(display::rps(1234.4), QStringLiteral("1234"));
    QCOMPARE(display::count(1234567), QStringLiteral("1,234,567"));
    QCOMPARE(display::statusCode(1004), QStringLiteral("gRPC DEADLINE_EXCEEDED (4)"));
    QCOMPARE(display::requestStatus(-1, 14), QStringLiteral("gRPC UNAVAILABLE"));
    QCOMPARE(display::requestStatus(404, -1), QStringLiteral("404"));
    QCOMPARE(display::nodeLabel("ns/name@v1"), QStringLiteral("name@v1"));
    QCOMPARE(display::nodeLabel("ext:api.example.com"), QStringLiteral("api.example.com"));
    QCOMPARE(display::redactPath("/a?session_id=1"), QStringLiteral("/a?…"));
    QCOMPARE(display::redactPath("/plain"), QStringLiteral("/plain"));
}

void TestModels::optionsParse()
{
    DashboardOptions o;
    QCOMPARE(DashboardOptions::parse({}, &o), QString());
    QCOMPARE(o.otlpListen, QStringLiteral("127.0.0.1:4317"));
    QCOMPARE(o.workspace, QStringLiteral("default"));
    QVERIFY(!o.demo);

    QCOMPARE(DashboardOptions::parse(
                 {QStringLiteral("--demo"), QStringLiteral("--workspace"), QStringLiteral("prod"),
                     QStringLiteral("--screenshot"), QStringLiteral("/tmp/x.png"),
                     QStringLiteral("--screenshot-after-ms=2500"), QStringLiteral("--screenshot-select"),
                     QStringLiteral("frontend"), QStringLiteral("-platform"), QStringLiteral("offscreen")},
                 &o),
        QString());
    QVERIFY(o.demo);
    QCOMPARE(o.workspace, QStringLiteral("prod"));
    QCOMPARE(o.screenshotFile, QStringLiteral("/tmp/x.png"));
    QCOMPARE(o.screenshotAfterMs, 2500);
    QCOMPARE(o.screenshotSelect, QStringLiteral("frontend"));

    QCOMPARE(
        DashboardOptions::parse({QStringLiteral("--otlp-listen"), QStringLiteral("0.0.0.0:14317")}, &o), QString());
    QCOMPARE(o.otlpListen, QStringLiteral("0.0.0.0:14317"));
    QVERIFY(o.otlpListenGiven);

    QVERIFY(!DashboardOptions::parse({QStringLiteral("--otlp-listen")}, &o).isEmpty());
    QVERIFY(!DashboardOptions::parse({QStringLiteral("--otlp-listen"), QStringLiteral("nohost")}, &o).isEmpty());
    QVERIFY(!DashboardOptions::parse({QStringLiteral("--screenshot"), QStringLiteral("x.png")}, &o).isEmpty());
    QVERIFY(!DashboardOptions::parse({QStringLiteral("--screenshot-after-ms"), QStringLiteral("-5")}, &o).isEmpty());
    QVERIFY(!DashboardOptions::parse({QStringLiteral("--screenshot-select"), QStringLiteral("a")}, &o).isEmpty());
    QVERIFY(DashboardOptions::parse({QStringLiteral("--frobnicate")}, &o).contains(QLatin1String("--frobnicate")));
}

void TestModels::optionsCheckSourceValues()
{
    // Every source the design lists is available now; their values are checked.
    for (const char *opt : {"--xds-listen", "--envoy-admin", "--routes"}) {
        DashboardOptions o;
        const QString err = DashboardOptions::parse({QLatin1String(opt)}, &o);
        QVERIFY2(err.contains(QLatin1String(opt)) && !err.contains(QLatin1Char('\n')), qPrintable(err));
    }
    {
        DashboardOptions o;
        QVERIFY(DashboardOptions::parse({QStringLiteral("--xds-listen"), QStringLiteral("nohost")}, &o)
                    .contains(QLatin1String("HOST:PORT")));
        QVERIFY(DashboardOptions::parse({QStringLiteral("--routes"), QStringLiteral("r.yaml")}, &o)
                    .contains(QLatin1String("needs --xds-listen")));
        QVERIFY(DashboardOptions::parse(
            {QStringLiteral("--xds-listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--routes"),
                QStringLiteral("r.yaml"), QStringLiteral("--envoy-admin"), QStringLiteral("http://127.0.0.1:9901"),
                QStringLiteral("--envoy-admin-name"), QStringLiteral("istio-system/ingress")},
            &o)
                    .isEmpty());
        QCOMPARE(o.xdsListen, QStringLiteral("127.0.0.1:0"));
        QCOMPARE(o.routesFile, QStringLiteral("r.yaml"));
        QCOMPARE(o.envoyAdminUrl, QStringLiteral("http://127.0.0.1:9901"));
        QCOMPARE(o.envoyAdminName, QStringLiteral("istio-system/ingress"));
    }
    // Sources this build has are accepted, with their values checked.
    DashboardOptions o;
    QVERIFY(DashboardOptions::parse({QStringLiteral("--als-listen"), QStringLiteral("127.0.0.1:9001"),
                                        QStringLiteral("--prometheus"), QStringLiteral("http://127.0.0.1:9090")},
        &o)
                .isEmpty());
    QCOMPARE(o.alsListen, QStringLiteral("127.0.0.1:9001"));
    QCOMPARE(o.prometheusUrl, QStringLiteral("http://127.0.0.1:9090"));
    QVERIFY(DashboardOptions::parse({QStringLiteral("--als-listen"), QStringLiteral("nohost")}, &o)
                .contains(QLatin1String("--als-listen")));

    // TLS flags: files must exist, pairs go together, client flags need their source.
    QTemporaryDir dir;
    const QString pem = dir.filePath(QStringLiteral("a.pem"));
    QFile f(pem);
    QVERIFY(f.open(QIODevice::WriteOnly) && f.write("-----BEGIN CERTIFICATE-----\n") > 0);
    f.close();
    QVERIFY(DashboardOptions::parse({QStringLiteral("--tls-cert"), dir.filePath(QStringLiteral("missing.pem"))}, &o)
                .contains(QLatin1String("missing.pem")));
    QVERIFY(DashboardOptions::parse({QStringLiteral("--tls-key"), pem}, &o).contains(QLatin1String("--tls-cert")));
    QVERIFY(DashboardOptions::parse({QStringLiteral("--prometheus-ca"), pem}, &o)
                .contains(QLatin1String("need --prometheus")));
    QVERIFY(DashboardOptions::parse({QStringLiteral("--envoy-admin-insecure-skip-verify")}, &o)
                .contains(QLatin1String("need --envoy-admin")));
    QVERIFY(DashboardOptions::parse(
        {QStringLiteral("--prometheus=https://prom.test:9090"), QStringLiteral("--prometheus-ca=") + pem,
            QStringLiteral("--tls-cert"), pem, QStringLiteral("--tls-key"), pem, QStringLiteral("--tls-client-ca"), pem,
            QStringLiteral("--tls-require-client-cert")},
        &o)
                .isEmpty());
    QCOMPARE(o.prometheusTls.caFile, pem);
    QCOMPARE(o.receiverTls.certFile, pem);
    QCOMPARE(o.receiverTls.clientCaFile, pem);
    QVERIFY(o.receiverTls.requireClientCert);
}

void TestModels::pluralsReadAsEnglish()
{
    QCOMPARE(QObject::tr("%n rule(s)", nullptr, 1), QStringLiteral("1 rule(s)"));  // no translator: Qt's own text
    EnglishPlurals plurals;
    QCoreApplication::installTranslator(&plurals);
    QCOMPARE(QObject::tr("%n rule(s)", nullptr, 1), QStringLiteral("1 rule"));
    QCOMPARE(QObject::tr("%n rule(s) in this route", nullptr, 3), QStringLiteral("3 rules in this route"));
    QCOMPARE(QObject::tr("%n error(s)", nullptr, 0), QStringLiteral("0 errors"));
    QCOMPARE(QObject::tr("Fit to view"), QStringLiteral("Fit to view"));  // other strings untouched
    QCoreApplication::removeTranslator(&plurals);
}

QTEST_MAIN(TestModels)
#include "tst_models.moc"
