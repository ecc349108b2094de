// The route editor end to end: load the example route files, move a weight slider,
// read the diff, apply, and check what a real XdsControlPlane on a loopback port now
// serves over a real ADS stream (the generated AggregatedDiscoveryService stub). Also:
// live validation (a bad RE2 regex disables Apply), rule reordering by button, key and
// drop, the client table showing a client's NACK reason, the graph's context-menu
// entry points, history rollback, and every model under QAbstractItemModelTester.

#include "darktheme.h"
#include "routing/backendweightseditor.h"
#include "routing/models/routehistorymodel.h"
#include "routing/models/routetreemodel.h"
#include "routing/models/xdsclientsmodel.h"
#include "routing/routediffview.h"
#include "routing/routeeditor.h"
#include "routing/routematcheditor.h"
#include "routing/routeruleeditor.h"
#include "routing/routewizards.h"

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "routing/routediff.h"
#include "routing/routehistory.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/xds/xdstranslator.h"
#include "routing/yaml/routeyaml.h"

#include <grpcpp/grpcpp.h>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

#include <map>
#include <memory>

using namespace meshscope;
namespace discovery = envoy::service::discovery::v3;

namespace {

routing::RouteSet loadExample(const char *name)
{
    const QString path = QFINDTESTDATA(QStringLiteral("../../examples/routes/") + QLatin1String(name));
    const routing::RouteLoadResult r = routing::loadRouteFile(path.toStdString());
    if (!r.ok()) {
        for (const auto &i : r.issues)
            qWarning("%s", i.toString().c_str());
    }
    return r.set;
}

// Both example files as one set: what a person editing the bookinfo routes would open.
routing::RouteSet loadExamples()
{
    routing::RouteSet set = loadExample("bookinfo-reviews.yaml");
    const routing::RouteSet chaos = loadExample("ratings-chaos.yaml");
    set.routes.insert(set.routes.end(), chaos.routes.begin(), chaos.routes.end());
    set.endpointSlices.insert(set.endpointSlices.end(), chaos.endpointSlices.begin(), chaos.endpointSlices.end());
    return set;
}

int ruleIndex(const routing::RouteSet &set, int route, const std::string &name)
{
    const auto &rules = set.routes.at(size_t(route)).rules;
    for (size_t i = 0; i < rules.size(); ++i) {
        if (rules[i].name == name)
            return int(i);
    }
    return -1;
}

// Every model the editor shows, checked by Qt's model tester for as long as it lives.
struct ModelTesters {
    explicit ModelTesters(RouteEditor &e)
        : tree(e.treeModel(), QAbstractItemModelTester::FailureReportingMode::QtTest)
        , clients(e.clientsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest)
        , history(e.historyModel(), QAbstractItemModelTester::FailureReportingMode::QtTest)
    {
    }
    QAbstractItemModelTester tree;
    QAbstractItemModelTester clients;
    QAbstractItemModelTester history;
};

// An ADS client speaking the real protocol to the control plane, as an Envoy would.
class AdsStream {
public:
    explicit AdsStream(const std::string &address)
    {
        m_channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
        m_stub = discovery::AggregatedDiscoveryService::NewStub(m_channel);
        m_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        m_stream = m_stub->StreamAggregatedResources(&m_context);
    }
    ~AdsStream()
    {
        if (m_stream) {
            m_stream->WritesDone();
            m_stream->Finish();
        }
    }
    bool request(std::string_view type, const std::vector<std::string> &names, const std::string &version,
        const std::string &nonce, const std::string &nackMessage = {})
    {
        discovery::DiscoveryRequest r;
        r.mutable_node()->set_id("route-editor-test");
        r.mutable_node()->set_cluster("tests");
        r.set_type_url(std::string(type));
        for (const auto &n : names)
            r.add_resource_names(n);
        r.set_version_info(version);
        r.set_response_nonce(nonce);
        if (!nackMessage.empty()) {
            r.mutable_error_detail()->set_code(3);
            r.mutable_error_detail()->set_message(nackMessage);
        }
        return m_stream->Write(r);
    }
    bool read(discovery::DiscoveryResponse *out) { return m_stream->Read(out); }

private:
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<discovery::AggregatedDiscoveryService::Stub> m_stub;
    grpc::ClientContext m_context;
    std::unique_ptr<grpc::ClientReaderWriter<discovery::DiscoveryRequest, discovery::DiscoveryResponse>> m_stream;
};

// Cluster name -> weight of the first weighted route of a RouteConfiguration.
std::map<std::string, uint32_t> weightsIn(const discovery::DiscoveryResponse &response, const std::string &name)
{
    std::map<std::string, uint32_t> out;
    for (const auto &any : response.resources()) {
        envoy::config::route::v3::RouteConfiguration rc;
        if (!any.UnpackTo(&rc) || rc.name() != name)
            continue;
        for (const auto &vh : rc.virtual_hosts()) {
            for (const auto &route : vh.routes()) {
                if (!route.route().has_weighted_clusters())
                    continue;
                for (const auto &c : route.route().weighted_clusters().clusters())
                    out[c.name()] = c.weight().value();
                return out;
            }
        }
    }
    return out;
}

}  // namespace

class TestRouteEditor : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void treeListsTargetsRoutesRules();
    void weightSliderDiffApplyIsServed();
    void invalidRegexDisablesApply();
    void dataPlaneRefusalsBlockApply();
    void reorderRules();
    void clientsShowNackReason();
    void exampleFilesOpenWithNoWarnings();
    void graphEntryPoints();
    void screenshot();
};

void TestRouteEditor::initTestCase()
{
    applyDarkTheme(*qApp);
    QVERIFY(!loadExample("bookinfo-reviews.yaml").routes.empty());
    QVERIFY(!loadExample("ratings-chaos.yaml").routes.empty());
}

