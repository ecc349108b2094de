// Export clip: a range of a real recording written as its own, read back with
// RecordingReader: only the range's events, every secret gone from every field and from
// the file's bytes (blocks decompressed), names and everything else kept as recorded;
// and every way it can fail leaves no file behind under the output's name.

#include "session/clipexport.h"
#include "session/clipscrubber.h"
#include "session/recording.h"
#include "session/recordingformat.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <zstd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>

using namespace meshscope;

namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;

// Every value here is a secret the clip must not hold, in whatever field it went in.
const std::vector<std::string> kSecrets = {
    "alice-SECRET",
    "tok-SECRET-1",
    "SESS-SECRET",
    "BEARER-SECRET",
    "COOKIE-SECRET",
    "APIKEY-SECRET",
    "DBPASS-SECRET",
    "REFERER-SECRET",
    "USERINFO-SECRET",
    "K-SECRET",
    "PW-SECRET",
    "REQ-USER-SECRET",
    "AUTH-SECRET",
    "PROM-SECRET",
    "ROUTE-SECRET",
    "MOD-SECRET",
    "hunter2",
    "HDR-TOKEN-SECRET",
    "JSESSION-SECRET",
    "FRAGMENT-SECRET",
    "GRPC-META-SECRET",
    "CUSTOM-SECRET",
};

const char *const kRoutesYaml = R"(# routes as applied
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: cart
spec:
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /cart
          headers:
            - name: Authorization
              type: Exact
              value: Bearer ROUTE-SECRET
            - name: x-canary
              type: Exact
              value: always
          queryParams:
            - name: debug
              type: Exact
              value: "1"
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set:
              - name: x-api-key
                value: MOD-SECRET
              - name: x-team
                value: payments
      backendRefs:
        - name: cart-v2
          port: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cart-v2
)";

Span secretSpan(int i, int64_t ms)
{
    Span s;
    s.traceId[0] = uint8_t(i + 1);
    s.traceId[15] = 0x42;
    s.spanId = uint64_t(1000 + i);
    s.kind = SpanKind::Server;
    s.protocol = Protocol::Http;
    s.service = "cart";
    s.serviceNamespace = "shop";
    s.name = "GET /cart?user=alice-SECRET";
    s.startNs = uint64_t(ms) * 1000000ull;
    s.endNs = s.startNs + 5000000ull;
    s.method = "GET";
    s.path = "/cart;jsessionid=JSESSION-SECRET?user=alice-SECRET&token=tok-SECRET-1&page=2";
    s.authority = "shop.example:443";
    s.httpStatus = 200;
    s.statusMessage = "upstream said password=PW-SECRET and gave up";
    s.attributes = {
        {"http.url", "https://shop.example/cart?user=alice-SECRET&token=tok-SECRET-1#access_token=FRAGMENT-SECRET"},
        {"url.query", "session=SESS-SECRET&page=2"},
        {"http.request.header.authorization", "Bearer BEARER-SECRET"},
        {"http.request.header.cookie", "sid=COOKIE-SECRET"},
        {"http.request.header.x-api-key", "APIKEY-SECRET"},
        {"http.request.header.x-auth-token", "HDR-TOKEN-SECRET"},
        {"rpc.grpc.request.metadata.authorization", "GRPC-META-SECRET"},
        {"http.request.header.x-internal-check", "CUSTOM-SECRET"},
        {"app.db_password", "DBPASS-SECRET"},
        {"http.request.header.referer", "https://shop.example/?ref=REFERER-SECRET"},
        {"exception.message", "GET https://bob:USERINFO-SECRET@api.example/v1?key=K-SECRET failed: 503"},
        {"http.request.method", "GET"},
        {"cache.key", "product:42"},
        {"gen_ai.usage.input_tokens", "17"},
        {"http.request.header.x-canary", "always"},
        {"k8s.pod.name", "cart-7d9f", true},
    };
    return s;
}

ObservedRequest secretRequest(int64_t ms)
{
    ObservedRequest r;
    r.source = NodeRef {NodeKind::Service, "shop", "frontend", "", false};
    r.target = NodeRef {NodeKind::Service, "shop", "cart", "", false};
    r.event.timeMs = ms;
    r.event.protocol = Protocol::Http;
    r.event.method = "POST";
    r.event.path = "/login?user=REQ-USER-SECRET&next=/home";
    r.event.authority = "svc:AUTH-SECRET@cart:8080";
    r.event.httpStatus = 302;
    r.event.durationMs = 12.5;
    r.event.bytes = 512;
    r.event.upstreamCluster = "outbound|8080||cart.shop.svc.cluster.local";
    return r;
}

