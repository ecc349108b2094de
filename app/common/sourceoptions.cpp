#include "sourceoptions.h"

#include <QFileInfo>
#include <QUrl>

namespace meshscope {

namespace {

CommandLineOption fileOption(const QString &name, const QString &description)
{
    return {{name}, QStringLiteral("F"), description, QStringLiteral("--%1 needs a PEM file").arg(name)};
}

// A PEM file flag: absent, or naming a readable file. Its contents are read by the
// connection that uses it, which reports what is wrong with them.
QString readFile(const CommandLine &commandLine, const QString &name, QString *out)
{
    if (!commandLine.isSet(name))
        return {};
    const QString path = commandLine.value(name);
    const QFileInfo info(path);
    if (!info.exists())
        return QStringLiteral("--%1 '%2': no such file").arg(name, path);
    if (!info.isFile())
        return QStringLiteral("--%1 '%2': not a file").arg(name, path);
    if (!info.isReadable())
        return QStringLiteral("--%1 '%2': not readable").arg(name, path);
    *out = path;
    return {};
}

// An http(s) URL flag; a bare HOST:PORT is taken as http://HOST:PORT.
QString readUrl(const CommandLine &commandLine, const QString &name, QString *out)
{
    if (!commandLine.isSet(name))
        return {};
    const QString text = commandLine.value(name);
    const QUrl url = QUrl::fromUserInput(text);
    if (!url.isValid() || url.host().isEmpty()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return QStringLiteral("--%1 '%2' is not a URL (http://HOST:PORT or https://HOST:PORT)").arg(name, text);
    *out = url.toString(QUrl::FullyEncoded);
    return {};
}

QString readListenAddress(const CommandLine &commandLine, const QString &name, QString *out)
{
    if (!commandLine.isSet(name))
        return {};
    const QString address = commandLine.value(name);
    if (!isHostPort(address))
        return QStringLiteral("--%1 '%2' is not HOST:PORT").arg(name, address);
    *out = address;
    return {};
}

// Client TLS flags mean nothing without their https source.
QString checkTlsNeedsSource(const TlsClientOptions &tls, const QString &prefix, const QString &url)
{
    if (!tls.customized())
        return {};
    const QString flags = QStringLiteral("--%1-ca/-cert/-key/-insecure-skip-verify").arg(prefix);
    if (url.isEmpty())
        return QStringLiteral("%1 need --%2").arg(flags, prefix);
    if (QUrl(url).scheme() != QLatin1String("https"))
        return QStringLiteral("%1 need an https:// --%2 URL").arg(flags, prefix);
    return {};
}

}  // namespace

QList<CommandLineOption> tlsServerFlags()
{
    return {
        fileOption(QStringLiteral("tls-cert"), QStringLiteral("serve over TLS with this certificate chain (PEM)")),
        fileOption(QStringLiteral("tls-key"), QStringLiteral("the private key of --tls-cert (PEM)")),
        fileOption(QStringLiteral("tls-client-ca"),
            QStringLiteral("ask clients for a certificate signed by this CA (PEM); needs --tls-cert")),
        {{QStringLiteral("tls-require-client-cert")}, {},
            QStringLiteral("refuse clients without such a certificate (mTLS); needs --tls-client-ca"), {}},
    };
}

QList<CommandLineOption> tlsClientFlags(const QString &prefix, const QString &peer)
{
    return {
        fileOption(prefix + QStringLiteral("-ca"),
            QStringLiteral("https: the CA (PEM) that %1's certificate must lead to (default: the system's CAs)")
                .arg(peer)),
        fileOption(prefix + QStringLiteral("-cert"),
            QStringLiteral("https: a client certificate (PEM) to present to %1 (mTLS)").arg(peer)),
        fileOption(prefix + QStringLiteral("-key"),
            QStringLiteral("the private key of --%1-cert (PEM, unencrypted)").arg(prefix)),
        {{prefix + QStringLiteral("-insecure-skip-verify")}, {},
            QStringLiteral("https: accept any certificate from %1 (labs only)").arg(peer), {}},
    };
}

QString readTlsServerFlags(const CommandLine &commandLine, TlsServerOptions *out)
{
    for (const auto &[name, field] :
        {std::pair {QStringLiteral("tls-cert"), &out->certFile}, std::pair {QStringLiteral("tls-key"), &out->keyFile},
            std::pair {QStringLiteral("tls-client-ca"), &out->clientCaFile}}) {
        if (QString e = readFile(commandLine, name, field); !e.isEmpty())
            return e;
    }
    out->requireClientCert = commandLine.isSet(QStringLiteral("tls-require-client-cert"));
    return checkTlsServerFlags(*out);
}

QString readTlsClientFlags(const CommandLine &commandLine, const QString &prefix, TlsClientOptions *out)
{
    for (const auto &[suffix, field] : {std::pair {QStringLiteral("-ca"), &out->caFile},
             std::pair {QStringLiteral("-cert"), &out->certFile}, std::pair {QStringLiteral("-key"), &out->keyFile}}) {
        if (QString e = readFile(commandLine, prefix + suffix, field); !e.isEmpty())
            return e;
    }
    out->insecureSkipVerify = commandLine.isSet(prefix + QStringLiteral("-insecure-skip-verify"));
    return checkTlsClientFlags(*out, QStringLiteral("--") + prefix);
}

bool isHostPort(const QString &address)
{
    const qsizetype colon = address.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0 || colon == address.size() - 1)
        return false;
    bool ok = false;
    const int port = address.mid(colon + 1).toInt(&ok);
    return ok && port >= 0 && port <= 65535;
}

void SourceOptions::declare(CommandLine &commandLine, SourceFlags flags)
{
    if (flags & (SourceFlag::Receivers | SourceFlag::MessageLimit)) {
        QList<CommandLineOption> receivers;
        if (flags & SourceFlag::Receivers) {
            receivers << CommandLineOption {{QStringLiteral("otlp-listen")}, QStringLiteral("ADDR"),
                QStringLiteral("OTLP/gRPC trace receiver (default 127.0.0.1:4317; port 0 "
                               "picks a free port)"),
                QStringLiteral("--otlp-listen needs an address (HOST:PORT)")}
                      << CommandLineOption {{QStringLiteral("als-listen")}, QStringLiteral("ADDR"),
                             QStringLiteral("also receive Envoy access logs (gRPC StreamAccessLogs) here"),
                             QStringLiteral("--als-listen needs an address (HOST:PORT)")}
                      << CommandLineOption {{QStringLiteral("als-request-id-traces")}, {},
                             QStringLiteral("with --als-listen: treat Envoy's x-request-id as the trace id of "
                                            "access-log entries that carry no trace context (Envoy's own tracing "
                                            "or Istio set it per request)"),
                             {}};
        }
        if (flags & SourceFlag::MessageLimit) {
            receivers << CommandLineOption {{QStringLiteral("max-message-bytes")}, QStringLiteral("N"),
                QStringLiteral("largest gRPC message the receivers take (default 16 MiB); "
                               "a larger export is refused with RESOURCE_EXHAUSTED"),
                QStringLiteral("--max-message-bytes needs a number of at least 1024")};
        }
        commandLine.addGroup(QStringLiteral("Receivers (pushed to meshscope over gRPC)"), receivers);
    }
    if (flags & SourceFlag::ReceiverTls)
        commandLine.addGroup(QStringLiteral("Receiver TLS (for --otlp-listen and --als-listen)"), tlsServerFlags());
    if (flags & SourceFlag::Prometheus) {
        QList<CommandLineOption> prometheus = {
            {{QStringLiteral("prometheus")}, QStringLiteral("URL"),
                QStringLiteral("Prometheus (or Thanos, Mimir, VictoriaMetrics) holding Istio or Linkerd metrics"),
                QStringLiteral("--prometheus needs a URL such as http://127.0.0.1:9090")},
            {{QStringLiteral("mesh")}, QStringLiteral("istio|linkerd|auto"),
                QStringLiteral("whose metrics to ask for (default auto: both)"),
                QStringLiteral("--mesh needs istio, linkerd or auto")},
            {{QStringLiteral("prometheus-token")}, QStringLiteral("T"), QStringLiteral("bearer token for --prometheus"),
                QStringLiteral("--prometheus-token needs a token")},
            {{QStringLiteral("prometheus-user")}, QStringLiteral("U"),
                QStringLiteral("basic-auth user for --prometheus (instead of a token)"),
                QStringLiteral("--prometheus-user needs a name")},
            {{QStringLiteral("prometheus-password")}, QStringLiteral("P"),
                QStringLiteral("the password of --prometheus-user"),
                QStringLiteral("--prometheus-password needs a password")},
        };
        if (flags & SourceFlag::PrometheusQuery) {
            prometheus << CommandLineOption {{QStringLiteral("at")}, QStringLiteral("TIME"),
                QStringLiteral("query time: unix seconds or RFC 3339 (default now)"),
                QStringLiteral("--at needs unix seconds or an RFC 3339 time, at or after 1970")}
                       << CommandLineOption {{QStringLiteral("prometheus-timeout-ms")}, QStringLiteral("MS"),
                              QStringLiteral("give up on a query after this long (default %1)")
                                  .arg(PrometheusConfig {}.timeoutMs),
                              QStringLiteral("--prometheus-timeout-ms needs at least 100")}
                       << CommandLineOption {{QStringLiteral("prometheus-max-response-bytes")}, QStringLiteral("N"),
                              QStringLiteral("refuse an answer larger than this (default %1 MiB)")
                                  .arg(kDefaultMaxResponseBytes / (1024 * 1024)),
                              QStringLiteral(
                                  "--prometheus-max-response-bytes needs a number of bytes of at least 1024")};
        }
        prometheus << tlsClientFlags(QStringLiteral("prometheus"), QStringLiteral("Prometheus"));
        commandLine.addGroup(QStringLiteral("Prometheus (pulled)"), prometheus);
    }
    if (flags & SourceFlag::EnvoyAdmin) {
        QList<CommandLineOption> envoy = {
            {{QStringLiteral("envoy-admin")}, QStringLiteral("URL"),
                QStringLiteral("Envoy admin endpoint (http://HOST:9901): the proxy's upstream edges and their health"),
                QStringLiteral("--envoy-admin needs a URL such as http://127.0.0.1:9901")},
            {{QStringLiteral("envoy-admin-name")}, QStringLiteral("NAME"),
                QStringLiteral("the proxy's node name (NAME or NAMESPACE/NAME) when /server_info gives none"),
                QStringLiteral("--envoy-admin-name needs a name (NAME or NAMESPACE/NAME)")},
        };
        envoy << tlsClientFlags(QStringLiteral("envoy-admin"), QStringLiteral("the Envoy admin endpoint"));
        commandLine.addGroup(QStringLiteral("Envoy admin (pulled)"), envoy);
    }
}

QString SourceOptions::read(const CommandLine &commandLine, SourceFlags flags)
{
    const auto given = [&commandLine](const char *name) { return commandLine.isSet(QLatin1String(name)); };
    if (flags & SourceFlag::Receivers) {
        otlpListenGiven = given("otlp-listen");
        if (QString e = readListenAddress(commandLine, QStringLiteral("otlp-listen"), &otlpListen); !e.isEmpty())
            return e;
        if (QString e = readListenAddress(commandLine, QStringLiteral("als-listen"), &alsListen); !e.isEmpty())
            return e;
        alsRequestIdTraces = given("als-request-id-traces");
        if (alsRequestIdTraces && alsListen.isEmpty())
            return QStringLiteral("--als-request-id-traces needs --als-listen");
    }
    if ((flags & SourceFlag::MessageLimit) && given("max-message-bytes")) {
        bool ok = false;
        const qlonglong n = commandLine.value(QStringLiteral("max-message-bytes")).toLongLong(&ok);
        if (!ok || n < 1024)
            return QStringLiteral("--max-message-bytes needs a number of at least 1024");
        maxMessageBytes = size_t(n);
    }
    if (flags & SourceFlag::ReceiverTls) {
        if (QString e = readTlsServerFlags(commandLine, &receiverTls); !e.isEmpty())
            return e;
    }

    if (flags & SourceFlag::Prometheus) {
        if (QString e = readUrl(commandLine, QStringLiteral("prometheus"), &prometheusUrl); !e.isEmpty())
            return e;
        prometheusToken = commandLine.value(QStringLiteral("prometheus-token"));
        prometheusUser = commandLine.value(QStringLiteral("prometheus-user"));
        prometheusPassword = commandLine.value(QStringLiteral("prometheus-password"));
        if (!prometheusToken.isEmpty() && !prometheusUser.isEmpty())
            return QStringLiteral("give --prometheus-token or --prometheus-user, not both");
        if (!prometheusPassword.isEmpty() && prometheusUser.isEmpty())
            return QStringLiteral("--prometheus-password needs --prometheus-user");
        if (given("mesh")) {
            const QString m = commandLine.value(QStringLiteral("mesh"));
            if (m == QLatin1String("istio"))
                mesh = MeshKind::Istio;
            else if (m == QLatin1String("linkerd"))
                mesh = MeshKind::Linkerd;
            else if (m == QLatin1String("auto"))
                mesh = MeshKind::Auto;
            else
                return QStringLiteral("--mesh needs istio, linkerd or auto, not '%1'").arg(m);
        }
        QStringList needPrometheus = {QStringLiteral("prometheus-token"), QStringLiteral("prometheus-user"),
            QStringLiteral("prometheus-password"), QStringLiteral("mesh")};
        if (flags & SourceFlag::PrometheusQuery) {
            needPrometheus << QStringLiteral("at") << QStringLiteral("prometheus-timeout-ms")
                           << QStringLiteral("prometheus-max-response-bytes");
            if (given("prometheus-max-response-bytes")) {
                bool ok = false;
                prometheusMaxResponseBytes
                    = commandLine.value(QStringLiteral("prometheus-max-response-bytes")).toLongLong(&ok);
                if (!ok || prometheusMaxResponseBytes < 1024)
                    return QStringLiteral("--prometheus-max-response-bytes needs a number of bytes of at least 1024");
            }
            if (given("at")) {
                prometheusAt = parsePromTime(commandLine.value(QStringLiteral("at")));
                if (!prometheusAt)
                    return QStringLiteral("--at needs unix seconds or an RFC 3339 time, at or after 1970");
            }
            if (given("prometheus-timeout-ms")) {
                bool ok = false;
                prometheusTimeoutMs = commandLine.value(QStringLiteral("prometheus-timeout-ms")).toInt(&ok);
                if (!ok || prometheusTimeoutMs < 100)
                    return QStringLiteral("--prometheus-timeout-ms needs at least 100");
            }
        }
        if (QString e = readTlsClientFlags(commandLine, QStringLiteral("prometheus"), &prometheusTls); !e.isEmpty())
            return e;
        if (QString e = checkTlsNeedsSource(prometheusTls, QStringLiteral("prometheus"), prometheusUrl); !e.isEmpty())
            return e;
        for (const QString &name : std::as_const(needPrometheus)) {
            if (prometheusUrl.isEmpty() && commandLine.isSet(name))
                return QStringLiteral("--%1 needs --prometheus").arg(name);
        }
    }

    if (flags & SourceFlag::EnvoyAdmin) {
        if (QString e = readUrl(commandLine, QStringLiteral("envoy-admin"), &envoyAdminUrl); !e.isEmpty())
            return e;
        envoyAdminName = commandLine.value(QStringLiteral("envoy-admin-name"));
        if (QString e = readTlsClientFlags(commandLine, QStringLiteral("envoy-admin"), &envoyAdminTls); !e.isEmpty())
            return e;
        if (QString e = checkTlsNeedsSource(envoyAdminTls, QStringLiteral("envoy-admin"), envoyAdminUrl); !e.isEmpty())
            return e;
        if (!envoyAdminName.isEmpty() && envoyAdminUrl.isEmpty())
            return QStringLiteral("--envoy-admin-name needs --envoy-admin");
    }
    return {};
}

PrometheusSourceConfig SourceOptions::prometheusConfig() const
{
    PrometheusSourceConfig c;
    c.server.url = QUrl(prometheusUrl);
    c.server.bearerToken = prometheusToken;
    c.server.username = prometheusUser;
    c.server.password = prometheusPassword;
    c.server.timeoutMs = prometheusTimeoutMs;
    c.server.maxResponseBytes = prometheusMaxResponseBytes;
    c.server.tls = prometheusTls;
    c.mesh = mesh;
    c.queryTime = prometheusAt;
    return c;
}

EnvoyAdminSourceConfig SourceOptions::envoyAdminConfig() const
{
    EnvoyAdminSourceConfig c;
    c.admin.url = QUrl(envoyAdminUrl);
    c.admin.tls = envoyAdminTls;
    c.proxyName = envoyAdminName;
    return c;
}

}  // namespace meshscope