void TestRouteEditor::treeListsTargetsRoutesRules()
{
    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setDataPlane(routing::DataPlane::Envoy);
    editor.setApplied(loadExamples(), 1);
    RouteTreeModel *m = editor.treeModel();
    QCOMPARE(m->rowCount(), 2);
    QCOMPARE(m->index(0, 0).data().toString(), QStringLiteral("reviews"));
    QCOMPARE(m->index(1, 0).data().toString(), QStringLiteral("ratings"));
    const QModelIndex reviews = m->index(0, 0, m->index(0, 0));
    QCOMPARE(reviews.data().toString(), QStringLiteral("bookinfo/reviews"));
    QCOMPARE(m->rowCount(reviews), 2);
    QCOMPARE(m->index(0, 0, reviews).data().toString(), QStringLiteral("1. jason"));
    QCOMPARE(m->index(1, 0, reviews).data().toString(), QStringLiteral("2. canary"));
    QCOMPARE(m->index(1, RouteTreeModel::Backends, reviews).data().toString(),
        QStringLiteral("reviews-v1 80% · reviews-v2 20%"));
    QVERIFY(m->index(0, RouteTreeModel::Match, reviews).data().toString().contains(QStringLiteral("end-user=jason")));
    QVERIFY(!editor.hasChanges());
    QVERIFY(!editor.applyButton()->isEnabled());
    QVERIFY(editor.diffText().contains(QStringLiteral("No unapplied changes")));
    // Opening rules one after another changes nothing (fields of one rule never leak into the next).
    for (int route = 0; route < 2; ++route) {
        for (int rule = 0; rule < 2; ++rule) {
            QVERIFY(editor.selectRule(route, rule));
            QVERIFY2(!editor.hasChanges(), qPrintable(editor.diffText()));
        }
    }
    QVERIFY(editor.selectRule(0, 0));
    QVERIFY2(!editor.hasChanges(), qPrintable(editor.diffText()));

    // A route with a second hostname is listed under both targets; an edit shows in both.
    routing::RouteSet two = loadExample("bookinfo-reviews.yaml");
    two.routes[0].hostnames.push_back("reviews.bookinfo");
    editor.setApplied(two, 2);
    QCOMPARE(m->rowCount(), 2);
    QCOMPARE(m->index(1, 0).data().toString(), QStringLiteral("reviews.bookinfo"));
    QVERIFY(editor.selectRule(0, 1));
    editor.ruleEditor()->backendsEditor()->slider(0)->setValue(60);
    for (int t = 0; t < 2; ++t) {
        const QModelIndex route = m->index(0, 0, m->index(t, 0));
        QCOMPARE(m->index(1, RouteTreeModel::Backends, route).data().toString(),
            QStringLiteral("reviews-v1 75% · reviews-v2 25%"));
    }
}

void TestRouteEditor::weightSliderDiffApplyIsServed()
{
    const routing::RouteSet original = loadExample("bookinfo-reviews.yaml");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    routing::RouteHistory history(dir.path().toStdString());

    routing::XdsControlPlaneConfig config;
    config.listenAddress = "127.0.0.1:0";
    routing::XdsControlPlane cp(config);
    std::string error;
    QVERIFY2(cp.start(&error), error.c_str());
    const uint64_t v1 = cp.setRouteSet(original);

    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setTargetDescription(QString::fromStdString("xDS " + cp.boundAddress()));
    // Picked by the operator: no client has connected, so meshscope would pick Envoy.
    editor.setDataPlane(routing::DataPlane::XdsGrpc);
    editor.setApplied(original, v1);
    QCOMPARE(editor.dataPlane(), routing::DataPlane::XdsGrpc);
    editor.resize(1100, 800);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));

    // A client subscribed to the route configuration sees 80/20 first.
    AdsStream ads(cp.boundAddress());
    QVERIFY(ads.request(routing::kXdsRouteConfigurationType, {"reviews"}, "", ""));
    discovery::DiscoveryResponse first;
    QVERIFY(ads.read(&first));
    QCOMPARE(first.version_info(), std::to_string(v1));
    auto weights = weightsIn(first, "reviews");
    QCOMPARE(weights["bookinfo/reviews-v1:9080"], 80u);
    QCOMPARE(weights["bookinfo/reviews-v2:9080"], 20u);
    QVERIFY(ads.request(routing::kXdsRouteConfigurationType, {"reviews"}, first.version_info(), first.nonce()));

    // Open the canary rule and move reviews-v2's slider from 20 to 50.
    const int canary = ruleIndex(original, 0, "canary");
    QVERIFY(editor.selectRule(0, canary));
    BackendWeightsEditor *be = editor.ruleEditor()->backendsEditor();
    QCOMPARE(be->count(), 2);
    QCOMPARE(be->nameBox(1)->currentText(), QStringLiteral("reviews-v2"));
    QCOMPARE(be->percentText(1), QStringLiteral("20 %"));
    QSlider *slider = be->slider(1);
    slider->setFocus();
    slider->setValue(50);
    QCOMPARE(be->weightSpin(1)->value(), 50);
    QCOMPARE(be->percentText(1), QStringLiteral("38.5 %"));
    QCOMPARE(editor.editedSet().routes[0].rules[size_t(canary)].backends[1].weight, 50);
    QVERIFY(editor.hasChanges());

    // The diff preview shows the weight change, structurally and as YAML lines.
    const QString diff = editor.diffText();
    QVERIFY2(
        diff.contains(QStringLiteral("HTTPRoute bookinfo/reviews: rule 'canary' backend reviews-v2 weight 20 -> 50")),
        qPrintable(diff));
    QVERIFY2(diff.contains(QStringLiteral("-          weight: 20")), qPrintable(diff));
    QVERIFY2(diff.contains(QStringLiteral("+          weight: 50")), qPrintable(diff));
    QVERIFY(editor.applyButton()->isEnabled());

    // Apply goes through the review dialog; its Apply hands over the edited set.
    QSignalSpy applied(&editor, &RouteEditor::applyRequested);
    QTest::mouseClick(editor.applyButton(), Qt::LeftButton);
    RouteDiffDialog *review = editor.reviewDialog();
    QVERIFY(review);
    QVERIFY(review->view()->toPlainText().contains(QStringLiteral("weight 20 -> 50")));
    // No xDS client has connected yet: the review says nothing changes until one does.
    auto *caution = review->findChild<QLabel *>(QStringLiteral("routeDiffCautions"));
    QVERIFY(caution && caution->isVisibleTo(review));
    QVERIFY2(caution->text().contains(QStringLiteral("No xDS client is connected")), qPrintable(caution->text()));
    QCOMPARE(applied.count(), 0);
    QTest::mouseClick(review->applyButton(), Qt::LeftButton);
    QCOMPARE(applied.count(), 1);
    const auto pushed = applied.takeFirst().at(0).value<routing::RouteSet>();
    QCOMPARE(pushed.routes[0].rules[size_t(canary)].backends[1].weight, 50);

    // The owner's part: push to the control plane, record, report back.
    const uint64_t v2 = cp.setRouteSet(pushed);
    QVERIFY(history.record("xds " + cp.boundAddress(), original, pushed));
    editor.setApplied(pushed, v2);
    editor.setHistory(history.list());
    QVERIFY(!editor.hasChanges());
    QVERIFY(!editor.applyButton()->isEnabled());

    // What the client is now served: the new weights.
    discovery::DiscoveryResponse second;
    QVERIFY(ads.read(&second));
    QCOMPARE(second.version_info(), std::to_string(v2));
    weights = weightsIn(second, "reviews");
    QCOMPARE(weights["bookinfo/reviews-v1:9080"], 80u);
    QCOMPARE(weights["bookinfo/reviews-v2:9080"], 50u);
    QVERIFY(ads.request(routing::kXdsRouteConfigurationType, {"reviews"}, second.version_info(), second.nonce()));

    // Per-client status after Apply: ACKed the new version.
    QVERIFY(QTest::qWaitFor(
        [&] {
            for (const auto &c : cp.clients()) {
                const routing::XdsTypeStatus *t = c.type(routing::kXdsRouteConfigurationType);
                if (c.nodeId == "route-editor-test" && t && t->ackedVersion == std::to_string(v2))
                    return true;
            }
            return false;
        },
        5000));
    editor.setClients(cp.clients());
    XdsClientsModel *clients = editor.clientsModel();
    QCOMPARE(clients->rowCount(), 1);
    QCOMPARE(clients->index(0, XdsClientsModel::Node).data().toString(), QStringLiteral("route-editor-test"));
    QCOMPARE(clients->index(0, XdsClientsModel::Routes).data().toString(), QStringLiteral("✓ ACKed v%1").arg(v2));
    QCOMPARE(clients->index(0, XdsClientsModel::Routes).data(XdsClientsModel::TypeStateRole).toInt(),
        int(XdsClientsModel::TypeState::Acked));

    // History: the change is listed; rolling it back asks for entry 1, whose "before"
    // is the original set, and applying that brings 80/20 back to the client.
    RouteHistoryModel *hm = editor.historyModel();
    QCOMPARE(hm->rowCount(), 1);
    QVERIFY(hm->index(0, RouteHistoryModel::Change).data().toString().contains(QStringLiteral("weight 20 -> 50")));
    editor.showTab(RouteEditor::Tab::History);
    editor.historyView()->setCurrentIndex(hm->index(0, 0));
    QVERIFY(editor.rollbackButton()->isEnabled());
    QSignalSpy rollback(&editor, &RouteEditor::rollbackRequested);
    QTest::mouseClick(editor.rollbackButton(), Qt::LeftButton);
    QCOMPARE(rollback.count(), 1);
    const qint64 id = rollback.takeFirst().at(0).toLongLong();
    QCOMPARE(id, qint64(1));
    const auto restored = history.rollback(id);
    QVERIFY(restored);
    QVERIFY(*restored == original);
    // The owner answers with the same review; Roll back hands the set over, Cancel nothing.
    QSignalSpy confirmed(&editor, &RouteEditor::rollbackConfirmed);
    editor.reviewRollback(id, *restored);
    QVERIFY(editor.reviewDialog());
    QCOMPARE(editor.reviewDialog()->windowTitle(), QStringLiteral("Review rollback of change #1"));
    QVERIFY(editor.reviewDialog()->view()->toPlainText().contains(QStringLiteral("weight 50 -> 20")));
    QVERIFY(!editor.reviewDialog()
                 ->findChild<QLabel *>(QStringLiteral("routeDiffCautions"))
                 ->isVisibleTo(editor.reviewDialog()));  // a client is connected now
    editor.reviewDialog()->reject();
    QCOMPARE(confirmed.count(), 0);
    QTRY_VERIFY(!editor.reviewDialog());
    editor.reviewRollback(id, *restored);
    QVERIFY(editor.reviewDialog());
    QTest::mouseClick(editor.reviewDialog()->applyButton(), Qt::LeftButton);
    QCOMPARE(confirmed.count(), 1);
    QCOMPARE(confirmed.at(0).at(1).toLongLong(), id);
    QVERIFY(confirmed.at(0).at(0).value<routing::RouteSet>() == original);
    const uint64_t v3 = cp.setRouteSet(*restored);
    QVERIFY(history.record("xds " + cp.boundAddress(), pushed, *restored, id));
    editor.setApplied(*restored, v3);
    editor.setHistory(history.list());
    QCOMPARE(hm->rowCount(), 2);
    QVERIFY(hm->index(0, RouteHistoryModel::Change).data().toString().startsWith(QStringLiteral("rollback of #1")));
    discovery::DiscoveryResponse third;
    QVERIFY(ads.read(&third));
    weights = weightsIn(third, "reviews");
    QCOMPARE(weights["bookinfo/reviews-v2:9080"], 20u);
    cp.stop();
}