// One call the replay delivered, flattened: every string a clip could leak a secret in.
struct Replayed {
    std::vector<std::pair<int64_t, std::vector<Span>>> spans;
    std::vector<std::pair<int64_t, std::vector<ObservedRequest>>> requests;
    std::vector<std::pair<int64_t, std::string>> states;  // origin + ": " + state
    struct Route {
        int64_t ms;
        uint64_t version;
        std::string backend, yaml;
    };
    std::vector<Route> routes;
    std::vector<int64_t> pulls;
    std::string allText;  // every string field, concatenated
};

class ReplaySink : public TelemetrySink {
public:
    explicit ReplaySink(Replayed &out)
        : m_out(out)
    {
    }
    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin) override
    {
        m_out.allText += origin;
        for (const Span &s : spans) {
            for (const std::string *f : {&s.service, &s.serviceNamespace, &s.serviceVersion, &s.name, &s.peer,
                     &s.method, &s.path, &s.authority, &s.statusMessage})
                m_out.allText += *f + "\n";
            for (const SpanAttribute &a : s.attributes)
                m_out.allText += a.key + "=" + a.value + "\n";
        }
        m_out.spans.emplace_back(nowMs, std::move(spans));
    }
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override
    {
        m_out.allText += origin;
        for (const ObservedRequest &r : requests) {
            const RequestEvent &e = r.event;
            for (const std::string *f : {&e.sourceId, &e.targetId, &e.method, &e.path, &e.authority, &e.traceId,
                     &e.origin, &e.upstreamCluster, &e.responseFlags, &r.source.name, &r.target.name})
                m_out.allText += *f + "\n";
        }
        m_out.requests.emplace_back(nowMs, std::move(requests));
    }
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge>, int64_t nowMs) override
    {
        m_out.allText += origin + "\n";
        m_out.pulls.push_back(nowMs);
    }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
    void countMalformed(const std::string &) override { }
    void countOversized(const std::string &) override { }

private:
    Replayed &m_out;
};

Replayed replayAll(RecordingReader &reader)
{
    Replayed out;
    ReplaySink sink(out);
    RecordingReader::Callbacks cb;
    cb.sourceState = [&out](const std::string &origin, const std::string &state, int64_t ms) {
        out.states.emplace_back(ms, origin + ": " + state);
        out.allText += origin + ": " + state + "\n";
    };
    cb.routeApply = [&out](uint64_t version, const std::string &backend, const std::string &yaml, int64_t ms) {
        out.routes.push_back({ms, version, backend, yaml});
        out.allText += backend + "\n" + yaml + "\n";
    };
    std::string error;
    if (!reader.replay(sink, reader.startMs(), reader.endMs(), cb, error))
        qWarning("replay failed: %s", error.c_str());
    out.allText += reader.headerJson();
    return out;
}

std::string fileBytes(const QString &path)
{
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The file's bytes with every block decompressed in place of its payload: what a
// `strings` over the clip would show if nothing were compressed.
std::string decompressedBytes(const std::string &file)
{
    namespace fmt = msrecformat;
    std::string out;
    const auto *p = reinterpret_cast<const unsigned char *>(file.data());
    const size_t headerLength = fmt::kFixedHeaderSize + fmt::getU32(p + 18);
    out.append(file, 0, headerLength);
    size_t at = headerLength;
    while (at + fmt::kFrameSize <= file.size()) {
        const fmt::Frame frame = fmt::decodeFrame(p + at);
        if (frame.magic != fmt::kBlockMagic)
            break;
        std::string raw(frame.rawLength, '\0');
        const size_t n
            = ZSTD_decompress(raw.data(), raw.size(), file.data() + at + fmt::kFrameSize, frame.compressedLength);
        if (ZSTD_isError(n))
            return {};
        out += raw;
        at += fmt::kFrameSize + frame.compressedLength;
    }
    out.append(file, std::min(at, file.size()));
    return out;
}

QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

}  // namespace

class TestClipExport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    // The scrubber on its own.
    void urls_data();
    void urls();
    void text_data();
    void text();
    void secretNames_data();
    void secretNames();
    void routeYamlKeepsConfigLosesSecretMatches();
    void routeYamlWithoutSecretsIsKeptByteForByte();

    // A clip of a real recording.
    void clipHoldsOnlyTheRangeWithSecretsRemoved();
    void clipHeaderSaysWhereItCameFrom();
    void rangePastTheRecordingIsCutToIt();
    void progressRisesToOneAndCancelLeavesNothing();

    // Refusals.
    void badRangesAreRefused();
    void rangeWithoutEventsIsRefused();
    void outputIsTheRecordingItself();
    void unwritableOutputs();
    void diskFullLeavesThePreviousFileAlone();
    void missingSourceIsCannotRead();

