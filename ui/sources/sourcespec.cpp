#include "sources/sourcespec.h"

#include <QFileInfo>
#include <QSettings>
#include <QUrl>
#include <QUuid>

#include <tuple>
#include <utility>

namespace meshscope {

// The same rule MainWindow uses for its workspace group: one level below "workspaces".
QString workspaceGroup(const QString &workspace)
{
    QString name = workspace;
    name.replace(QLatin1Char('/'), QLatin1Char('_')).replace(QLatin1Char('\\'), QLatin1Char('_'));
    return QStringLiteral("workspaces/") + name;
}

namespace {

QString checkFile(const QString &what, const QString &path)
{
    if (path.isEmpty())
        return {};
    const QFileInfo info(path);
    if (!info.exists())
        return QStringLiteral("%1: '%2' does not exist").arg(what, path);
    if (!info.isFile() || !info.isReadable())
        return QStringLiteral("%1: '%2' is not a readable file").arg(what, path);
    return {};
}

QString meshKey(MeshKind mesh)
{
    switch (mesh) {
    case MeshKind::Istio: return QStringLiteral("istio");
    case MeshKind::Linkerd: return QStringLiteral("linkerd");
    case MeshKind::Auto: break;
    }
    return QStringLiteral("auto");
}

MeshKind meshFromKey(const QString &key)
{
    if (key == QLatin1String("istio"))
        return MeshKind::Istio;
    if (key == QLatin1String("linkerd"))
        return MeshKind::Linkerd;
    return MeshKind::Auto;
}

QString authKey(SourceSpec::Auth auth)
{
    switch (auth) {
    case SourceSpec::Auth::Bearer: return QStringLiteral("bearer");
    case SourceSpec::Auth::Basic: return QStringLiteral("basic");
    case SourceSpec::Auth::None: break;
    }
    return QStringLiteral("none");
}

SourceSpec::Auth authFromKey(const QString &key)
{
    if (key == QLatin1String("bearer"))
        return SourceSpec::Auth::Bearer;
    if (key == QLatin1String("basic"))
        return SourceSpec::Auth::Basic;
    return SourceSpec::Auth::None;
}

}  // namespace

QString SourceSpec::kindLabel(Kind kind)
{
    switch (kind) {
    case Kind::OtlpReceiver: return QStringLiteral("OTLP receiver");
    case Kind::AlsReceiver: return QStringLiteral("Envoy access logs");
    case Kind::Prometheus: return QStringLiteral("Prometheus");
    case Kind::EnvoyAdmin: return QStringLiteral("Envoy admin");
    }
    return {};
}

QString SourceSpec::kindKey(Kind kind)
{
    switch (kind) {
    case Kind::OtlpReceiver: return QStringLiteral("otlp");
    case Kind::AlsReceiver: return QStringLiteral("als");
    case Kind::Prometheus: return QStringLiteral("prometheus");
    case Kind::EnvoyAdmin: return QStringLiteral("envoy-admin");
    }
    return {};
}

bool SourceSpec::kindFromKey(const QString &key, Kind *kind)
{
    for (Kind k : {Kind::OtlpReceiver, Kind::AlsReceiver, Kind::Prometheus, Kind::EnvoyAdmin}) {
        if (kindKey(k) == key) {
            *kind = k;
            return true;
        }
    }
    return false;
}

QString SourceSpec::defaultAddress(Kind kind)
{
    switch (kind) {
    case Kind::OtlpReceiver: return QStringLiteral("127.0.0.1:4317");
    case Kind::AlsReceiver: return QStringLiteral("127.0.0.1:9001");
    case Kind::Prometheus: return QStringLiteral("http://127.0.0.1:9090");
    case Kind::EnvoyAdmin: return QStringLiteral("http://127.0.0.1:15000");
    }
    return {};
}

bool SourceSpec::isHostPort(const QString &addr)
{
    const qsizetype colon = addr.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0 || colon == addr.size() - 1)
        return false;
    bool ok = false;
    const int port = addr.mid(colon + 1).toInt(&ok);
    return ok && port >= 0 && port <= 65535;
}

QString SourceSpec::newId() { return QUuid::createUuid().toString(QUuid::WithoutBraces); }

QString SourceSpec::displayName() const
{
    if (!name.isEmpty())
        return name;
    if (isReceiver())
        return kindLabel(kind) + QLatin1Char(' ') + address;
    const QUrl url(address);
    const QString where = url.port() > 0 ? QStringLiteral("%1:%2").arg(url.host()).arg(url.port()) : url.host();
    return kindLabel(kind) + QLatin1Char(' ') + (where.isEmpty() ? address : where);
}