void TestRouteEditor::invalidRegexDisablesApply()
{
    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setDataPlane(routing::DataPlane::Envoy);
    const routing::RouteSet set = loadExamples();
    editor.setApplied(set, 1);
    const int chaos = ruleIndex(set, 1, "chaos-for-jason");
    QVERIFY(editor.selectRule(1, chaos));
    RouteMatchEditor *me = editor.ruleEditor()->matchEditor();
    QCOMPARE(me->pathTypeBox()->currentText(), QStringLiteral("Regex (RE2)"));
    QLineEdit *path = me->pathValueEdit();
    QCOMPARE(path->text(), QStringLiteral("/ratings/[0-9]+"));

    // Type an unbalanced group, as a person would.
    path->setFocus();
    path->selectAll();
    QTest::keyClicks(path, QStringLiteral("/ratings/([0-9]+"));
    QCOMPARE(editor.editedSet().routes[1].rules[size_t(chaos)].matches[0].path->value, std::string("/ratings/([0-9]+"));
    QVERIFY(editor.hasChanges());
    QVERIFY(!editor.canApply());
    QVERIFY(!editor.applyButton()->isEnabled());
    QVERIFY(editor.applyButton()->toolTip().contains(QStringLiteral("error")));
    // Shown at the field (outline + tooltip), in the tree and in Problems.
    QCOMPARE(path->property("routeIssue").toInt(), 2);
    QVERIFY2(path->toolTip().contains(QStringLiteral("missing )")), qPrintable(path->toolTip()));
    const QModelIndex row = editor.treeModel()->indexOfRule(1, chaos);
    QCOMPARE(row.data(RouteTreeModel::SeverityRole).toInt(), 2);
    bool listed = false;
    for (int i = 0; i < editor.problemsList()->count(); ++i)
        listed = listed || editor.problemsList()->item(i)->text().contains(QStringLiteral("regex does not compile"));
    QVERIFY(listed);
    QSignalSpy applied(&editor, &RouteEditor::applyRequested);
    editor.reviewAndApply();
    QVERIFY(!editor.reviewDialog());
    QCOMPARE(applied.count(), 0);

    // Fixed: Apply comes back.
    QTest::keyClick(path, Qt::Key_Backspace);
    QTest::keyClicks(path, QStringLiteral("+)"));
    QCOMPARE(path->text(), QStringLiteral("/ratings/([0-9]+)"));
    QCOMPARE(path->property("routeIssue").toInt(), 0);
    QVERIFY(editor.applyButton()->isEnabled());

    // A duration that does not parse is an input error: Apply off, rule keeps its value.
    QLineEdit *timeout = editor.ruleEditor()->timeoutEdit();
    timeout->setFocus();
    QTest::keyClicks(timeout, QStringLiteral("1.5s"));
    QVERIFY(editor.ruleEditor()->hasInputErrors());
    QVERIFY(!editor.applyButton()->isEnabled());
    QVERIFY(!editor.editedSet().routes[1].rules[size_t(chaos)].timeoutMs);
    QCOMPARE(timeout->property("routeIssue").toInt(), 2);
    timeout->clear();
    QTest::keyClicks(timeout, QStringLiteral("1500ms"));
    QCOMPARE(*editor.editedSet().routes[1].rules[size_t(chaos)].timeoutMs, int64_t(1500));
    QVERIFY(editor.applyButton()->isEnabled());
}