private:
    QString writeRecording(const QString &name, bool withGap = false);

    QTemporaryDir m_dir;
    QString m_recording;
};

void TestClipExport::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_recording = writeRecording(QStringLiteral("incident.msrec"));
}

// Ten seconds: every 500 ms a span batch and a request batch, each second a pull, a
// source state at +1.2 s, +4.2 s and +8.2 s, route applies at +2.5 s, +4.5 s and +9.5 s.
// `withGap`: only the first and the last second hold events.
QString TestClipExport::writeRecording(const QString &name, bool withGap)
{
    const QString path = m_dir.filePath(name);
    const std::string header = R"({"program":"meshscope","sources":["https://admin:hunter2@prom.example:9090/api?)"
                               R"(token=tok-SECRET-1&region=eu-west"],"api_token":"APIKEY-SECRET"})";
    std::string error;
    auto w = RecordingWriter::create(path.toStdString(), nullptr, error, header);
    if (!w) {
        qWarning("%s", error.c_str());
        return {};
    }
    for (int i = 0; i < 20; ++i) {
        const int64_t ms = kT0Ms + i * 500;
        if (withGap && i > 1 && i < 18)
            continue;
        w->ingestSpans({secretSpan(i, ms)}, ms, "otlp");
        w->ingestRequests({secretRequest(ms + 10)}, ms + 10, "als");
        if (i % 2 == 0)
            w->setPulledEdges("prometheus", {PulledEdge {}}, ms + 20);
    }
    if (!withGap) {
        for (int64_t at : {1200, 4200, 8200})
            w->recordSourceState(
                "prometheus", "error: GET http://prom:PROM-SECRET@prom:9090/api/v1/query?query=up failed", kT0Ms + at);
        uint64_t version = 1;
        for (int64_t at : {2500, 4500, 9500})
            w->recordRouteApply(version++, "xds 127.0.0.1:18000", kRoutesYaml, kT0Ms + at);
    }
    w->close();
    if (!w->lastError().empty())
        qWarning("%s", w->lastError().c_str());
    return path;
}

void TestClipExport::urls_data()
{
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::newRow("query values, keys kept") << "/cart?user=alice&token=abc"
                                             << "/cart?user=***&token=***";
    QTest::newRow("bare key kept") << "/wsdl?debug&x=1"
                                   << "/wsdl?debug&x=***";
    QTest::newRow("userinfo") << "https://bob:pw@api.example:8443/v1"
                              << "https://***@api.example:8443/v1";
    QTest::newRow("user alone") << "ftp://bob@files.example/"
                                << "ftp://***@files.example/";
    QTest::newRow("fragment token") << "https://a.example/cb#access_token=xyz&state=s"
                                    << "https://a.example/cb#access_token=***&state=***";
    QTest::newRow("fragment anchor kept") << "https://a.example/doc#section-2"
                                          << "https://a.example/doc#section-2";
    QTest::newRow("path parameter") << "/shop;jsessionid=ABC/cart?x=1"
                                    << "/shop;jsessionid=***/cart?x=***";
    QTest::newRow("semicolon query") << "/a?x=1;y=2"
                                     << "/a?x=***;y=***";
    QTest::newRow("encoded value") << "/s?q=a%20b%26c"
                                   << "/s?q=***";
    QTest::newRow("scheme-relative") << "//u:p@cdn.example/x?y=z"
                                     << "//***@cdn.example/x?y=***";
    QTest::newRow("no query") << "/api/v1/users/42"
                              << "/api/v1/users/42";
    QTest::newRow("empty value kept") << "/a?x=&y"
                                      << "/a?x=&y";
    QTest::newRow("already scrubbed") << "/a?x=***"
                                      << "/a?x=***";
    QTest::newRow("@ in the query is no userinfo") << "https://a.example/p?mail=a@b.example"
                                                   << "https://a.example/p?mail=***";
}

void TestClipExport::urls()
{
    QFETCH(QString, in);
    QFETCH(QString, out);
    const ClipScrubber scrubber;
    std::string s = in.toStdString();
    const size_t n = scrubber.url(s);
    QCOMPARE(QString::fromStdString(s), out);
    QCOMPARE(n > 0, in != out);
}

