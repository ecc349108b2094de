// A route change written back into the operator's route file (editRouteFile): only
// the changed nodes change; comments, key order, flow lists, quoting, unknown fields,
// other kinds of document and CRLF line ends stay byte for byte; rollback brings the
// file back exactly; every edit reads back as the new routes, on the shipped examples
// under many edits.

#include "routing/routediff.h"
#include "routing/yaml/routeyaml.h"

#include <QDir>
#include <QFile>
#include <QtTest>

#include <string>
#include <vector>

using namespace meshscope::routing;

namespace {

// Written by hand: comments everywhere, flow lists and maps, indentless and indented
// lists, quoting, a duration in milliseconds, an unknown field and a ConfigMap.
const char *const kFile = R"(# Reviews canary: owned by the payments team.
# Keep the jason rule first: it must win over the split.
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata:
  name: reviews   # the Service name
  namespace: bookinfo
  annotations: {owner: payments}
spec:
  hostnames: [reviews, 'reviews.bookinfo']
  rules:
  # Test users first.
  - name: jason
    matches:
    - headers:
      - {name: end-user, value: jason}
    backendRefs:
    - name: reviews-v2
      port: 9080
  - name: canary   # the split
    backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 80   # most traffic stays on v1
    - name: reviews-v2
      port: 9080
      weight: 20
    timeouts:
      request: 10000ms
---
# Not a route: meshscope ignores it and must keep it.
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
data:
  why: "canary for the new star ratings"
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-v1-a1
  namespace: bookinfo
  labels:
    kubernetes.io/service-name: reviews-v1
addressType: IPv4
ports:
  - name: http
    port: 19081
endpoints:
  - addresses: [127.0.0.1]   # loopback for the demo
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-v2-b2
  namespace: bookinfo
  labels:
    kubernetes.io/service-name: reviews-v2
addressType: IPv4
ports:
  - name: http
    port: 19082
endpoints:
  - addresses: [127.0.0.1]
)";

RouteSet load(const std::string &text)
{
    const RouteLoadResult r = loadRouteYaml(text, "routes.yaml");
    if (!r.ok())
        qFatal("does not load: %s", r.issues.front().toString().c_str());
    return r.set;
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos)
            nl = text.size();
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

// The lines a unified diff removes and adds.
struct LineChanges {
    std::vector<std::string> removed;
    std::vector<std::string> added;
};
LineChanges changedLines(const std::string &before, const std::string &after)
{
    LineChanges c;
    for (const std::string &l : lines(unifiedDiff(before, after, "a", "b", 0))) {
        if (l.rfind("---", 0) == 0 || l.rfind("+++", 0) == 0 || l.rfind("@@", 0) == 0)
            continue;
        if (!l.empty() && l[0] == '-')
            c.removed.push_back(l.substr(1));
        else if (!l.empty() && l[0] == '+')
            c.added.push_back(l.substr(1));
    }
    return c;
}

BackendRef *backend(RouteSet &set, const std::string &rule, const std::string &name)
{
    for (RouteRule &r : set.routes[0].rules) {
        if (r.name != rule)
            continue;
        for (BackendRef &b : r.backends) {
            if (b.name == name)
                return &b;
        }
    }
    return nullptr;
}

QString q(const std::string &s) { return QString::fromStdString(s); }

// What `set` reads as once written (defaults filled in, e.g. a missing path match).
RouteSet canonical(const RouteSet &set) { return load(toYaml(set)); }

std::vector<std::string> commentLines(const std::string &text)
{
    std::vector<std::string> out;
    for (const std::string &l : lines(text)) {
        if (l.find('#') != std::string::npos)
            out.push_back(l);
    }
    return out;
}

}  // namespace