void TestRouteEditor::dataPlaneRefusalsBlockApply()
{
    // The chaos route's fault and mirror cannot be served to gRPC's proxyless client,
    // the plane the operator picked.
    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setDataPlane(routing::DataPlane::XdsGrpc);
    editor.setApplied(loadExample("bookinfo-reviews.yaml"), 1);
    routing::RouteSet both = loadExamples();
    editor.setEdited(both);
    QVERIFY(editor.hasChanges());
    QVERIFY(routing::hasErrors(editor.issues()));
    QVERIFY(!editor.applyButton()->isEnabled());
    const int chaos = ruleIndex(both, 1, "chaos-for-jason");
    QVERIFY(editor.selectRule(1, chaos));
    QVERIFY(editor.ruleEditor()->faultGroup()->isChecked());
    QCOMPARE(editor.ruleEditor()->delayMs()->value(), 7000);
    QCOMPARE(editor.ruleEditor()->abortStatus()->value(), 503);
    // Switching to Envoy accepts them.
    editor.dataPlaneBox()->setCurrentIndex(editor.dataPlaneBox()->findData(int(routing::DataPlane::Envoy)));
    QCOMPARE(editor.dataPlane(), routing::DataPlane::Envoy);
    QVERIFY(!routing::hasErrors(editor.issues()));
    QVERIFY(editor.applyButton()->isEnabled());
    // Turning the fault off is a change the diff names.
    editor.ruleEditor()->faultGroup()->setChecked(false);
    QVERIFY(!editor.editedSet().routes[1].rules[size_t(chaos)].fault);
    QVERIFY(editor.diffText().contains(QStringLiteral("fault")));
}

void TestRouteEditor::reorderRules()
{
    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setDataPlane(routing::DataPlane::Envoy);
    editor.setApplied(loadExample("bookinfo-reviews.yaml"), 1);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    RouteTreeModel *m = editor.treeModel();
    const QModelIndex route = m->index(0, 0, m->index(0, 0));
    QCOMPARE(m->index(0, 0, route).data().toString(), QStringLiteral("1. jason"));

    // Button: "canary" moves up, and becomes rule 1 in the model and in the set.
    QVERIFY(editor.selectRule(0, 1));
    const QPersistentModelIndex tracked = m->index(1, 0, route);
    QVERIFY(editor.moveCurrentRule(-1));
    QCOMPARE(m->index(0, 0, route).data().toString(), QStringLiteral("1. canary"));
    QCOMPARE(m->index(1, 0, route).data().toString(), QStringLiteral("2. jason"));
    QCOMPARE(editor.editedSet().routes[0].rules[0].name, std::string("canary"));
    QCOMPARE(tracked.row(), 0);  // persistent indexes follow the rule
    QCOMPARE(editor.currentRule(), 0);
    QCOMPARE(editor.treeView()->currentIndex().data().toString(), QStringLiteral("1. canary"));
    QVERIFY(editor.diffText().contains(QStringLiteral("rules reordered")));
    // canary matches everything, so jason is now shadowed: a warning on it.
    QCOMPARE(m->index(1, 0, route).data(RouteTreeModel::SeverityRole).toInt(), 1);

    // Keyboard: Alt+Down on the tree moves it back.
    editor.activateWindow();
    editor.treeView()->setFocus();
    QVERIFY(QTest::qWaitForWindowActive(&editor));
    QTest::keyClick(editor.treeView(), Qt::Key_Down, Qt::AltModifier);
    QCOMPARE(editor.editedSet().routes[0].rules[0].name, std::string("jason"));
    QCOMPARE(m->index(0, 0, route).data().toString(), QStringLiteral("1. jason"));
    QVERIFY(!editor.hasChanges());

    // Drag and drop: the model takes a dropped rule onto another rule's place.
    QMimeData *mime = m->mimeData({m->index(1, 0, route)});
    QVERIFY(mime);
    QVERIFY(m->canDropMimeData(mime, Qt::MoveAction, -1, 0, m->index(0, 0, route)));
    QVERIFY(!m->canDropMimeData(mime, Qt::MoveAction, -1, 0, m->index(0, 0)));  // not onto a target
    QVERIFY(m->dropMimeData(mime, Qt::MoveAction, -1, 0, m->index(0, 0, route)));
    delete mime;
    QCOMPARE(editor.editedSet().routes[0].rules[0].name, std::string("canary"));
    // ...and between rules: after the last one.
    mime = m->mimeData({m->index(0, 0, route)});
    QVERIFY(m->dropMimeData(mime, Qt::MoveAction, 2, 0, route));
    delete mime;
    QCOMPARE(editor.editedSet().routes[0].rules[1].name, std::string("canary"));
}