QString SourceSpec::validate() const
{
    if (address.trimmed().isEmpty())
        return isReceiver() ? QStringLiteral("address: give HOST:PORT to listen on (port 0 picks one)")
                            : QStringLiteral("address: give the URL, e.g. %1").arg(defaultAddress(kind));
    if (isReceiver()) {
        if (!isHostPort(address))
            return QStringLiteral("address: '%1' is not HOST:PORT").arg(address);
        if (tlsServer.keyFile.isEmpty() != tlsServer.certFile.isEmpty())
            return QStringLiteral("TLS: a server certificate and its key go together");
        if (!tlsServer.clientCaFile.isEmpty() && !tlsServer.enabled())
            return QStringLiteral("TLS: a client CA needs the server certificate and key (mTLS is TLS first)");
        if (tlsServer.requireClientCert && tlsServer.clientCaFile.isEmpty())
            return QStringLiteral("TLS: requiring client certificates needs the CA that signs them");
        for (const auto &[what, path] : {std::pair {QStringLiteral("TLS certificate"), tlsServer.certFile},
                 std::pair {QStringLiteral("TLS key"), tlsServer.keyFile},
                 std::pair {QStringLiteral("client CA"), tlsServer.clientCaFile}}) {
            if (const QString e = checkFile(what, path); !e.isEmpty())
                return e;
        }
        return {};
    }
    const QUrl url(address, QUrl::StrictMode);
    if (!url.isValid())
        return QStringLiteral("address: '%1' is not a URL (%2)").arg(address, url.errorString());
    if (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))
        return QStringLiteral("address: '%1' must start with http:// or https://").arg(address);
    if (url.host().isEmpty())
        return QStringLiteral("address: '%1' names no host").arg(address);
    if (tlsClient.customized() && url.scheme() != QLatin1String("https"))
        return QStringLiteral("TLS: the CA, client certificate and verification settings need an https:// address");
    if (tlsClient.keyFile.isEmpty() != tlsClient.certFile.isEmpty())
        return QStringLiteral("TLS: a client certificate and its key go together");
    for (const auto &[what, path] : {std::pair {QStringLiteral("CA"), tlsClient.caFile},
             std::pair {QStringLiteral("client certificate"), tlsClient.certFile},
             std::pair {QStringLiteral("client key"), tlsClient.keyFile}}) {
        if (const QString e = checkFile(what, path); !e.isEmpty())
            return e;
    }
    if (kind == Kind::Prometheus) {
        if (auth == Auth::Basic && username.isEmpty())
            return QStringLiteral("authentication: basic authentication needs a user name");
        if (windowSeconds < 1)
            return QStringLiteral("window: must be at least one second");
    }
    if (pollIntervalMs < 0 || (pollIntervalMs > 0 && pollIntervalMs < 500))
        return QStringLiteral("poll interval: at least 500 ms");
    return {};
}

bool SourceSpec::sameSettings(const SourceSpec &o) const
{
    auto client
        = [](const TlsClientOptions &t) { return std::tuple(t.caFile, t.certFile, t.keyFile, t.insecureSkipVerify); };
    auto server = [](const TlsServerOptions &t) {
        return std::tuple(t.certFile, t.keyFile, t.clientCaFile, t.requireClientCert);
    };
    return id == o.id && kind == o.kind && address == o.address && enabled == o.enabled
        && client(tlsClient) == client(o.tlsClient) && auth == o.auth && username == o.username && secret == o.secret
        && pollIntervalMs == o.pollIntervalMs && mesh == o.mesh && windowSeconds == o.windowSeconds
        && selector == o.selector && proxyName == o.proxyName && server(tlsServer) == server(o.tlsServer)
        && requestIdTraces == o.requestIdTraces;
}