void TestClipExport::text_data()
{
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::newRow("URL in an error") << "GET https://bob:pw@api.example/v1?key=K1 failed: 503"
                                     << "GET https://***@api.example/v1?key=*** failed: 503";
    QTest::newRow("path with query in a span name") << "GET /cart?user=alice"
                                                    << "GET /cart?user=***";
    QTest::newRow("quoted URL") << "fetch(\"/a?b=c\") rejected"
                                << "fetch(\"/a?b=***\") rejected";
    QTest::newRow("password pair") << "login failed password=hunter2 user=bob"
                                   << "login failed password=*** user=bob";
    QTest::newRow("connection string") << "Server=db;User Id=sa;Password=Pa55;Encrypt=true"
                                       << "Server=db;User Id=sa;Password=***;Encrypt=true";
    QTest::newRow("header line") << "sent Authorization: Bearer abc.def\nnext line"
                                 << "sent Authorization: ***\nnext line";
    QTest::newRow("auth scheme after =") << "authorization=Bearer abc.def rest"
                                         << "authorization=*** rest";
    QTest::newRow("JSON member") << R"({"client_secret":"s3cr3t","scope":"read"})"
                                 << R"({"client_secret":"***","scope":"read"})";
    QTest::newRow("SQL literal") << "UPDATE users SET password='x1' WHERE id=7"
                                 << "UPDATE users SET password='***' WHERE id=7";
    QTest::newRow("times and ports untouched") << "at 12:00:03 to cart:8080 (retry 2)"
                                               << "at 12:00:03 to cart:8080 (retry 2)";
    QTest::newRow("token counts untouched") << "input_tokens=17"
                                            << "input_tokens=17";
    QTest::newRow("plain text untouched") << "connection refused"
                                          << "connection refused";
}

void TestClipExport::text()
{
    QFETCH(QString, in);
    QFETCH(QString, out);
    const ClipScrubber scrubber;
    std::string s = in.toStdString();
    scrubber.text(s);
    QCOMPARE(QString::fromStdString(s), out);
}

void TestClipExport::secretNames_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<bool>("secret");
    for (const char *k : {"http.request.header.authorization", "http.request.header.proxy-authorization",
             "http.request.header.cookie", "http.response.header.set-cookie", "http.request.header.x-api-key",
             "http.request.header.x-auth-token", "rpc.grpc.request.metadata.authorization", "app.db_password",
             "oauth.client_secret", "aws.session_token", "http.request.header.key"})
        QTest::newRow(k) << QString::fromLatin1(k) << true;
    for (const char *k : {"http.request.method", "http.url", "cache.key", "messaging.kafka.message.key",
             "gen_ai.usage.input_tokens", "http.request.header.x-canary", "service.name", "monkey"})
        QTest::newRow(k) << QString::fromLatin1(k) << false;
}

void TestClipExport::secretNames()
{
    QFETCH(QString, key);
    QFETCH(bool, secret);
    QCOMPARE(ClipScrubber().isSecretAttribute(key.toStdString()), secret);
}

void TestClipExport::routeYamlKeepsConfigLosesSecretMatches()
{
    const ClipScrubber scrubber;
    std::string yaml = kRoutesYaml;
    QCOMPARE(scrubber.routesYaml(yaml), size_t(2));
    QVERIFY(yaml.find("ROUTE-SECRET") == std::string::npos);
    QVERIFY(yaml.find("MOD-SECRET") == std::string::npos);
    // Still YAML, with the same documents, the names kept and the other values as they were.
    const std::vector<YAML::Node> docs = YAML::LoadAll(yaml);
    QCOMPARE(docs.size(), size_t(2));
    const YAML::Node rule = docs[0]["spec"]["rules"][0];
    const YAML::Node headers = rule["matches"][0]["headers"];
    QCOMPARE(headers[0]["name"].as<std::string>(), std::string("Authorization"));
    QCOMPARE(headers[0]["value"].as<std::string>(), std::string("***"));
    QCOMPARE(headers[1]["value"].as<std::string>(), std::string("always"));
    QCOMPARE(rule["matches"][0]["queryParams"][0]["value"].as<std::string>(), std::string("1"));
    QCOMPARE(rule["matches"][0]["path"]["value"].as<std::string>(), std::string("/cart"));
    const YAML::Node set = rule["filters"][0]["requestHeaderModifier"]["set"];
    QCOMPARE(set[0]["value"].as<std::string>(), std::string("***"));
    QCOMPARE(set[1]["value"].as<std::string>(), std::string("payments"));
    QCOMPARE(rule["backendRefs"][0]["port"].as<int>(), 8080);
    QCOMPARE(docs[1]["kind"].as<std::string>(), std::string("EndpointSlice"));

    // YAML that cannot be read cannot be checked: it is left out, and says so.
    std::string broken = "headers: [ {name: authorization, value: Bearer x";
    QCOMPARE(scrubber.routesYaml(broken), size_t(1));
    QVERIFY(broken.starts_with("#"));
    QVERIFY(broken.find("Bearer") == std::string::npos);
}

