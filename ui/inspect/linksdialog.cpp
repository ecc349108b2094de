#include "inspect/linksdialog.h"

#include "sources/sourcespec.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QToolButton>
#include <QVBoxLayout>

#include <tuple>
#include <utility>

namespace meshscope {

namespace {

const QString kGrafanaKey = QStringLiteral("links/grafana");
const QString kTraceKey = QStringLiteral("links/trace");

QLabel *smallNote(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    QFont f = label->font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    label->setFont(f);
    return label;
}

}  // namespace

LinkTemplates loadLinkTemplates(QSettings &settings, const QString &workspace)
{
    settings.beginGroup(workspaceGroup(workspace));
    LinkTemplates links;
    links.grafana = settings.value(kGrafanaKey).toString();
    links.trace = settings.value(kTraceKey).toString();
    settings.endGroup();
    return links;
}

void saveLinkTemplates(QSettings &settings, const QString &workspace, const LinkTemplates &links)
{
    settings.beginGroup(workspaceGroup(workspace));
    // An empty template is no link: removed rather than kept as "".
    for (const auto &[key, value] : {std::pair {kGrafanaKey, links.grafana}, std::pair {kTraceKey, links.trace}}) {
        if (value.trimmed().isEmpty())
            settings.remove(key);
        else
            settings.setValue(key, value.trimmed());
    }
    settings.endGroup();
}

LinksDialog::LinksDialog(const LinkTemplates &current, QWidget *parent)
    : QDialog(parent)
    , m_grafana(new QLineEdit(current.grafana, this))
    , m_trace(new QLineEdit(current.trace, this))
    , m_grafanaError(new QLabel(this))
    , m_traceError(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("linksDialog"));
    setWindowTitle(tr("Links to Grafana and Jaeger"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(smallNote(tr("Open what meshscope shows in the tools you already run. The links are kept per "
                                   "workspace; leave a field empty to go without that link."),
        this));

    auto field = [this, layout](QLineEdit *edit, QLabel *error, LinkTemplate::Kind kind, const QString &name,
                     const QString &title, const QString &placeholders) {
        auto *box = new QGroupBox(title, this);
        auto *v = new QVBoxLayout(box);
        auto *row = new QHBoxLayout;
        edit->setObjectName(name);
        edit->setPlaceholderText(LinkTemplate::example(kind));
        edit->setClearButtonEnabled(true);
        edit->setMinimumWidth(edit->fontMetrics().averageCharWidth() * 72);
        auto *example = new QToolButton(box);
        example->setObjectName(name + QStringLiteral("Example"));
        example->setText(tr("Use example"));
        example->setToolTip(tr("Fill in the example (for a local install); edit the host to suit"));
        connect(example, &QToolButton::clicked, edit, [edit, kind] { edit->setText(LinkTemplate::example(kind)); });
        row->addWidget(edit, 1);
        row->addWidget(example);
        v->addLayout(row);
        error->setObjectName(name + QStringLiteral("Error"));
        error->setWordWrap(true);
        error->setStyleSheet(QStringLiteral("QLabel { color: #f85149; }"));
        error->hide();
        v->addWidget(error);
        v->addWidget(smallNote(placeholders, box));
        layout->addWidget(box);
        connect(edit, &QLineEdit::textChanged, this, &LinksDialog::recheck);
    };
    field(m_grafana, m_grafanaError, LinkTemplate::Kind::Grafana, QStringLiteral("grafanaTemplate"),
        tr("Open in Grafana (inspect panel)"),
        tr("{promql}: the node's or edge's request rate or error rate as PromQL, in the labels of Istio's metrics (or "
           "Linkerd's, where a Linkerd Prometheus source reports it). {from}, {to}: the chart window, in ms since "
           "1970. {namespace}, {service}: the node's, or an edge's destination's. Inside double quotes a value is "
           "escaped for JSON; every value is URL-encoded."));
    field(m_trace, m_traceError, LinkTemplate::Kind::Trace, QStringLiteral("traceTemplate"),
        tr("Open trace in Jaeger/Tempo (live requests)"),
        tr("{trace_id}: the request's trace ID. Jaeger: http://HOST:16686/trace/{trace_id}; Tempo through Grafana: "
           "an Explore URL with \"query\":\"{trace_id}\"."));

    m_buttons->button(QDialogButtonBox::Save)->setObjectName(QStringLiteral("linksSave"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &LinksDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &LinksDialog::reject);
    layout->addWidget(m_buttons);
    recheck();
}

LinkTemplates LinksDialog::templates() const { return {m_grafana->text().trimmed(), m_trace->text().trimmed()}; }

QString LinksDialog::grafanaError() const { return m_grafanaError->text(); }

QString LinksDialog::traceError() const { return m_traceError->text(); }

void LinksDialog::recheck()
{
    bool ok = true;
    for (const auto &[edit, label, kind] : {std::tuple {m_grafana, m_grafanaError, LinkTemplate::Kind::Grafana},
             std::tuple {m_trace, m_traceError, LinkTemplate::Kind::Trace}}) {
        const QString error = LinkTemplate::validate(kind, edit->text());
        label->setText(error);
        label->setVisible(!error.isEmpty());
        ok = ok && error.isEmpty();
    }
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(ok);
}

void LinksDialog::accept()
{
    recheck();
    if (!grafanaError().isEmpty() || !traceError().isEmpty())
        return;
    Q_EMIT templatesAccepted(templates());
    QDialog::accept();
}

}  // namespace meshscope
