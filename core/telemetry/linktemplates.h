#pragma once
// Links out to the tools operators already keep open beside meshscope: a Grafana URL
// template that receives a node's or edge's PromQL (MeshMetrics::itemQuery) and the
// chart window, and a Jaeger or Tempo URL template that receives a trace id. Each
// workspace keeps its own pair. This is the text side only: checking a template,
// and filling one in to a URL that opens as meant (no Widgets, no browser).
//
// Filling in: the template's own text is percent-encoded only where a URL cannot hold
// it as written (spaces, quotes, braces, brackets after the host...), so its &, =, ?,
// / and # keep their meaning; a placeholder's value is percent-encoded completely, so
// a '+', '&' or '#' inside a query stays part of the query. A placeholder written
// between double quotes ("{promql}", as in Grafana's Explore JSON) is escaped for a
// JSON string first.

#include <QHash>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <string>

namespace meshscope {

// The workspace's templates; empty: that link is not set.
struct LinkTemplates {
    QString grafana;  // {promql} {from} {to} {namespace} {service}
    QString trace;  // {trace_id}

    bool operator==(const LinkTemplates &) const = default;
};

// Opens a URL in the desktop's browser (QDesktopServices::openUrl); tests pass one
// that records the URL instead.
using UrlOpener = std::function<bool(const QUrl &)>;

class LinkTemplate {
public:
    enum class Kind { Grafana, Trace };

    // The placeholders a kind of link fills in, without braces; the first is required.
    static QStringList placeholders(Kind kind);
    // A working template for a local install, shown as the field's placeholder text.
    static QString example(Kind kind);
    // What is wrong with a template, in one sentence; "" when it is fine or empty.
    static QString validate(Kind kind, const QString &text);
    // The template with `values` filled in (see the header comment); an invalid QUrl
    // when the result is not a URL. Placeholders the kind does not know stay as written.
    static QUrl expand(Kind kind, const QString &text, const QHash<QString, QString> &values);

    // Values for a Grafana link to node or edge `id` (an edge: its destination's
    // namespace and service), with the chart window [fromMs, toMs] in ms since the epoch.
    static QHash<QString, QString> grafanaValues(
        const std::string &id, const QString &promql, qint64 fromMs, qint64 toMs);
    static QHash<QString, QString> traceValues(const QString &traceId);
};

}  // namespace meshscope