void TestClipExport::routeYamlWithoutSecretsIsKeptByteForByte()
{
    const std::string original = "# canary\nrules:\n  - matches:\n      - headers:\n          - name: x-canary\n"
                                 "            value: always\n";
    std::string yaml = original;
    QCOMPARE(ClipScrubber().routesYaml(yaml), size_t(0));
    QCOMPARE(yaml, original);
}

void TestClipExport::clipHoldsOnlyTheRangeWithSecretsRemoved()
{
    QVERIFY(!m_recording.isEmpty());
    const QString out = m_dir.filePath(QStringLiteral("clip.msrec"));
    ClipOptions options;
    options.extraSecretNames = {"X-Internal-Check"};
    const int64_t from = kT0Ms + 3000, to = kT0Ms + 6000;
    const ClipResult r = exportClip(m_recording.toStdString(), from, to, out.toStdString(), options);
    QVERIFY2(r.ok(), r.message.c_str());
    QCOMPARE(r.fromMs, from);
    QCOMPARE(r.toMs, to);
    // Batches at +3.0 .. +6.0 s every 500 ms: 7 span batches; requests 10 ms later: 6
    // (+6.01 s is past the end); pulls at +3.02, +4.02, +5.02; states at +4.2 s; routes at +4.5 s.
    QCOMPARE(r.spans, uint64_t(7));
    QCOMPARE(r.requests, uint64_t(6));
    QCOMPARE(r.pulls, uint64_t(3));
    QCOMPARE(r.sourceStates, uint64_t(1));
    QCOMPARE(r.routeApplies, uint64_t(1));
    QCOMPARE(r.events, uint64_t(7 + 6 + 3 + 1 + 1));
    QVERIFY(r.valuesRedacted > 0);
    QCOMPARE(r.bytes, uint64_t(QFileInfo(out).size()));
    QVERIFY(r.problems.empty());
    QCOMPARE(entries(m_dir.path()), (QStringList {QStringLiteral("clip.msrec"), QStringLiteral("incident.msrec")}));

    std::string why;
    const std::unique_ptr<RecordingReader> clip = RecordingReader::open(out.toStdString(), why);
    QVERIFY2(clip, why.c_str());
    QVERIFY(clip->openedFromIndex());
    QVERIFY(clip->problems().empty());
    QCOMPARE(clip->startMs(), from);
    QCOMPARE(clip->endMs(), to);
    Replayed got = replayAll(*clip);
    QCOMPARE(got.spans.size(), size_t(7));
    QCOMPARE(got.requests.size(), size_t(6));
    QCOMPARE(got.pulls.size(), size_t(3));
    for (const auto &[ms, spans] : got.spans)
        QVERIFY(ms >= from && ms <= to);
    QCOMPARE(got.states.size(), size_t(1));
    QCOMPARE(got.states[0].first, kT0Ms + 4200);
    QCOMPARE(
        got.states[0].second, std::string("prometheus: error: GET http://***@prom:9090/api/v1/query?query=*** failed"));
    QCOMPARE(got.routes.size(), size_t(1));
    QCOMPARE(got.routes[0].ms, kT0Ms + 4500);
    QCOMPARE(got.routes[0].version, uint64_t(2));
    QCOMPARE(got.routes[0].backend, std::string("xds 127.0.0.1:18000"));
    QVERIFY(got.routes[0].yaml.find("x-canary") != std::string::npos);

    // Not one secret, in any field, in the header, or anywhere in the file once its
    // blocks are decompressed.
    const std::string bytes = fileBytes(out);
    const std::string plain = decompressedBytes(bytes);
    QVERIFY(plain.size() > bytes.size());
    QVERIFY(plain.find("cart-7d9f") != std::string::npos);  // the check can see what it looks for
    for (const std::string &secret : kSecrets) {
        QVERIFY2(got.allText.find(secret) == std::string::npos, secret.c_str());
        QVERIFY2(plain.find(secret) == std::string::npos, secret.c_str());
        QVERIFY2(bytes.find(secret) == std::string::npos, secret.c_str());
    }
    // ... while the source held them all (the test would pass on an empty clip otherwise).
    const std::unique_ptr<RecordingReader> source = RecordingReader::open(m_recording.toStdString(), why);
    QVERIFY(source);
    const std::string sourceText = replayAll(*source).allText;
    for (const std::string &secret : kSecrets)
        QVERIFY2(sourceText.find(secret) != std::string::npos, secret.c_str());

    // Keys kept, secrets masked, everything else exactly as recorded.
    const Span &s = got.spans[0].second.at(0);
    const Span expected = secretSpan(6, kT0Ms + 3000);
    QCOMPARE(s.path, std::string("/cart;jsessionid=***?user=***&token=***&page=***"));
    QCOMPARE(s.name, std::string("GET /cart?user=***"));
    QCOMPARE(s.statusMessage, std::string("upstream said password=*** and gave up"));
    std::map<std::string, std::string> attrs;
    for (const SpanAttribute &a : s.attributes)
        attrs[a.key] = a.value;
    QCOMPARE(attrs.size(), expected.attributes.size());
    QCOMPARE(attrs["http.url"], std::string("https://shop.example/cart?user=***&token=***#access_token=***"));
    QCOMPARE(attrs["url.query"], std::string("session=***&page=***"));
    for (const char *k : {"http.request.header.authorization", "http.request.header.cookie",
             "http.request.header.x-api-key", "http.request.header.x-auth-token",
             "rpc.grpc.request.metadata.authorization", "http.request.header.x-internal-check", "app.db_password"})
        QCOMPARE(attrs[k], std::string("***"));
    QCOMPARE(attrs["http.request.header.referer"], std::string("https://shop.example/?ref=***"));
    QCOMPARE(attrs["exception.message"], std::string("GET https://***@api.example/v1?key=*** failed: 503"));
    QCOMPARE(attrs["http.request.method"], std::string("GET"));
    QCOMPARE(attrs["cache.key"], std::string("product:42"));
    QCOMPARE(attrs["gen_ai.usage.input_tokens"], std::string("17"));
    QCOMPARE(attrs["http.request.header.x-canary"], std::string("always"));
    QCOMPARE(attrs["k8s.pod.name"], std::string("cart-7d9f"));
    QVERIFY(std::find_if(s.attributes.begin(), s.attributes.end(), [](const SpanAttribute &a) {
        return a.key == "k8s.pod.name";
    })->resource);
    // The fields no secret lives in are the recording's own.
    Span same = s;
    same.name = expected.name;
    same.path = expected.path;
    same.statusMessage = expected.statusMessage;
    same.attributes = expected.attributes;
    QVERIFY(same == expected);

    const ObservedRequest &req = got.requests[0].second.at(0);
    ObservedRequest want = secretRequest(kT0Ms + 3010);
    QCOMPARE(req.event.path, std::string("/login?user=***&next=***"));
    QCOMPARE(req.event.authority, std::string("***@cart:8080"));
    want.event.path = req.event.path;
    want.event.authority = req.event.authority;
    QVERIFY(req == want);
}