QList<SourceSpec> loadSourceSpecs(QSettings &settings, const QString &workspace)
{
    QList<SourceSpec> specs;
    settings.beginGroup(workspaceGroup(workspace));
    const int n = settings.beginReadArray(QStringLiteral("sources"));
    for (int i = 0; i < n; ++i) {
        settings.setArrayIndex(i);
        SourceSpec s;
        if (!SourceSpec::kindFromKey(settings.value(QStringLiteral("kind")).toString(), &s.kind))
            continue;  // written by a newer meshscope: leave it to that one
        s.id = settings.value(QStringLiteral("id")).toString();
        if (s.id.isEmpty())
            s.id = SourceSpec::newId();
        s.name = settings.value(QStringLiteral("name")).toString();
        s.address = settings.value(QStringLiteral("address")).toString();
        s.enabled = settings.value(QStringLiteral("enabled"), true).toBool();
        s.tlsClient.caFile = settings.value(QStringLiteral("tls/ca")).toString();
        s.tlsClient.certFile = settings.value(QStringLiteral("tls/cert")).toString();
        s.tlsClient.keyFile = settings.value(QStringLiteral("tls/key")).toString();
        s.tlsClient.insecureSkipVerify = settings.value(QStringLiteral("tls/insecureSkipVerify"), false).toBool();
        s.auth = authFromKey(settings.value(QStringLiteral("auth")).toString());
        s.username = settings.value(QStringLiteral("username")).toString();
        s.pollIntervalMs = settings.value(QStringLiteral("pollIntervalMs"), 0).toInt();
        s.mesh = meshFromKey(settings.value(QStringLiteral("mesh")).toString());
        s.windowSeconds = settings.value(QStringLiteral("windowSeconds"), 60).toInt();
        s.selector = settings.value(QStringLiteral("selector")).toString();
        s.proxyName = settings.value(QStringLiteral("proxyName")).toString();
        s.tlsServer.certFile = settings.value(QStringLiteral("tls/serverCert")).toString();
        s.tlsServer.keyFile = settings.value(QStringLiteral("tls/serverKey")).toString();
        s.tlsServer.clientCaFile = settings.value(QStringLiteral("tls/clientCa")).toString();
        s.tlsServer.requireClientCert = settings.value(QStringLiteral("tls/requireClientCert"), false).toBool();
        s.requestIdTraces = settings.value(QStringLiteral("requestIdTraces"), false).toBool();
        specs << s;
    }
    settings.endArray();
    settings.endGroup();
    return specs;
}

void saveSourceSpecs(QSettings &settings, const QString &workspace, const QList<SourceSpec> &specs)
{
    settings.beginGroup(workspaceGroup(workspace));
    settings.remove(QStringLiteral("sources"));
    settings.beginWriteArray(QStringLiteral("sources"));
    int i = 0;
    for (const SourceSpec &s : specs) {
        if (s.fromCommandLine)
            continue;
        settings.setArrayIndex(i++);
        settings.setValue(QStringLiteral("id"), s.id);
        settings.setValue(QStringLiteral("kind"), SourceSpec::kindKey(s.kind));
        settings.setValue(QStringLiteral("name"), s.name);
        settings.setValue(QStringLiteral("address"), s.address);
        settings.setValue(QStringLiteral("enabled"), s.enabled);
        if (s.isReceiver()) {
            settings.setValue(QStringLiteral("tls/serverCert"), s.tlsServer.certFile);
            settings.setValue(QStringLiteral("tls/serverKey"), s.tlsServer.keyFile);
            settings.setValue(QStringLiteral("tls/clientCa"), s.tlsServer.clientCaFile);
            settings.setValue(QStringLiteral("tls/requireClientCert"), s.tlsServer.requireClientCert);
            if (s.kind == SourceSpec::Kind::AlsReceiver)
                settings.setValue(QStringLiteral("requestIdTraces"), s.requestIdTraces);
            continue;
        }
        settings.setValue(QStringLiteral("tls/ca"), s.tlsClient.caFile);
        settings.setValue(QStringLiteral("tls/cert"), s.tlsClient.certFile);
        settings.setValue(QStringLiteral("tls/key"), s.tlsClient.keyFile);
        settings.setValue(QStringLiteral("tls/insecureSkipVerify"), s.tlsClient.insecureSkipVerify);
        settings.setValue(QStringLiteral("pollIntervalMs"), s.pollIntervalMs);
        if (s.kind == SourceSpec::Kind::Prometheus) {
            settings.setValue(QStringLiteral("auth"), authKey(s.auth));
            settings.setValue(QStringLiteral("username"), s.username);
            settings.setValue(QStringLiteral("mesh"), meshKey(s.mesh));
            settings.setValue(QStringLiteral("windowSeconds"), s.windowSeconds);
            settings.setValue(QStringLiteral("selector"), s.selector);
        } else {
            settings.setValue(QStringLiteral("proxyName"), s.proxyName);
        }
    }
    settings.endArray();
    settings.endGroup();
}

}  // namespace meshscope