void TestRouteEditor::clientsShowNackReason()
{
    routing::XdsControlPlaneConfig config;
    config.listenAddress = "127.0.0.1:0";
    routing::XdsControlPlane cp(config);
    std::string error;
    QVERIFY2(cp.start(&error), error.c_str());
    const routing::RouteSet set = loadExample("bookinfo-reviews.yaml");
    const uint64_t v = cp.setRouteSet(set);

    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setApplied(set, v);
    AdsStream ads(cp.boundAddress());
    QVERIFY(ads.request(routing::kXdsRouteConfigurationType, {"reviews"}, "", ""));
    discovery::DiscoveryResponse r;
    QVERIFY(ads.read(&r));
    const std::string reason = "RouteConfiguration reviews: weighted_clusters total_weight 130 != sum of weights";
    QVERIFY(ads.request(routing::kXdsRouteConfigurationType, {"reviews"}, "", r.nonce(), reason));
    QVERIFY(QTest::qWaitFor(
        [&] {
            const auto cs = cp.clients();
            return !cs.empty() && cs[0].type(routing::kXdsRouteConfigurationType)
                && cs[0].type(routing::kXdsRouteConfigurationType)->rejected;
        },
        5000));
    editor.setClients(cp.clients());
    XdsClientsModel *m = editor.clientsModel();
    QCOMPARE(m->rowCount(), 1);
    const QModelIndex routes = m->index(0, XdsClientsModel::Routes);
    QCOMPARE(routes.data().toString(), QStringLiteral("✗ NACKed v%1").arg(v));
    QCOMPARE(m->index(0, XdsClientsModel::Reason).data().toString(),
        QStringLiteral("RDS v%1: %2").arg(v).arg(QString::fromStdString(reason)));
    QCOMPARE(routes.data(XdsClientsModel::TypeStateRole).toInt(), int(XdsClientsModel::TypeState::Nacked));
    QCOMPARE(routes.data(Qt::ForegroundRole).value<QColor>(), QColor(0xff, 0x7b, 0x72));
    QVERIFY(routes.data(Qt::ToolTipRole).toString().contains(QStringLiteral("code 3")));
    QCOMPARE(m->index(0, XdsClientsModel::Listeners).data().toString(), QStringLiteral("—"));
    QCOMPARE(m->index(0, XdsClientsModel::State).data().toString(), QStringLiteral("connected"));
    QVERIFY(!m->index(0, XdsClientsModel::Peer).data().toString().startsWith(QStringLiteral("ipv")));
    QVERIFY(m->summary().contains(QStringLiteral("1 NACKed")));

    // Same client again: updated in place. Disconnected: shown as gone.
    QSignalSpy reset(m, &QAbstractItemModel::modelReset);
    editor.setClients(cp.clients());
    QCOMPARE(reset.count(), 0);
    auto gone = cp.clients();
    gone[0].connected = false;
    gone[0].disconnectedAtMs = gone[0].connectedAtMs + 1000;
    editor.setClients(gone);
    QVERIFY(m->index(0, XdsClientsModel::State).data().toString().startsWith(QStringLiteral("gone since")));
    editor.setClients({});
    QCOMPARE(m->rowCount(), 0);
    cp.stop();
}

// Each shipped example opens with no problem listed: with no xDS client yet, the routes
// are checked for the plane they are written for, and the editor says why. A client that
// connects decides the plane after that; the operator's own pick is never overridden.
void TestRouteEditor::exampleFilesOpenWithNoWarnings()
{
    for (const char *name : {"bookinfo-reviews.yaml", "ratings-chaos.yaml", "shop-reviews.yaml"}) {
        const routing::RouteSet set = loadExample(name);
        QVERIFY2(!set.routes.empty(), name);
        RouteEditor editor;
        editor.setApplied(set, 1);
        QVERIFY2(editor.issues().empty(),
            qPrintable(QStringLiteral("%1: %2 issues for plane %3")
                           .arg(QLatin1String(name))
                           .arg(editor.issues().size())
                           .arg(int(editor.dataPlane()))));
        QCOMPARE(editor.problemsList()->count(), 1);
        QVERIFY(editor.problemsList()->item(0)->text().startsWith(QStringLiteral("No problems for")));
        QVERIFY(editor.problemsList()->item(0)->text().contains(QStringLiteral("no xDS client yet")));
    }

    // Envoy-only features, then a gRPC client connects: its plane is the one that matters.
    const routing::RouteSet bookinfo = loadExample("bookinfo-reviews.yaml");
    QVERIFY(!routing::validateRoutes(bookinfo, routing::DataPlane::XdsGrpc).empty());
    RouteEditor editor;
    editor.setApplied(bookinfo, 1);
    QCOMPARE(editor.dataPlane(), routing::DataPlane::Envoy);
    routing::XdsClientStatus grpcClient;
    grpcClient.id = 1;
    grpcClient.userAgentName = "gRPC C-core linux";
    editor.setClients({grpcClient});
    QCOMPARE(editor.dataPlane(), routing::DataPlane::XdsGrpc);
    QVERIFY(!editor.issues().empty());
    QVERIFY(editor.dataPlaneBox()->toolTip().contains(QStringLiteral("a gRPC client is connected")));
    routing::XdsClientStatus envoyClient = grpcClient;
    envoyClient.userAgentName = "envoy";
    editor.setClients({envoyClient});
    QCOMPARE(editor.dataPlane(), routing::DataPlane::Envoy);
    QVERIFY(editor.issues().empty());

    // The operator's pick stays, whoever connects.
    editor.dataPlaneBox()->setCurrentIndex(editor.dataPlaneBox()->findData(int(routing::DataPlane::Generic)));
    editor.setClients({grpcClient});
    QCOMPARE(editor.dataPlane(), routing::DataPlane::Generic);
    editor.setApplied(bookinfo, 2);
    QCOMPARE(editor.dataPlane(), routing::DataPlane::Generic);
}