void TestClipExport::clipHeaderSaysWhereItCameFrom()
{
    const QString out = m_dir.filePath(QStringLiteral("header.msrec"));
    const ClipResult r = exportClip(m_recording.toStdString(), kT0Ms + 1000, kT0Ms + 2000, out.toStdString());
    QVERIFY2(r.ok(), r.message.c_str());
    std::string why;
    const std::unique_ptr<RecordingReader> clip = RecordingReader::open(out.toStdString(), why);
    QVERIFY(clip);
    const QJsonObject header = QJsonDocument::fromJson(QByteArray::fromStdString(clip->headerJson())).object();
    const QJsonObject c = header.value(QStringLiteral("clip")).toObject();
    QCOMPARE(c.value(QStringLiteral("file")).toString(), QStringLiteral("incident.msrec"));
    QCOMPARE(c.value(QStringLiteral("from_ms")).toInteger(), kT0Ms + 1000);
    QCOMPARE(c.value(QStringLiteral("to_ms")).toInteger(), kT0Ms + 2000);
    QCOMPARE(c.value(QStringLiteral("from")).toString(), QStringLiteral("2023-11-14T22:13:21.000Z"));
    QVERIFY(c.value(QStringLiteral("source_created_ms")).toInteger() > 0);
    // The full path stays on this machine: only the file's name is said.
    QVERIFY(clip->headerJson().find(m_dir.path().toStdString()) == std::string::npos);
    const QJsonObject source = header.value(QStringLiteral("source_header")).toObject();
    QCOMPARE(source.value(QStringLiteral("program")).toString(), QStringLiteral("meshscope"));
    QCOMPARE(source.value(QStringLiteral("sources")).toArray().at(0).toString(),
        QStringLiteral("https://***@prom.example:9090/api?token=***&region=***"));
    QCOMPARE(source.value(QStringLiteral("api_token")).toString(), QStringLiteral("***"));
}

