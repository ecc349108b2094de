#include "routing/routeissuestyle.h"

#include <QLabel>
#include <QVariant>
#include <QWidget>

namespace meshscope::routestyle {

std::vector<routing::RouteIssue> issuesUnder(const std::vector<routing::RouteIssue> &issues, const std::string &prefix)
{
    std::vector<routing::RouteIssue> out;
    for (const routing::RouteIssue &i : issues) {
        if (i.field.compare(0, prefix.size(), prefix) != 0)
            continue;
        // "matches[1]" must not take "matches[10]"'s issues.
        const char next = i.field.size() > prefix.size() ? i.field[prefix.size()] : '\0';
        if (!prefix.empty() && prefix.back() != '.' && prefix.back() != '[' && next != '\0' && next != '.'
            && next != '[')
            continue;
        out.push_back(i);
    }
    return out;
}

void markField(QWidget *field, const std::vector<routing::RouteIssue> &issues, const QString &normalTip)
{
    if (!field)
        return;
    int worst = 0;
    QStringList lines;
    for (const routing::RouteIssue &i : issues) {
        worst = std::max(worst, i.severity == routing::Severity::Error ? 2 : 1);
        lines << QString::fromStdString(i.message);
    }
    const QString name = QString::fromLatin1(field->metaObject()->className());
    if (worst == 0) {
        if (field->property("routeIssue").toInt() != 0) {
            field->setStyleSheet(QString());
            field->setProperty("routeIssue", 0);
        }
        field->setToolTip(normalTip);
        return;
    }
    const QColor c = worst == 2 ? kErrorColor : kWarningColor;
    field->setProperty("routeIssue", worst);
    field->setStyleSheet(
        QStringLiteral("%1 { border: 1px solid %2; border-radius: 3px; padding: 2px 4px; }").arg(name, c.name()));
    field->setToolTip((normalTip.isEmpty() ? QString() : QString(normalTip + QStringLiteral("\n\n")))
        + lines.join(QLatin1Char('\n')));
}

void showIssues(QLabel *label, const std::vector<routing::RouteIssue> &issues, const std::string &stripPrefix)
{
    if (!label)
        return;
    QStringList lines;
    for (const routing::RouteIssue &i : issues) {
        std::string field = i.field;
        if (!stripPrefix.empty() && field.compare(0, stripPrefix.size(), stripPrefix) == 0)
            field = field.substr(stripPrefix.size());
        while (!field.empty() && field.front() == '.')
            field.erase(field.begin());
        const bool error = i.severity == routing::Severity::Error;
        lines << QStringLiteral("<span style='color:%1'>%2</span> %3%4")
                     .arg((error ? kErrorColor : kWarningColor).name(), error ? QObject::tr("✖") : QObject::tr("▲"),
                         field.empty()
                             ? QString()
                             : QStringLiteral("<tt>%1</tt>: ").arg(QString::fromStdString(field).toHtmlEscaped()),
                         QString::fromStdString(i.message).toHtmlEscaped());
    }
    label->setText(lines.join(QStringLiteral("<br>")));
    label->setVisible(!lines.isEmpty());
}

QLabel *makeIssueLabel(QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setWordWrap(true);
    l->setTextFormat(Qt::RichText);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setContentsMargins(2, 2, 2, 2);
    l->hide();
    return l;
}

}  // namespace meshscope::routestyle
