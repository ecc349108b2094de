#include "routing/rolloutdialog.h"

#include "routing/routevalidator.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace meshscope {

using rollout::OnFailure;

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

}  // namespace

RolloutDialog::RolloutDialog(
    const routing::RouteSet &applied, int route, int rule, routing::DataPlane plane, QWidget *parent)
    : QDialog(parent)
    , m_applied(applied)
    , m_plane(plane)
    , m_rule(rule)
{
    setObjectName(QStringLiteral("rolloutDialog"));
    setWindowTitle(tr("Roll out"));
    const routing::HttpRoute &r = applied.routes.at(size_t(route));
    const routing::RouteRule &ruleRef = r.rules.at(size_t(rule));
    m_routeNs = r.ns;
    m_routeName = r.name;
    QSettings settings;
    settings.beginGroup(QStringLiteral("rollout"));

    auto *about
        = new QLabel(tr("Moves the traffic of rule <b>%1</b> of route <b>%2/%3</b> to one backend in steps. "
                        "Each step is applied, held, and passes only when the backend's gates hold on at "
                        "least the minimum of requests; a broken gate rolls back.")
                         .arg(ruleRef.name.empty() ? tr("rules[%1]").arg(rule) : qs(ruleRef.name).toHtmlEscaped(),
                             qs(r.ns).toHtmlEscaped(), qs(r.name).toHtmlEscaped()),
            this);
    about->setWordWrap(true);

    m_canary = new QComboBox(this);
    m_canary->setObjectName(QStringLiteral("rolloutCanary"));
    int lightest = 0;
    for (size_t i = 0; i < ruleRef.backends.size(); ++i) {
        const routing::BackendRef &b = ruleRef.backends[i];
        m_canary->addItem(tr("%1 (weight %2 now)").arg(qs(b.name)).arg(b.weight), qs(b.name));
        if (b.weight < ruleRef.backends[size_t(lightest)].weight)
            lightest = int(i);
    }
    m_canary->setCurrentIndex(lightest);  // the one that has the least traffic now, usually the new one
    m_steps = new QLineEdit(this);
    m_steps->setObjectName(QStringLiteral("rolloutSteps"));
    m_steps->setText(
        settings
            .value(QStringLiteral("steps"),
                plane == routing::DataPlane::Caddy ? QStringLiteral("50,100") : QStringLiteral("10,50,100"))
            .toString());
    m_steps->setToolTip(tr("The backend's share at each step, in percent, increasing"));
    m_hold = new QLineEdit(settings.value(QStringLiteral("hold"), QStringLiteral("30s")).toString(), this);
    m_hold->setObjectName(QStringLiteral("rolloutHold"));
    m_hold->setToolTip(tr("How long each step is held before its gates decide: 30s, 2m, 1m30s"));

    auto gate = [this, &settings](const QString &key, bool on, double value, double max, int decimals,
                    const QString &suffix, QCheckBox **check, QDoubleSpinBox **box) {
        *check = new QCheckBox(this);
        (*check)->setChecked(settings.value(key + QStringLiteral("/on"), on).toBool());
        *box = new QDoubleSpinBox(this);
        (*box)->setRange(0, max);
        (*box)->setDecimals(decimals);
        (*box)->setSuffix(suffix);
        (*box)->setValue(settings.value(key, value).toDouble());
        (*box)->setEnabled((*check)->isChecked());
        connect(*check, &QCheckBox::toggled, *box, &QWidget::setEnabled);
        auto *row = new QHBoxLayout;
        row->addWidget(*check);
        row->addWidget(*box, 1);
        return row;
    };
    QHBoxLayout *errorRow
        = gate(QStringLiteral("maxErrorRate"), true, 5, 100, 1, QStringLiteral(" %"), &m_useErrorRate, &m_maxErrorRate);
    m_maxErrorRate->setObjectName(QStringLiteral("rolloutMaxErrorRate"));
    QHBoxLayout *p95Row
        = gate(QStringLiteral("maxP95Ms"), false, 250, 600000, 0, QStringLiteral(" ms"), &m_useP95, &m_maxP95);
    QHBoxLayout *p99Row
        = gate(QStringLiteral("maxP99Ms"), false, 1000, 600000, 0, QStringLiteral(" ms"), &m_useP99, &m_maxP99);
    m_minRequests = new QSpinBox(this);
    m_minRequests->setObjectName(QStringLiteral("rolloutMinRequests"));
    m_minRequests->setRange(1, 1000000);
    m_minRequests->setValue(settings.value(QStringLiteral("minRequests"), 20).toInt());
    m_minRequests->setToolTip(tr("A step whose backend served fewer requests in its hold never passes"));
    m_onFailure = new QComboBox(this);
    m_onFailure->setObjectName(QStringLiteral("rolloutOnFailure"));
    m_onFailure->addItem(tr("Roll back to the weights before the rollout"), int(OnFailure::RollBackToOriginal));
    m_onFailure->addItem(tr("Roll back to the last step that passed"), int(OnFailure::RollBackToLastGood));
    m_onFailure->addItem(tr("Step back through the passed steps"), int(OnFailure::RollBackStepwise));
    m_onFailure->addItem(tr("Pause and let me decide"), int(OnFailure::Pause));
    m_onFailure->setCurrentIndex(std::max(0, m_onFailure->findData(settings.value(QStringLiteral("onFailure"), 0))));

    auto *form = new QFormLayout;
    form->addRow(tr("&Backend"), m_canary);
    form->addRow(tr("&Steps (%)"), m_steps);
    form->addRow(tr("&Hold each"), m_hold);
    form->addRow(tr("Max error rate"), errorRow);
    form->addRow(tr("Max p95"), p95Row);
    form->addRow(tr("Max p99"), p99Row);
    form->addRow(tr("&Min requests per step"), m_minRequests);
    form->addRow(tr("On a broken &gate"), m_onFailure);

    m_problemsLabel = new QLabel(this);
    m_problemsLabel->setObjectName(QStringLiteral("rolloutProblems"));
    m_problemsLabel->setWordWrap(true);
    m_problemsLabel->setStyleSheet(QStringLiteral("QLabel { color: #f85149; }"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_start = buttons->addButton(tr("&Start rollout"), QDialogButtonBox::AcceptRole);
    m_start->setObjectName(QStringLiteral("rolloutStartButton"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *v = new QVBoxLayout(this);
    v->addWidget(about);
    v->addLayout(form);
    v->addWidget(m_problemsLabel);
    v->addWidget(buttons);
    for (QLineEdit *e : {m_steps, m_hold})
        connect(e, &QLineEdit::textChanged, this, &RolloutDialog::check);
    for (QDoubleSpinBox *b : {m_maxErrorRate, m_maxP95, m_maxP99})
        connect(b, &QDoubleSpinBox::valueChanged, this, &RolloutDialog::check);
    for (QCheckBox *c : {m_useErrorRate, m_useP95, m_useP99})
        connect(c, &QCheckBox::toggled, this, &RolloutDialog::check);
    connect(m_minRequests, &QSpinBox::valueChanged, this, &RolloutDialog::check);
    connect(m_canary, &QComboBox::currentIndexChanged, this, &RolloutDialog::check);
    setMinimumWidth(460);
    check();
}

rollout::RolloutPlan RolloutDialog::plan() const
{
    rollout::RolloutPlan p;
    p.routeNamespace = m_routeNs;
    p.routeName = m_routeName;
    p.rule = m_rule;
    p.canary = m_canary->currentData().toString().toStdString();
    std::string ignored;
    p.steps = rollout::parseSteps(m_steps->text().trimmed().toStdString(), &ignored).value_or(std::vector<int>());
    p.holdMs = rollout::parseHold(m_hold->text().trimmed().toStdString(), &ignored).value_or(0);
    if (m_useErrorRate->isChecked())
        p.gates.maxErrorRate = m_maxErrorRate->value() / 100.0;
    if (m_useP95->isChecked())
        p.gates.maxP95Ms = m_maxP95->value();
    if (m_useP99->isChecked())
        p.gates.maxP99Ms = m_maxP99->value();
    p.gates.minRequests = uint64_t(m_minRequests->value());
    p.onFailure = OnFailure(m_onFailure->currentData().toInt());
    p.settleMs = std::min<int64_t>(p.settleMs, p.holdMs / 2);
    return p;
}

void RolloutDialog::check()
{
    m_problems.clear();
    std::string error;
    if (!rollout::parseSteps(m_steps->text().trimmed().toStdString(), &error))
        m_problems << tr("Steps: %1").arg(QString::fromStdString(error));
    if (!rollout::parseHold(m_hold->text().trimmed().toStdString(), &error))
        m_problems << tr("Hold: %1").arg(QString::fromStdString(error));
    if (!m_useErrorRate->isChecked() && !m_useP95->isChecked() && !m_useP99->isChecked())
        m_problems << tr("Choose at least one gate: error rate, p95 or p99");
    const rollout::RolloutPlan p = plan();
    if (m_problems.isEmpty()) {
        for (const std::string &problem : rollout::checkPlan(p, m_applied))
            m_problems << QString::fromStdString(problem);
    }
    if (m_problems.isEmpty()) {
        for (int step : p.steps) {
            for (const routing::RouteIssue &i :
                routing::validateRoutes(rollout::withCanaryShare(m_applied, p, step), m_plane)) {
                if (i.severity == routing::Severity::Error) {
                    m_problems << tr("Step %1 %: %2").arg(step).arg(QString::fromStdString(i.message));
                    break;
                }
            }
        }
    }
    m_problemsLabel->setText(m_problems.join(QLatin1Char('\n')));
    m_problemsLabel->setVisible(!m_problems.isEmpty());
    m_start->setEnabled(m_problems.isEmpty());
}

void RolloutDialog::accept()
{
    QSettings settings;
    settings.beginGroup(QStringLiteral("rollout"));
    settings.setValue(QStringLiteral("steps"), m_steps->text().trimmed());
    settings.setValue(QStringLiteral("hold"), m_hold->text().trimmed());
    settings.setValue(QStringLiteral("maxErrorRate"), m_maxErrorRate->value());
    settings.setValue(QStringLiteral("maxErrorRate/on"), m_useErrorRate->isChecked());
    settings.setValue(QStringLiteral("maxP95Ms"), m_maxP95->value());
    settings.setValue(QStringLiteral("maxP95Ms/on"), m_useP95->isChecked());
    settings.setValue(QStringLiteral("maxP99Ms"), m_maxP99->value());
    settings.setValue(QStringLiteral("maxP99Ms/on"), m_useP99->isChecked());
    settings.setValue(QStringLiteral("minRequests"), m_minRequests->value());
    settings.setValue(QStringLiteral("onFailure"), m_onFailure->currentData());
    QDialog::accept();
}

}  // namespace meshscope
