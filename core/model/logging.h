#pragma once
// meshscope's logging categories, all off by default. An operator turns them on with
// QT_LOGGING_RULES="meshscope.prometheus.debug=true" or `--log prometheus` (any
// program). One line per state change, never per span or request, never a secret.

#include <QLoggingCategory>
#include <QString>
#include <QStringList>

namespace meshscope {

Q_DECLARE_LOGGING_CATEGORY(lcOtlp)  // meshscope.otlp: OTLP receiver
Q_DECLARE_LOGGING_CATEGORY(lcAls)  // meshscope.als: Envoy access-log receiver
Q_DECLARE_LOGGING_CATEGORY(lcPrometheus)  // meshscope.prometheus: Prometheus source
Q_DECLARE_LOGGING_CATEGORY(lcEnvoyAdmin)  // meshscope.envoyadmin: Envoy admin source
Q_DECLARE_LOGGING_CATEGORY(lcXds)  // meshscope.xds: hosted xDS control plane
Q_DECLARE_LOGGING_CATEGORY(lcCaddy)  // meshscope.caddy: Caddy admin backend
Q_DECLARE_LOGGING_CATEGORY(lcHttp)  // meshscope.http: HTTP exchanges (pulled sources, Caddy)
Q_DECLARE_LOGGING_CATEGORY(lcGraph)  // meshscope.graph: aggregator and publisher
Q_DECLARE_LOGGING_CATEGORY(lcRouting)  // meshscope.routing: route files, history, apply
Q_DECLARE_LOGGING_CATEGORY(lcSources)  // meshscope.sources: the dashboard's source manager
Q_DECLARE_LOGGING_CATEGORY(lcCanvas)  // meshscope.canvas: layout and painting

// The short names `--log` takes ("otlp", "xds", ...), in the order above.
QStringList logCategoryNames();

// Turns on debug output for the named categories ("otlp,xds", "all" or "*"). False with
// a one-line reason naming the unknown category.
bool enableLogCategories(const QString &names, QString *error);

}  // namespace meshscope