void TestRouteEditor::graphEntryPoints()
{
    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setDataPlane(routing::DataPlane::Envoy);
    const routing::RouteSet set = loadExamples();
    editor.setApplied(set, 1);

    // Services the canvas marks: backends, their versionless service, route hostnames.
    const QSet<QString> routed = editor.routedServices();
    for (const char *s :
        {"bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews", "bookinfo/ratings-v1", "bookinfo/ratings"})
        QVERIFY2(routed.contains(QLatin1String(s)), s);
    QVERIFY(!routed.contains(QStringLiteral("bookinfo/details")));
    QVERIFY(editor.routesService(QStringLiteral("bookinfo/reviews@v2")));
    QVERIFY(editor.routesService(QStringLiteral("reviews-v1")));
    QVERIFY(!editor.routesService(QStringLiteral("shop/reviews")));
    QVERIFY(!editor.routesService(QStringLiteral("bookinfo/details")));

    // The reviews show the whole file as it would be written: the set as YAML.
    editor.setFilePreview([&set](const routing::RouteSet &after) {
        return RouteFilePreview {QStringLiteral("routes.yaml"),
            QString::fromStdString(routing::unifiedDiff(routing::toYaml(set), routing::toYaml(after))), {}};
    });

    // Shift traffic on reviews v2: a wizard on the split rule, a row per backend.
    const int canary = ruleIndex(set, 0, "canary");
    editor.shiftTraffic(QStringLiteral("bookinfo/reviews@v2"));
    QCOMPARE(editor.currentRoute(), 0);
    QCOMPARE(editor.currentRule(), canary);
    auto *shift = qobject_cast<ShiftTrafficDialog *>(editor.wizard());
    QVERIFY(shift);
    QVERIFY(shift->isVisible());
    QCOMPARE(shift->rowCount(), 2);
    QCOMPARE(shift->backendName(0), QStringLiteral("reviews-v1"));
    QCOMPARE(shift->spinBox(0)->value(), 80);
    QCOMPARE(shift->spinBox(1)->value(), 20);
    QVERIFY(!shift->okButton()->isEnabled());  // nothing moved yet
    // Moving one share moves the other so they add up to 100; the preview says what changes.
    shift->spinBox(1)->setValue(51);
    QCOMPARE(shift->spinBox(0)->value(), 49);
    QCOMPARE(shift->slider(0)->value(), 49);
    QCOMPARE(shift->slider(1)->value(), 51);
    QCOMPARE(shift->previewLabel()->text(),
        QStringLiteral("Result: reviews-v1 80 % \u2192 49 %, reviews-v2 20 % \u2192 51 %"));
    QVERIFY(shift->okButton()->isEnabled());
    shift->evenButton()->click();
    QCOMPARE(shift->spinBox(0)->value(), 50);
    QCOMPARE(shift->spinBox(1)->value(), 50);
    QCOMPARE(shift->allToButton()->text(), QStringLiteral("All to reviews-v2"));
    shift->allToButton()->click();
    QCOMPARE(shift->spinBox(0)->value(), 0);
    QCOMPARE(shift->spinBox(1)->value(), 100);
    shift->slider(0)->setValue(70);
    QCOMPARE(shift->spinBox(0)->value(), 70);
    QCOMPARE(shift->spinBox(1)->value(), 30);
    // Cancel changes nothing and opens no review.
    shift->reject();
    QVERIFY(!editor.hasChanges());
    QVERIFY(!editor.reviewDialog());
    QTRY_VERIFY(!editor.wizard());

    // OK: the weights go into the edited routes and the Apply review opens on them.
    editor.shiftTraffic(QStringLiteral("bookinfo/reviews@v2"));
    shift = qobject_cast<ShiftTrafficDialog *>(editor.wizard());
    QVERIFY(shift);
    shift->spinBox(1)->setValue(51);
    QTest::mouseClick(shift->okButton(), Qt::LeftButton);
    QCOMPARE(editor.editedSet().routes[0].rules[size_t(canary)].backends[0].weight, 49);
    QCOMPARE(editor.editedSet().routes[0].rules[size_t(canary)].backends[1].weight, 51);
    RouteDiffDialog *review = editor.reviewDialog();
    QVERIFY(review);
    QVERIFY2(review->view()->toPlainText().contains(QStringLiteral("backend reviews-v1 weight 80 -> 49")),
        qPrintable(review->view()->toPlainText()));
    QVERIFY(review->view()->toPlainText().contains(QStringLiteral("backend reviews-v2 weight 20 -> 51")));
    QVERIFY2(review->fileView()->toPlainText().contains(QStringLiteral("weight: 49")),
        qPrintable(review->fileView()->toPlainText()));
    QSignalSpy applied(&editor, &RouteEditor::applyRequested);
    review->accept();
    QCOMPARE(applied.count(), 1);
    const auto sent = applied.at(0).at(0).value<routing::RouteSet>();
    QCOMPARE(sent.routes[0].rules[size_t(canary)].backends[1].weight, 51);

    // ratings has a single backend: the wizard adds a known service at 0 % and shifts to it.
    editor.revert();
    editor.shiftTraffic(QStringLiteral("bookinfo/ratings@v1"));
    QCOMPARE(editor.currentRoute(), 1);
    shift = qobject_cast<ShiftTrafficDialog *>(editor.wizard());
    QVERIFY(shift);
    QCOMPARE(shift->rowCount(), 1);
    QCOMPARE(shift->spinBox(0)->value(), 100);
    QVERIFY(shift->addBox()->findText(QStringLiteral("ratings-shadow")) >= 0);
    QVERIFY(shift->addBox()->findText(QStringLiteral("ratings-v1")) < 0);  // already a row
    shift->addBackend(QStringLiteral("ratings-shadow"));
    QCOMPARE(shift->rowCount(), 2);
    shift->spinBox(1)->setValue(10);
    QCOMPARE(shift->spinBox(0)->value(), 90);
    QTest::mouseClick(shift->okButton(), Qt::LeftButton);
    const auto &rule = editor.editedSet().routes[1].rules[size_t(editor.currentRule())];
    QCOMPARE(rule.backends.size(), size_t(2));
    QCOMPARE(rule.backends[1].name, std::string("ratings-shadow"));
    QCOMPARE(rule.backends[1].weight, 10);
    QCOMPARE(rule.backends[0].weight, 90);
    QVERIFY(editor.reviewDialog());
    QVERIFY(editor.reviewDialog()->view()->toPlainText().contains(QStringLiteral("ratings-shadow")));
    editor.reviewDialog()->reject();
    QVERIFY(!editor.reviewDialog());

    // Header route: asks for header, match, value and backend; inserted before the carrying rule.
    editor.revert();
    editor.addHeaderRoute(QStringLiteral("bookinfo/reviews"));
    auto *header = qobject_cast<HeaderRouteDialog *>(editor.wizard());
    QVERIFY(header);
    QCOMPARE(header->headerEdit()->text(), QStringLiteral("x-canary"));
    QCOMPARE(header->backendBox()->currentText(), QStringLiteral("reviews-v2"));  // the lighter reviews backend
    QVERIFY2(header->whereLabel()->text().contains(
                 QStringLiteral("rule 2 of HTTPRoute bookinfo/reviews, just before canary")),
        qPrintable(header->whereLabel()->text()));
    QVERIFY(header->previewView()->toPlainText().contains(QStringLiteral("x-canary")));
    // An invalid RE2 pattern is refused with RE2's reason.
    header->matchTypeBox()->setCurrentIndex(header->matchTypeBox()->findText(QStringLiteral("RegularExpression")));
    header->valueEdit()->setText(QStringLiteral("(beta"));
    QVERIFY(!header->okButton()->isEnabled());
    QVERIFY2(header->errorLabel()->text().startsWith(QStringLiteral("regex does not compile under RE2: ")),
        qPrintable(header->errorLabel()->text()));
    header->headerEdit()->setText(QStringLiteral("x-user-group"));
    header->valueEdit()->setText(QStringLiteral("beta|internal"));
    QVERIFY(header->okButton()->isEnabled());
    QVERIFY(header->errorLabel()->isHidden());
    const QString yaml = header->previewView()->toPlainText();
    QVERIFY2(yaml.contains(QStringLiteral("x-user-group")) && yaml.contains(QStringLiteral("RegularExpression"))
            && yaml.contains(QStringLiteral("beta|internal")) && yaml.contains(QStringLiteral("reviews-v2")),
        qPrintable(yaml));
    QVERIFY(!yaml.contains(QStringLiteral("reviews-v1")));  // only the new rule
    header->reject();
    QVERIFY(!editor.hasChanges());
    QTRY_VERIFY(!editor.wizard());

    editor.addHeaderRoute(QStringLiteral("bookinfo/reviews"));
    header = qobject_cast<HeaderRouteDialog *>(editor.wizard());
    QVERIFY(header);
    header->valueEdit()->setText(QStringLiteral("yes"));
    QTest::mouseClick(header->okButton(), Qt::LeftButton);
    {
        const auto &rules = editor.editedSet().routes[0].rules;
        QCOMPARE(rules.size(), size_t(3));
        QCOMPARE(rules[0].name, std::string("jason"));
        QCOMPARE(rules[size_t(canary)].name, std::string("header-canary"));
        QCOMPARE(rules[size_t(canary)].matches[0].headers[0].value, std::string("yes"));
        QCOMPARE(rules[size_t(canary)].backends.size(), size_t(1));
        QCOMPARE(rules[size_t(canary)].backends[0].name, std::string("reviews-v2"));
        QVERIFY(rules[size_t(canary) + 1] == set.routes[0].rules[size_t(canary)]);
    }
    QCOMPARE(editor.currentRule(), canary);
    review = editor.reviewDialog();
    QVERIFY(review);
    QVERIFY2(review->view()->toPlainText().contains(QStringLiteral("rule 'header-canary' added")),
        qPrintable(review->view()->toPlainText()));
    QVERIFY2(review->fileView()->toPlainText().contains(QStringLiteral("name: header-canary")),
        qPrintable(review->fileView()->toPlainText()));
    review->reject();

    // Fault on the whole rule: every backend of canary is affected, and the preview says so.
    editor.revert();
    editor.injectFault(QStringLiteral("bookinfo/reviews@v2"));
    auto *fault = qobject_cast<FaultDialog *>(editor.wizard());
    QVERIFY(fault);
    QVERIFY(fault->wholeRuleButton()->isChecked());
    QVERIFY(fault->wholeRuleButton()->text().contains(QStringLiteral("reviews-v1 80 %, reviews-v2 20 %")));
    QVERIFY2(fault->previewLabel()->text().startsWith(
                 QStringLiteral("Rule canary gets the fault (delay 1000 ms for 10 % of requests)")),
        qPrintable(fault->previewLabel()->text()));
    QVERIFY(!fault->headerEdit()->isEnabled());
    fault->reject();
    QVERIFY(!editor.hasChanges());

    // Fault on reviews-v2 only: a header-tagged rule of its own; reviews-v1's traffic is untouched.
    editor.injectFault(QStringLiteral("bookinfo/reviews@v2"));
    fault = qobject_cast<FaultDialog *>(editor.wizard());
    QVERIFY(fault);
    fault->oneBackendButton()->setChecked(true);
    QCOMPARE(fault->backendBox()->currentText(), QStringLiteral("reviews-v2"));
    QVERIFY(fault->headerEdit()->isEnabled());
    fault->kindBox()->setCurrentIndex(1);  // abort
    fault->statusSpin()->setValue(503);
    fault->percentSpin()->setValue(50);
    const QString preview = fault->previewLabel()->text();
    QVERIFY2(
        preview.contains(QStringLiteral("New rule fault, inserted just before canary: requests with x-fault = true "
                                        "go only to reviews-v2, with the fault (abort with HTTP 503 for 50 % of "
                                        "requests)")),
        qPrintable(preview));
    QVERIFY(preview.contains(QStringLiteral("they no longer reach the other backends")));
    fault->headerTypeBox()->setCurrentIndex(1);
    fault->headerValueEdit()->setText(QStringLiteral("[x"));
    QVERIFY(!fault->okButton()->isEnabled());
    QVERIFY(fault->errorLabel()->text().startsWith(QStringLiteral("regex does not compile under RE2")));
    fault->headerTypeBox()->setCurrentIndex(0);
    fault->headerValueEdit()->setText(QStringLiteral("true"));
    QVERIFY(fault->okButton()->isEnabled());
    QTest::mouseClick(fault->okButton(), Qt::LeftButton);
    {
        const auto &rules = editor.editedSet().routes[0].rules;
        QCOMPARE(rules.size(), size_t(3));
        const routing::RouteRule &own = rules[size_t(canary)];
        QCOMPARE(own.name, std::string("fault"));
        QCOMPARE(own.backends.size(), size_t(1));
        QCOMPARE(own.backends[0].name, std::string("reviews-v2"));
        QVERIFY(own.fault);
        QCOMPARE(own.fault->abortHttpStatus, std::optional<int>(503));
        QCOMPARE(own.fault->abortPercent, 50.0);
        QCOMPARE(own.matches[0].headers.back().name, std::string("x-fault"));
        // Every rule that sends to reviews-v1 is as it was: no fault, same weights.
        for (const routing::RouteRule &r : rules) {
            for (const routing::BackendRef &b : r.backends) {
                if (b.name == "reviews-v1")
                    QVERIFY(!r.fault);
            }
        }
        QVERIFY(rules[size_t(canary) + 1] == set.routes[0].rules[size_t(canary)]);
        QVERIFY(rules[0] == set.routes[0].rules[0]);
    }
    review = editor.reviewDialog();
    QVERIFY(review);
    QVERIFY2(review->view()->toPlainText().contains(QStringLiteral("rule 'fault' added")),
        qPrintable(review->view()->toPlainText()));
    QVERIFY(!review->view()->toPlainText().contains(QStringLiteral("rule 'canary'")));
    review->reject();

    // gRPC proxyless refuses faults on this rule: no review, the notice says why.
    editor.revert();
    editor.setDataPlane(routing::DataPlane::XdsGrpc);
    editor.injectFault(QStringLiteral("bookinfo/reviews@v1"));
    fault = qobject_cast<FaultDialog *>(editor.wizard());
    QVERIFY(fault);
    QTest::mouseClick(fault->okButton(), Qt::LeftButton);
    QVERIFY(editor.editedSet().routes[0].rules[size_t(canary)].fault);
    QVERIFY(!editor.reviewDialog());
    QVERIFY(editor.noticeText().contains(QStringLiteral("cannot be applied yet")));
    editor.setDataPlane(routing::DataPlane::Envoy);
    QVERIFY(editor.applyButton()->isEnabled());
    editor.revert();

    // The served routes change under an open wizard: its OK is refused, nothing is overwritten.
    editor.shiftTraffic(QStringLiteral("bookinfo/reviews@v2"));
    shift = qobject_cast<ShiftTrafficDialog *>(editor.wizard());
    QVERIFY(shift);
    shift->spinBox(1)->setValue(60);
    routing::RouteSet served = set;
    served.routes[0].rules[size_t(canary)].backends[0].weight = 70;
    served.routes[0].rules[size_t(canary)].backends[1].weight = 30;
    editor.setApplied(served, 2);
    QTest::mouseClick(shift->okButton(), Qt::LeftButton);
    QVERIFY(!editor.reviewDialog());
    QVERIFY2(editor.noticeText().contains(QStringLiteral("changed while the dialog was open")),
        qPrintable(editor.noticeText()));
    QCOMPARE(editor.editedSet().routes[0].rules[size_t(canary)].backends[1].weight, 30);
    QVERIFY(!editor.hasChanges());
    editor.setApplied(set, 3);

    // Nothing routes to details: the editor offers to create a route, then shifts on it.
    QSignalSpy routedChanged(&editor, &RouteEditor::routedServicesChanged);
    editor.shiftTraffic(QStringLiteral("bookinfo/details"));
    QVERIFY(!editor.wizard() || !editor.wizard()->isVisible());
    QVERIFY(editor.noticeText().contains(QStringLiteral("No route sends traffic to bookinfo/details")));
    auto *create = editor.findChild<QPushButton *>(QStringLiteral("routeNoticeAction"));
    QVERIFY(create);
    QTest::mouseClick(create, Qt::LeftButton);
    QVERIFY(editor.noticeText().isEmpty());
    const int details = int(editor.editedSet().routes.size()) - 1;
    QCOMPARE(editor.editedSet().routes[size_t(details)].name, std::string("details"));
    QCOMPARE(editor.editedSet().routes[size_t(details)].hostnames, std::vector<std::string> {"details"});
    QCOMPARE(editor.currentRoute(), details);
    QCOMPARE(editor.currentRule(), 0);
    QVERIFY(routedChanged.count() >= 1);
    QVERIFY(editor.routedServices().contains(QStringLiteral("bookinfo/details")));
    QVERIFY(editor.treeModel()->targets().contains(QStringLiteral("details")));
    shift = qobject_cast<ShiftTrafficDialog *>(editor.wizard());
    QVERIFY(shift);
    QCOMPARE(shift->rowCount(), 1);
    QCOMPARE(shift->backendName(0), QStringLiteral("details"));
    QCOMPARE(shift->spinBox(0)->value(), 100);
    shift->reject();
}

