#include "model/logging.h"

namespace meshscope {

Q_LOGGING_CATEGORY(lcOtlp, "meshscope.otlp", QtWarningMsg)
Q_LOGGING_CATEGORY(lcAls, "meshscope.als", QtWarningMsg)
Q_LOGGING_CATEGORY(lcPrometheus, "meshscope.prometheus", QtWarningMsg)
Q_LOGGING_CATEGORY(lcEnvoyAdmin, "meshscope.envoyadmin", QtWarningMsg)
Q_LOGGING_CATEGORY(lcXds, "meshscope.xds", QtWarningMsg)
Q_LOGGING_CATEGORY(lcCaddy, "meshscope.caddy", QtWarningMsg)
Q_LOGGING_CATEGORY(lcHttp, "meshscope.http", QtWarningMsg)
Q_LOGGING_CATEGORY(lcGraph, "meshscope.graph", QtWarningMsg)
Q_LOGGING_CATEGORY(lcRouting, "meshscope.routing", QtWarningMsg)
Q_LOGGING_CATEGORY(lcSources, "meshscope.sources", QtWarningMsg)
Q_LOGGING_CATEGORY(lcCanvas, "meshscope.canvas", QtWarningMsg)

QStringList logCategoryNames()
{
    return {QStringLiteral("otlp"), QStringLiteral("als"), QStringLiteral("prometheus"), QStringLiteral("envoyadmin"),
        QStringLiteral("xds"), QStringLiteral("caddy"), QStringLiteral("http"), QStringLiteral("graph"),
        QStringLiteral("routing"), QStringLiteral("sources"), QStringLiteral("canvas")};
}

bool enableLogCategories(const QString &names, QString *error)
{
    const QStringList known = logCategoryNames();
    QStringList rules;
    for (QString name : names.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        name = name.trimmed();
        if (name.startsWith(QLatin1String("meshscope.")))
            name = name.mid(10);
        if (name == QLatin1String("all") || name == QLatin1String("*")) {
            rules << QStringLiteral("meshscope.*.debug=true");
            continue;
        }
        if (!known.contains(name)) {
            if (error)
                *error = QStringLiteral("unknown log category '%1' (known: %2, all)")
                             .arg(name, known.join(QStringLiteral(", ")));
            return false;
        }
        rules << QStringLiteral("meshscope.%1.debug=true").arg(name);
    }
    if (!rules.isEmpty())
        QLoggingCategory::setFilterRules(rules.join(QLatin1Char('\n')));
    return true;
}

}  // namespace meshscope