void TestClipExport::rangePastTheRecordingIsCutToIt()
{
    const QString out = m_dir.filePath(QStringLiteral("whole.msrec"));
    const ClipResult r = exportClip(m_recording.toStdString(), kT0Ms - 60000, kT0Ms + 3600000, out.toStdString());
    QVERIFY2(r.ok(), r.message.c_str());
    std::string why;
    const std::unique_ptr<RecordingReader> source = RecordingReader::open(m_recording.toStdString(), why);
    QCOMPARE(r.fromMs, source->startMs());
    QCOMPARE(r.toMs, source->endMs());
    QCOMPARE(r.spans, uint64_t(20));
    QCOMPARE(r.requests, uint64_t(20));
    QCOMPARE(r.sourceStates, uint64_t(3));
    QCOMPARE(r.routeApplies, uint64_t(3));
    const std::unique_ptr<RecordingReader> clip = RecordingReader::open(out.toStdString(), why);
    QCOMPARE(clip->startMs(), source->startMs());
    QCOMPARE(clip->endMs(), source->endMs());
    QVERIFY(clip->blockCount() >= 5);  // still cut about once a second of session time
}

void TestClipExport::progressRisesToOneAndCancelLeavesNothing()
{
    const std::string in = m_recording.toStdString();
    const QString out = m_dir.filePath(QStringLiteral("progress.msrec"));
    std::vector<double> seen;
    ClipResult r = exportClip(in, kT0Ms, kT0Ms + 9500, out.toStdString(), {}, [&seen](double p) {
        seen.push_back(p);
        return true;
    });
    QVERIFY2(r.ok(), r.message.c_str());
    QVERIFY(seen.size() >= 5);
    QVERIFY(std::is_sorted(seen.begin(), seen.end()));
    QVERIFY(seen.front() >= 0.0 && seen.front() < 0.5);
    QCOMPARE(seen.back(), 1.0);

    // A cancel keeps what was there under the name before, and leaves no temporary file.
    const QString kept = m_dir.filePath(QStringLiteral("kept.msrec"));
    {
        QFile f(kept);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("the old file");
    }
    const QStringList before = entries(m_dir.path());
    int calls = 0;
    r = exportClip(in, kT0Ms, kT0Ms + 9500, kept.toStdString(), {}, [&calls](double) { return ++calls < 3; });
    QCOMPARE(r.error, ClipResult::Error::Cancelled);
    QCOMPARE(calls, 3);
    QVERIFY(!r.message.empty());
    QCOMPARE(fileBytes(kept), std::string("the old file"));
    QCOMPARE(entries(m_dir.path()), before);
}

void TestClipExport::badRangesAreRefused()
{
    const std::string in = m_recording.toStdString();
    const QString out = m_dir.filePath(QStringLiteral("bad.msrec"));
    const QStringList before = entries(m_dir.path());
    ClipResult r = exportClip(in, kT0Ms + 5000, kT0Ms + 2000, out.toStdString());
    QCOMPARE(r.error, ClipResult::Error::BadRange);
    QVERIFY2(r.message.find("before it starts") != std::string::npos, r.message.c_str());
    r = exportClip(in, kT0Ms + 2000, kT0Ms + 2000, out.toStdString());
    QCOMPARE(r.error, ClipResult::Error::BadRange);
    QVERIFY2(r.message.find("empty") != std::string::npos, r.message.c_str());
    r = exportClip(in, kT0Ms + 60000, kT0Ms + 70000, out.toStdString());
    QCOMPARE(r.error, ClipResult::Error::BadRange);
    QVERIFY2(r.message.find("outside the recording") != std::string::npos, r.message.c_str());
    QVERIFY2(r.message.find("2023-11-14T22:13:20.000Z") != std::string::npos, r.message.c_str());
    r = exportClip(in, kT0Ms - 70000, kT0Ms - 60000, out.toStdString());
    QCOMPARE(r.error, ClipResult::Error::BadRange);
    QCOMPARE(entries(m_dir.path()), before);
}

void TestClipExport::rangeWithoutEventsIsRefused()
{
    const QString gap = writeRecording(QStringLiteral("gap.msrec"), true);
    QVERIFY(!gap.isEmpty());
    const QStringList before = entries(m_dir.path());
    const QString out = m_dir.filePath(QStringLiteral("nothing.msrec"));
    const ClipResult r = exportClip(gap.toStdString(), kT0Ms + 3000, kT0Ms + 6000, out.toStdString());
    QCOMPARE(r.error, ClipResult::Error::NoEvents);
    QVERIFY2(r.message.find("no events") != std::string::npos, r.message.c_str());
    QCOMPARE(entries(m_dir.path()), before);
}