void TestRouteEditor::screenshot()
{
    QTemporaryDir dir;
    routing::RouteHistory history(dir.path().toStdString());
    const routing::RouteSet start = loadExamples();
    routing::RouteSet mid = start;
    mid.routes[0].rules[1].backends[0].weight = 90;
    mid.routes[0].rules[1].backends[1].weight = 10;
    QVERIFY(history.record("xds 127.0.0.1:18000", start, mid, std::nullopt, 1714564800000));
    QVERIFY(history.record("xds 127.0.0.1:18000", mid, start, 1, 1714565100000));

    RouteEditor editor;
    ModelTesters testers(editor);
    editor.setDataPlane(routing::DataPlane::Envoy);
    editor.setTargetDescription(QStringLiteral("xDS 127.0.0.1:18000"));
    editor.setApplied(start, 3);
    editor.setHistory(history.list());

    // Two clients as the control plane reports them: one up to date, one refusing v3.
    routing::XdsClientStatus a;
    a.id = 1;
    a.nodeId = "productpage-7d9c";
    a.peer = "ipv4:127.0.0.1:50412";
    a.userAgentName = "gRPC C-core linux";
    routing::XdsClientStatus b = a;
    b.id = 2;
    b.nodeId = "envoy-gateway-0";
    b.peer = "ipv4:127.0.0.1:50418";
    b.userAgentName = "envoy";
    for (auto url : {routing::kXdsListenerType, routing::kXdsRouteConfigurationType, routing::kXdsClusterType,
             routing::kXdsClusterLoadAssignmentType}) {
        routing::XdsTypeStatus t;
        t.typeUrl = std::string(url);
        t.sentVersion = t.ackedVersion = "3";
        a.types.push_back(t);
        if (url == routing::kXdsRouteConfigurationType) {
            t.ackedVersion = "2";
            t.rejected = true;
            t.nackedVersion = "3";
            t.nackCode = 3;
            t.nackMessage = "Unknown cluster 'bookinfo/reviews-v3:9080' in weighted_clusters";
            t.nackCount = 1;
        }
        b.types.push_back(t);
    }
    editor.setClients({a, b});

    const int canary = ruleIndex(start, 0, "canary");
    editor.shiftTraffic(QStringLiteral("bookinfo/reviews@v2"));
    QCOMPARE(editor.currentRule(), canary);
    auto *shift = qobject_cast<ShiftTrafficDialog *>(editor.wizard());
    QVERIFY(shift);
    shift->spinBox(1)->setValue(35);
    shift->accept();
    QVERIFY(editor.reviewDialog());
    editor.reviewDialog()->reject();
    QCOMPARE(editor.editedSet().routes[0].rules[size_t(canary)].backends[1].weight, 35);
    editor.showTab(RouteEditor::Tab::Changes);
    editor.resize(1180, 900);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    QTest::qWait(50);
    // The rule from its title down.
    auto *scroll = editor.ruleEditor()->parentWidget()
        ? qobject_cast<QScrollArea *>(editor.ruleEditor()->parentWidget()->parentWidget())
        : nullptr;
    QVERIFY(scroll);
    scroll->verticalScrollBar()->setValue(0);

    const QByteArray target = qgetenv("MESHSCOPE_ROUTEEDITOR_SCREENSHOT");
    const QString file
        = target.isEmpty() ? dir.filePath(QStringLiteral("routeeditor.png")) : QString::fromLocal8Bit(target);
    const QImage image = editor.grab().toImage();
    QVERIFY(image.save(file));
    QVERIFY(image.width() >= 1000);
    // Not a blank frame: the dark background and lighter text/slider pixels both occur.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7) {
        for (int x = 0; x < image.width(); x += 7)
            colours.insert(image.pixel(x, y));
    }
    QVERIFY(colours.size() > 50);
    if (!target.isEmpty()) {
        for (RouteEditor::Tab tab :
            {RouteEditor::Tab::Clients, RouteEditor::Tab::History, RouteEditor::Tab::Problems}) {
            editor.showTab(tab);
            QTest::qWait(20);
            QVERIFY(editor.grab().save(QString::fromLocal8Bit(target).replace(
                QStringLiteral(".png"), QStringLiteral("-%1.png").arg(int(tab)))));
        }
        // Issues at their fields: the chaos rule for gRPC proxyless, with a broken regex.
        editor.setDataPlane(routing::DataPlane::XdsGrpc);
        QVERIFY(editor.selectRule(1, 0));
        editor.ruleEditor()->matchEditor()->pathValueEdit()->setText(QStringLiteral("/ratings/([0-9]+"));
        QTest::keyClicks(editor.ruleEditor()->matchEditor()->pathValueEdit(), QStringLiteral("/"));
        scroll->verticalScrollBar()->setValue(0);
        QTest::qWait(20);
        QVERIFY(editor.grab().save(
            QString::fromLocal8Bit(target).replace(QStringLiteral(".png"), QStringLiteral("-issues.png"))));
    }
}

QTEST_MAIN(TestRouteEditor)
#include "tst_routeeditor.moc"