class TestRouteFileEdit : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void weightChangeTouchesOnlyItsScalars()
    {
        RouteSet after = load(kFile);
        backend(after, "canary", "reviews-v1")->weight = 49;
        backend(after, "canary", "reviews-v2")->weight = 51;
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY2(e.layoutKept, e.rewritten.empty() ? "" : e.rewritten.front().c_str());
        QVERIFY(load(e.text) == canonical(after));
        const LineChanges c = changedLines(kFile, e.text);
        QCOMPARE(c.removed.size(), size_t(2));
        QCOMPARE(q(c.removed[0]), QStringLiteral("      weight: 80   # most traffic stays on v1"));
        QCOMPARE(q(c.removed[1]), QStringLiteral("      weight: 20"));
        QCOMPARE(q(c.added[0]), QStringLiteral("      weight: 49   # most traffic stays on v1"));
        QCOMPARE(q(c.added[1]), QStringLiteral("      weight: 51"));
    }

    void rollbackRestoresTheFileByteForByte()
    {
        const RouteSet before = load(kFile);
        RouteSet after = before;
        backend(after, "canary", "reviews-v1")->weight = 0;
        backend(after, "canary", "reviews-v2")->weight = 100;
        after.routes[0].rules[1].timeoutMs = 2500;
        const RouteFileEdit applied = editRouteFile(kFile, after);
        QVERIFY(applied.layoutKept);
        QVERIFY(applied.text.find("request: 2s500ms") != std::string::npos);
        const RouteFileEdit rolledBack = editRouteFile(applied.text, before);
        QVERIFY(rolledBack.layoutKept);
        // 10000ms comes back as meshscope writes 10 s; everything else as it was.
        const LineChanges c = changedLines(kFile, rolledBack.text);
        QCOMPARE(c.removed.size(), size_t(1));
        QCOMPARE(q(c.removed[0]), QStringLiteral("      request: 10000ms"));
        QCOMPARE(q(c.added[0]), QStringLiteral("      request: 10s"));
        QVERIFY(load(rolledBack.text) == before);

        // A change that leaves the timeout alone rolls back to the very same bytes.
        RouteSet weightsOnly = before;
        backend(weightsOnly, "canary", "reviews-v1")->weight = 5;
        const std::string once = editRouteFile(kFile, weightsOnly).text;
        QCOMPARE(q(editRouteFile(once, before).text), q(kFile));
    }

    void addedRuleIsInsertedAndRemovedExactly()
    {
        const RouteSet before = load(kFile);
        RouteSet after = before;
        RouteRule header;
        header.name = "beta";
        RouteMatch m;
        m.headers.push_back({"x-beta", StringMatchType::Exact, "1"});
        header.matches.push_back(m);
        header.backends.push_back({"reviews-v2", "", 9080, 1});
        after.routes[0].rules.insert(after.routes[0].rules.begin() + 1, header);
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        const LineChanges c = changedLines(kFile, e.text);
        QVERIFY2(c.removed.empty(), c.removed.empty() ? "" : c.removed.front().c_str());
        QVERIFY(!c.added.empty());
        // In the file's own indentation: the dash where the file puts its dashes.
        QCOMPARE(q(c.added.front()), QStringLiteral("  - name: beta"));
        QVERIFY(e.text.find("  - name: beta") < e.text.find("  - name: canary"));
        QVERIFY(e.text.find("  - name: jason") < e.text.find("  - name: beta"));
        QCOMPARE(q(editRouteFile(e.text, before).text), q(kFile));
    }

    void removedRuleTakesOnlyItsLines()
    {
        const RouteSet before = load(kFile);
        RouteSet after = before;
        after.routes[0].rules.erase(after.routes[0].rules.begin());
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        const LineChanges c = changedLines(kFile, e.text);
        QVERIFY(c.added.empty());
        QCOMPARE(q(c.removed.front()), QStringLiteral("  - name: jason"));
        QCOMPARE(c.removed.size(), size_t(7));
        // The comment above the rule stays (it may well describe what comes next).
        QVERIFY(e.text.find("  # Test users first.\n  - name: canary") != std::string::npos);
    }

    void flowListsAndMapsStayFlow()
    {
        RouteSet after = load(kFile);
        after.endpointSlices[0].endpoints[0].address = "127.0.0.2";
        after.routes[0].hostnames.push_back("reviews.bookinfo.svc");
        after.routes[0].rules[0].matches[0].headers[0].value = "jason, maybe";
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        const LineChanges c = changedLines(kFile, e.text);
        QCOMPARE(c.added.size(), size_t(3));
        QCOMPARE(q(c.added[0]), QStringLiteral("  hostnames: [reviews, reviews.bookinfo, reviews.bookinfo.svc]"));
        QCOMPARE(q(c.added[1]), QStringLiteral("      - {name: end-user, value: \"jason, maybe\"}"));
        QCOMPARE(q(c.added[2]), QStringLiteral("  - addresses: [127.0.0.2]   # loopback for the demo"));
    }

    void unknownFieldsOtherKindsAndCommentsKept()
    {
        RouteSet after = load(kFile);
        backend(after, "canary", "reviews-v2")->port = 9081;
        after.routes[0].rules[1].retry = RetryPolicy {2, {503}, {}, std::nullopt, std::nullopt};
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        QVERIFY(e.text.find("kind: ConfigMap") != std::string::npos);
        QVERIFY(e.text.find("apiVersion: gateway.networking.k8s.io/v1beta1") != std::string::npos);
        QVERIFY(e.text.find("  annotations: {owner: payments}") != std::string::npos);
        QVERIFY(commentLines(kFile) == commentLines(e.text));
        // The new key follows the last one of the rule, in the rule's indentation.
        QVERIFY(e.text.find("      request: 10000ms\n    retry:\n      attempts: 2\n") != std::string::npos);
    }

    void keysRemovedTakeTheirLines()
    {
        RouteSet after = load(kFile);
        after.routes[0].rules[1].timeoutMs.reset();
        // The first key after a dash: the next key moves up beside it.
        after.routes[0].rules[1].name.clear();
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        const LineChanges c = changedLines(kFile, e.text);
        QCOMPARE(c.added.size(), size_t(1));
        QVERIFY(std::find(c.removed.begin(), c.removed.end(), "    timeouts:") != c.removed.end());
        QVERIFY(std::find(c.removed.begin(), c.removed.end(), "      request: 10000ms") != c.removed.end());
        QVERIFY(e.text.find("  - backendRefs:\n    - name: reviews-v1\n") != std::string::npos);
    }

    void crlfFilesStayCrlf()
    {
        std::string crlf;
        for (const char *p = kFile; *p; ++p) {
            if (*p == '\n')
                crlf += '\r';
            crlf += *p;
        }
        const RouteSet before = load(crlf);
        RouteSet after = before;
        backend(after, "canary", "reviews-v1")->weight = 70;
        after.routes[0].rules[1].retry = RetryPolicy {1, {}, {"5xx"}, std::nullopt, std::nullopt};
        const RouteFileEdit e = editRouteFile(crlf, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        for (size_t i = 0; i < e.text.size(); ++i) {
            if (e.text[i] == '\n')
                QVERIFY2(i > 0 && e.text[i - 1] == '\r', qPrintable(QStringLiteral("bare LF at %1").arg(i)));
        }
        QCOMPARE(q(editRouteFile(e.text, before).text), q(crlf));
    }

    void documentsAddedAndRemoved()
    {
        const RouteSet before = load(kFile);
        RouteSet after = before;
        HttpRoute ratings;
        ratings.name = "ratings";
        ratings.ns = "bookinfo";
        ratings.hostnames = {"ratings"};
        RouteRule all;
        all.backends.push_back({"ratings-v1", "", 9080, 1});
        ratings.rules.push_back(all);
        after.routes.push_back(ratings);
        after.endpointSlices.erase(after.endpointSlices.begin());
        const RouteFileEdit e = editRouteFile(kFile, after);
        QVERIFY(e.layoutKept);
        QVERIFY(load(e.text) == canonical(after));
        QVERIFY(e.text.find("reviews-v1-a1") == std::string::npos);
        QVERIFY(e.text.find("# loopback for the demo") == std::string::npos);
        // The new route follows the last route, before the ConfigMap that came after it.
        const size_t newRoute = e.text.find("name: ratings");
        QVERIFY(newRoute != std::string::npos);
        QVERIFY(newRoute < e.text.find("kind: ConfigMap"));
        QCOMPARE(q(editRouteFile(e.text, before).text).count(QStringLiteral("reviews-v1-a1")), 1);
        QVERIFY(load(editRouteFile(e.text, before).text) == before);

        // The first document removed: the file's header comment stays on top.
        RouteSet noRoutes = before;
        noRoutes.routes.clear();
        const RouteFileEdit gone = editRouteFile(kFile, noRoutes);
        QVERIFY(gone.layoutKept);
        QVERIFY(load(gone.text) == noRoutes);
        QVERIFY(gone.text.rfind("# Reviews canary: owned by the payments team.\n", 0) == 0);
    }

    void anchorsAreWrittenInMeshscopesLayout()
    {
        const std::string anchored = R"(# shared port
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs:
    - {name: a, port: &p 8080, weight: &w 3}
    - {name: b, port: *p, weight: *w}
)";
        RouteSet after = load(anchored);
        after.routes[0].rules[0].backends[1].weight = 9;
        const RouteFileEdit e = editRouteFile(anchored, after);
        QVERIFY(load(e.text) == canonical(after));
        // An alias cannot be changed in place: the smallest node around it that can (the
        // backend, a flow mapping) is written anew, still in flow style; the anchors stay.
        QVERIFY(e.layoutKept);
        const LineChanges c = changedLines(anchored, e.text);
        QCOMPARE(c.added.size(), size_t(1));
        QCOMPARE(q(c.added[0]), QStringLiteral("    - {name: b, port: 8080, weight: 9}"));
        QVERIFY(e.text.find("    - {name: a, port: &p 8080, weight: &w 3}\n") != std::string::npos);
    }

    void fileThatDoesNotLoadIsRewrittenAndSaysSo()
    {
        RouteSet after = load(kFile);
        const RouteFileEdit e = editRouteFile("kind: HTTPRoute\nspec: [\n", after);
        QVERIFY(!e.layoutKept);
        QCOMPARE(e.rewritten.size(), size_t(1));
        QVERIFY(e.rewritten[0].find("does not load") != std::string::npos);
        QVERIFY(load(e.text) == canonical(after));
    }

    // Every shipped example under every kind of edit the editor makes: each result reads
    // back as the new routes, keeps every comment, and undoing it gives back the file.
    void examplesSurviveEveryEdit()
    {
        const QDir dir(QFINDTESTDATA(QStringLiteral("../../examples/routes")));
        const QStringList files = dir.entryList({QStringLiteral("*.yaml")}, QDir::Files);
        QVERIFY(files.size() >= 3);
        size_t edits = 0, expected = 0;
        for (const QString &name : files) {
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const std::string original = f.readAll().toStdString();
            const RouteSet before = load(original);
            std::vector<std::pair<std::string, RouteSet>> variants;
            for (size_t i = 0; i < before.endpointSlices.size(); ++i) {
                RouteSet s = before;
                s.endpointSlices[i].endpoints.push_back({"127.0.0.9", false});
                variants.push_back({name.toStdString() + " slice " + std::to_string(i) + ": address added", s});
            }
            for (size_t r = 0; r < before.routes.size(); ++r) {
                RouteSet s = before;
                s.routes[r].hostnames.push_back("canary.example.com");
                variants.push_back({name.toStdString() + " route " + std::to_string(r) + ": hostname added", s});
                for (size_t i = 0; i < before.routes[r].rules.size(); ++i) {
                    const std::string where
                        = name.toStdString() + " route " + std::to_string(r) + " rule " + std::to_string(i);
                    RouteSet s = before;
                    for (BackendRef &b : s.routes[r].rules[i].backends)
                        b.weight += 7;
                    variants.push_back({where + ": weights", s});
                    s = before;
                    s.routes[r].rules.erase(s.routes[r].rules.begin() + long(i));
                    variants.push_back({where + ": removed", s});
                    s = before;
                    s.routes[r].rules[i].timeoutMs
                        = s.routes[r].rules[i].timeoutMs ? std::nullopt : std::optional<int64_t>(1500);
                    variants.push_back({where + ": timeout toggled", s});
                    s = before;
                    RouteMatch m;
                    m.headers.push_back({"x-canary", StringMatchType::Exact, "true"});
                    s.routes[r].rules[i].matches.insert(s.routes[r].rules[i].matches.begin(), m);
                    variants.push_back({where + ": header match", s});
                    s = before;
                    s.routes[r].rules[i].fault = FaultInjection {250, 10, std::nullopt, 100};
                    variants.push_back({where + ": fault", s});
                    s = before;
                    RouteRule copy = s.routes[r].rules[i];
                    copy.name = copy.name.empty() ? std::string() : copy.name + "-copy";
                    s.routes[r].rules.insert(s.routes[r].rules.begin() + long(i), copy);
                    variants.push_back({where + ": rule added", s});
                }
            }
            expected += before.endpointSlices.size() + before.routes.size();
            for (const HttpRoute &r : before.routes)
                expected += 6 * r.rules.size();
            for (const auto &[what, after] : variants) {
                const RouteFileEdit e = editRouteFile(original, after, name.toStdString());
                QVERIFY2(load(e.text) == canonical(after), what.c_str());
                QVERIFY2(e.layoutKept, (what + ": " + (e.rewritten.empty() ? "" : e.rewritten.front())).c_str());
                // Comments inside a removed rule go with it; every other edit keeps them all.
                if (what.find(": removed") == std::string::npos)
                    QVERIFY2(commentLines(original) == commentLines(e.text), what.c_str());
                const RouteFileEdit back = editRouteFile(e.text, before, name.toStdString());
                QVERIFY2(load(back.text) == before, what.c_str());
                ++edits;
            }
        }
        QCOMPARE(edits, expected);
        QVERIFY(edits >= 30);
    }
};

QTEST_GUILESS_MAIN(TestRouteFileEdit)
#include "tst_routefileedit.moc"