void TestClipExport::outputIsTheRecordingItself()
{
    const std::string original = fileBytes(m_recording);
    for (const QString &same : QStringList {m_recording, m_dir.path() + QStringLiteral("/./incident.msrec")}) {
        const ClipResult r = exportClip(m_recording.toStdString(), kT0Ms + 1000, kT0Ms + 2000, same.toStdString());
        QCOMPARE(r.error, ClipResult::Error::SameFile);
        QVERIFY2(r.message.find("recording it is cut from") != std::string::npos, r.message.c_str());
    }
    // A hard link is the same file under another name.
    const QString link = m_dir.filePath(QStringLiteral("link.msrec"));
    QCOMPARE(::link(m_recording.toLocal8Bit().constData(), link.toLocal8Bit().constData()), 0);
    const ClipResult r = exportClip(m_recording.toStdString(), kT0Ms + 1000, kT0Ms + 2000, link.toStdString());
    QCOMPARE(r.error, ClipResult::Error::SameFile);
    QFile::remove(link);
    QCOMPARE(fileBytes(m_recording), original);
}

void TestClipExport::unwritableOutputs()
{
    const std::string in = m_recording.toStdString();
    // A folder that does not exist.
    ClipResult r
        = exportClip(in, kT0Ms + 1000, kT0Ms + 2000, m_dir.filePath(QStringLiteral("no/such/c.msrec")).toStdString());
    QCOMPARE(r.error, ClipResult::Error::CannotWrite);
    QVERIFY2(r.message.find("no/such/c.msrec") != std::string::npos, r.message.c_str());
    QVERIFY2(r.message.find("No such file or directory") != std::string::npos, r.message.c_str());
    // A folder where the file should be.
    QVERIFY(QDir(m_dir.path()).mkpath(QStringLiteral("afolder")));
    r = exportClip(in, kT0Ms + 1000, kT0Ms + 2000, m_dir.filePath(QStringLiteral("afolder")).toStdString());
    QCOMPARE(r.error, ClipResult::Error::CannotWrite);
    QVERIFY2(r.message.find("directory") != std::string::npos, r.message.c_str());
    // No output at all.
    r = exportClip(in, kT0Ms + 1000, kT0Ms + 2000, std::string());
    QCOMPARE(r.error, ClipResult::Error::CannotWrite);
    // A folder that may not be written to (root may write anywhere: nothing to check then).
    if (::geteuid() != 0) {
        const QString locked = m_dir.filePath(QStringLiteral("locked"));
        QVERIFY(QDir(m_dir.path()).mkpath(QStringLiteral("locked")));
        QCOMPARE(::chmod(locked.toLocal8Bit().constData(), 0555), 0);
        r = exportClip(in, kT0Ms + 1000, kT0Ms + 2000, QString(locked + QStringLiteral("/c.msrec")).toStdString());
        ::chmod(locked.toLocal8Bit().constData(), 0755);
        QCOMPARE(r.error, ClipResult::Error::CannotWrite);
        QVERIFY2(r.message.find("Permission denied") != std::string::npos, r.message.c_str());
        QVERIFY(entries(locked).isEmpty());
    }
}

void TestClipExport::diskFullLeavesThePreviousFileAlone()
{
    const QString out = m_dir.filePath(QStringLiteral("full.msrec"));
    {
        QFile f(out);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("the clip sent yesterday");
    }
    const QStringList before = entries(m_dir.path());
    // A file size limit stands in for a full disk: write() fails with EFBIG past it
    // (SIGXFSZ ignored, as it would kill the process).
    rlimit old {};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
    auto *oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = old;
    limited.rlim_cur = 1500;
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &limited), 0);
    const ClipResult r = exportClip(m_recording.toStdString(), kT0Ms, kT0Ms + 9500, out.toStdString());
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, oldHandler);
    QCOMPARE(r.error, ClipResult::Error::CannotWrite);
    // Said of the file asked for, not of the temporary one.
    QVERIFY2(r.message.find(out.toStdString() + " failed") != std::string::npos, r.message.c_str());
    QCOMPARE(fileBytes(out), std::string("the clip sent yesterday"));
    QCOMPARE(entries(m_dir.path()), before);
}

void TestClipExport::missingSourceIsCannotRead()
{
    const ClipResult r = exportClip(m_dir.filePath(QStringLiteral("absent.msrec")).toStdString(), kT0Ms, kT0Ms + 1000,
        m_dir.filePath(QStringLiteral("out.msrec")).toStdString());
    QCOMPARE(r.error, ClipResult::Error::CannotRead);
    QVERIFY(!r.message.empty());
    QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("out.msrec"))));
}

QTEST_GUILESS_MAIN(TestClipExport)
#include "tst_clipexport.moc"
