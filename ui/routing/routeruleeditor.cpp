#include "routing/routeruleeditor.h"

#include "routing/backendweightseditor.h"
#include "routing/routeissuestyle.h"
#include "routing/routematcheditor.h"
#include "routing/yaml/routeyaml.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

QString durationText(const std::optional<int64_t> &ms) { return ms ? qs(routing::formatDuration(*ms)) : QString(); }

QString durationTip(const QString &what)
{
    return QObject::tr("%1. Gateway API duration: 10s, 500ms, 1m30s (no decimals); 0s turns it off; empty: not set.")
        .arg(what);
}

QStringList splitList(const QString &text)
{
    static const QRegularExpression sep(QStringLiteral("[,\\s]+"));
    return text.split(sep, Qt::SkipEmptyParts);
}

std::vector<routing::RouteIssue> faultIssues(const std::vector<routing::RouteIssue> &issues)
{
    std::vector<routing::RouteIssue> out;
    for (const routing::RouteIssue &i : issues) {
        if (i.field.find("faultInjection") != std::string::npos)
            out.push_back(i);
    }
    return out;
}

std::vector<routing::RouteIssue> otherFilterIssues(const std::vector<routing::RouteIssue> &issues)
{
    std::vector<routing::RouteIssue> out;
    for (const routing::RouteIssue &i : issues) {
        if (i.field.rfind("filters", 0) == 0 && i.field.find("faultInjection") == std::string::npos)
            out.push_back(i);
    }
    return out;
}

}  // namespace

RouteRuleEditor::RouteRuleEditor(QWidget *parent)
    : QWidget(parent)
    , m_title(new QLabel(this))
    , m_context(new QLabel(this))
    , m_name(new QLineEdit(this))
    , m_nameIssues(routestyle::makeIssueLabel(this))
    , m_match(new RouteMatchEditor(this))
    , m_backends(new BackendWeightsEditor(this))
{
    m_title->setObjectName(QStringLiteral("ruleTitle"));
    QFont tf = m_title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.3);
    tf.setBold(true);
    m_title->setFont(tf);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_context->setForegroundRole(QPalette::PlaceholderText);
    m_context->setWordWrap(true);

    m_name->setObjectName(QStringLiteral("ruleName"));
    m_name->setPlaceholderText(tr("unnamed"));
    m_normalTips[m_name] = tr("Optional; unique within the route. History and diffs name the rule by it.");
    m_name->setToolTip(m_normalTips[m_name]);

    m_matchGroup = new QGroupBox(tr("Match"), this);
    m_matchGroup->setObjectName(QStringLiteral("matchGroup"));
    auto *mv = new QVBoxLayout(m_matchGroup);
    mv->addWidget(m_match);

    m_backendGroup = new QGroupBox(tr("Backends"), this);
    m_backendGroup->setObjectName(QStringLiteral("backendsGroup"));
    auto *bv = new QVBoxLayout(m_backendGroup);
    bv->addWidget(m_backends);

    m_otherIssues = routestyle::makeIssueLabel(this);
    m_otherFilters = new QLabel(this);
    m_otherFilters->setObjectName(QStringLiteral("otherFilters"));
    m_otherFilters->setWordWrap(true);
    m_otherFilters->setTextFormat(Qt::RichText);
    m_otherFilters->setForegroundRole(QPalette::PlaceholderText);
    m_otherFilters->setToolTip(tr("Filters this editor keeps as they are; edit them in the route file"));

    auto *nameRow = new QHBoxLayout;
    auto *nameLabel = new QLabel(tr("&Name"), this);
    nameLabel->setBuddy(m_name);
    nameRow->addWidget(nameLabel);
    nameRow->addWidget(m_name, 1);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(12, 10, 12, 12);
    v->setSpacing(8);
    v->addWidget(m_title);
    v->addWidget(m_context);
    v->addLayout(nameRow);
    v->addWidget(m_nameIssues);
    v->addWidget(m_matchGroup);
    v->addWidget(m_backendGroup);
    v->addWidget(buildTimeouts());
    v->addWidget(buildRetries());
    v->addWidget(buildFault());
    v->addWidget(m_otherFilters);
    v->addWidget(m_otherIssues);
    v->addStretch(1);

    connect(m_name, &QLineEdit::textEdited, this, [this](const QString &t) {
        m_rule.name = t.trimmed().toStdString();
        edited();
    });
    connect(m_match, &RouteMatchEditor::changed, this, [this] {
        m_rule.matches = m_match->matches();
        edited();
    });
    connect(m_backends, &BackendWeightsEditor::changed, this, [this] {
        m_rule.backends = m_backends->backends();
        edited();
    });
}

QWidget *RouteRuleEditor::buildTimeouts()
{
    auto *box = new QGroupBox(tr("Timeouts"), this);
    box->setObjectName(QStringLiteral("timeoutsGroup"));
    m_timeout = new QLineEdit(box);
    m_timeout->setObjectName(QStringLiteral("requestTimeout"));
    m_timeout->setPlaceholderText(tr("not set"));
    m_normalTips[m_timeout] = durationTip(tr("Bounds the whole request, retries included (timeouts.request)"));
    m_backendTimeout = new QLineEdit(box);
    m_backendTimeout->setObjectName(QStringLiteral("backendTimeout"));
    m_backendTimeout->setPlaceholderText(tr("not set"));
    m_normalTips[m_backendTimeout] = durationTip(tr("Bounds each try against a backend (timeouts.backendRequest); "
                                                    "at most the request timeout"));
    m_timeoutIssues = routestyle::makeIssueLabel(box);
    auto *g = new QGridLayout(box);
    g->setHorizontalSpacing(10);
    g->addWidget(new QLabel(tr("Request"), box), 0, 0);
    g->addWidget(m_timeout, 0, 1);
    g->addWidget(new QLabel(tr("Per backend try"), box), 0, 2);
    g->addWidget(m_backendTimeout, 0, 3);
    g->setColumnStretch(1, 1);
    g->setColumnStretch(3, 1);
    g->addWidget(m_timeoutIssues, 1, 0, 1, 4);
    for (QLineEdit *e : {m_timeout, m_backendTimeout}) {
        e->setToolTip(m_normalTips[e]);
        connect(e, &QLineEdit::textEdited, this, [this] {
            readTimeouts();
            edited();
        });
    }
    return box;
}

QWidget *RouteRuleEditor::buildRetries()
{
    m_retryGroup = new QGroupBox(tr("Retries"), this);
    m_retryGroup->setObjectName(QStringLiteral("retryGroup"));
    m_retryGroup->setCheckable(true);
    m_retryGroup->setToolTip(tr("Retry failed requests (Gateway API retry, plus meshscope's retry conditions and "
                                "per-try timeout)"));
    m_attempts = new QSpinBox(m_retryGroup);
    m_attempts->setObjectName(QStringLiteral("retryAttempts"));
    m_attempts->setRange(0, 10);
    m_attempts->setToolTip(tr("Retries after the first try. gRPC caps a call at 5 attempts in all."));
    m_perTry = new QLineEdit(m_retryGroup);
    m_perTry->setObjectName(QStringLiteral("perTryTimeout"));
    m_perTry->setPlaceholderText(tr("not set"));
    m_normalTips[m_perTry] = durationTip(tr("Timeout of each try (meshscope.io/perTryTimeout)"));
    m_backoff = new QLineEdit(m_retryGroup);
    m_backoff->setObjectName(QStringLiteral("retryBackoff"));
    m_backoff->setPlaceholderText(tr("not set"));
    m_normalTips[m_backoff] = durationTip(tr("Base interval between tries"));
    m_retryOn = new QLineEdit(m_retryGroup);
    m_retryOn->setObjectName(QStringLiteral("retryOn"));
    m_retryOn->setPlaceholderText(tr("e.g. connect-failure, reset, unavailable"));
    m_normalTips[m_retryOn] = tr("Conditions that are retried, comma separated. Envoy: 5xx, gateway-error, reset, "
                                 "connect-failure, refused-stream, retriable-4xx, ... gRPC reads only cancelled, "
                                 "deadline-exceeded, internal, resource-exhausted, unavailable.");
    m_codes = new QLineEdit(m_retryGroup);
    m_codes->setObjectName(QStringLiteral("retryCodes"));
    m_codes->setPlaceholderText(tr("e.g. 502, 503"));
    m_normalTips[m_codes] = tr("HTTP status codes that are retried (400-599), comma separated");
    m_retryIssues = routestyle::makeIssueLabel(m_retryGroup);

    auto *g = new QGridLayout(m_retryGroup);
    g->setHorizontalSpacing(10);
    g->addWidget(new QLabel(tr("Attempts"), m_retryGroup), 0, 0);
    g->addWidget(m_attempts, 0, 1);
    g->addWidget(new QLabel(tr("Per-try timeout"), m_retryGroup), 0, 2);
    g->addWidget(m_perTry, 0, 3);
    g->addWidget(new QLabel(tr("Retry on"), m_retryGroup), 1, 0);
    g->addWidget(m_retryOn, 1, 1, 1, 3);
    g->addWidget(new QLabel(tr("Status codes"), m_retryGroup), 2, 0);
    g->addWidget(m_codes, 2, 1);
    g->addWidget(new QLabel(tr("Backoff"), m_retryGroup), 2, 2);
    g->addWidget(m_backoff, 2, 3);
    g->setColumnStretch(1, 1);
    g->setColumnStretch(3, 1);
    g->addWidget(m_retryIssues, 3, 0, 1, 4);

    for (QLineEdit *e : {m_perTry, m_backoff, m_retryOn, m_codes}) {
        e->setToolTip(m_normalTips[e]);
        connect(e, &QLineEdit::textEdited, this, [this] {
            readRetry();
            edited();
        });
    }
    connect(m_attempts, &QSpinBox::valueChanged, this, [this] {
        if (m_loading)
            return;  // load() sets the fields one by one; reading now would mix two rules
        readRetry();
        edited();
    });
    connect(m_retryGroup, &QGroupBox::toggled, this, [this](bool on) {
        if (m_loading)
            return;
        if (on && m_attempts->value() == 0)
            m_attempts->setValue(2);  // a useful start; reading follows below
        readRetry();
        edited();
    });
    return m_retryGroup;
}

QWidget *RouteRuleEditor::buildFault()
{
    m_faultGroup = new QGroupBox(tr("Fault injection"), this);
    m_faultGroup->setObjectName(QStringLiteral("faultGroup"));
    m_faultGroup->setCheckable(true);
    m_faultGroup->setToolTip(tr("Delay or fail a share of requests to test how callers cope (Envoy's fault filter; "
                                "refused for gRPC proxyless and Caddy, which cannot do it)"));
    m_delayOn = new QCheckBox(tr("Delay"), m_faultGroup);
    m_delayOn->setObjectName(QStringLiteral("faultDelayOn"));
    m_delayMs = new QSpinBox(m_faultGroup);
    m_delayMs->setObjectName(QStringLiteral("faultDelayMs"));
    m_delayMs->setRange(0, 3600000);
    m_delayMs->setSingleStep(100);
    m_delayMs->setSuffix(tr(" ms"));
    m_delayMs->setToolTip(tr("How long matching requests are held before being forwarded"));
    m_delayPct = new QDoubleSpinBox(m_faultGroup);
    m_delayPct->setObjectName(QStringLiteral("faultDelayPercent"));
    m_delayPct->setRange(0, 100);
    m_delayPct->setDecimals(1);
    m_delayPct->setSuffix(tr(" %"));
    m_delayPct->setToolTip(tr("Share of requests delayed"));
    m_abortOn = new QCheckBox(tr("Abort"), m_faultGroup);
    m_abortOn->setObjectName(QStringLiteral("faultAbortOn"));
    m_abortStatus = new QSpinBox(m_faultGroup);
    m_abortStatus->setObjectName(QStringLiteral("faultAbortStatus"));
    m_abortStatus->setRange(200, 599);
    m_abortStatus->setPrefix(tr("HTTP "));
    m_abortStatus->setToolTip(tr("Status answered instead of forwarding (200-599)"));
    m_abortPct = new QDoubleSpinBox(m_faultGroup);
    m_abortPct->setObjectName(QStringLiteral("faultAbortPercent"));
    m_abortPct->setRange(0, 100);
    m_abortPct->setDecimals(1);
    m_abortPct->setSuffix(tr(" %"));
    m_abortPct->setToolTip(tr("Share of requests aborted"));
    m_faultIssues = routestyle::makeIssueLabel(m_faultGroup);

    auto *g = new QGridLayout(m_faultGroup);
    g->setHorizontalSpacing(10);
    g->addWidget(m_delayOn, 0, 0);
    g->addWidget(m_delayMs, 0, 1);
    g->addWidget(new QLabel(tr("of"), m_faultGroup), 0, 2);
    g->addWidget(m_delayPct, 0, 3);
    g->addWidget(m_abortOn, 1, 0);
    g->addWidget(m_abortStatus, 1, 1);
    g->addWidget(new QLabel(tr("of"), m_faultGroup), 1, 2);
    g->addWidget(m_abortPct, 1, 3);
    g->setColumnStretch(1, 1);
    g->setColumnStretch(3, 1);
    g->addWidget(m_faultIssues, 2, 0, 1, 4);

    auto changedFault = [this] {
        m_delayMs->setEnabled(m_delayOn->isChecked());
        m_delayPct->setEnabled(m_delayOn->isChecked());
        m_abortStatus->setEnabled(m_abortOn->isChecked());
        m_abortPct->setEnabled(m_abortOn->isChecked());
        if (m_loading)
            return;
        readFault();
        edited();
    };
    connect(m_faultGroup, &QGroupBox::toggled, this, [this, changedFault](bool on) {
        if (on && !m_loading && !m_delayOn->isChecked() && !m_abortOn->isChecked()) {
            const bool was = m_loading;
            m_loading = true;
            m_delayOn->setChecked(true);  // a fault needs a delay or an abort
            if (m_delayMs->value() == 0)
                m_delayMs->setValue(1000);
            m_loading = was;
        }
        changedFault();
    });
    for (QCheckBox *c : {m_delayOn, m_abortOn})
        connect(c, &QCheckBox::toggled, this, changedFault);
    connect(m_delayMs, &QSpinBox::valueChanged, this, changedFault);
    connect(m_abortStatus, &QSpinBox::valueChanged, this, changedFault);
    connect(m_delayPct, &QDoubleSpinBox::valueChanged, this, changedFault);
    connect(m_abortPct, &QDoubleSpinBox::valueChanged, this, changedFault);
    return m_faultGroup;
}

QString RouteRuleEditor::contextText() const { return m_context->text(); }

void RouteRuleEditor::setRule(
    const routing::RouteRule &rule, const QString &title, const QString &context, const QStringList &knownServices)
{
    m_rule = rule;
    m_issues.clear();
    m_inputErrors.clear();
    m_title->setText(title);
    m_context->setText(context);
    m_match->setMatches(rule.matches);
    m_backends->setBackends(rule.backends, knownServices);
    load();
}

void RouteRuleEditor::load()
{
    m_loading = true;
    m_name->setText(qs(m_rule.name));
    m_timeout->setText(durationText(m_rule.timeoutMs));
    m_backendTimeout->setText(durationText(m_rule.backendTimeoutMs));

    const routing::RetryPolicy retry = m_rule.retry.value_or(routing::RetryPolicy {});
    m_retryGroup->setChecked(m_rule.retry.has_value());
    m_attempts->setValue(retry.attempts);
    m_perTry->setText(durationText(retry.perTryTimeoutMs));
    m_backoff->setText(durationText(retry.backoffMs));
    QStringList on;
    for (const std::string &s : retry.retryOn)
        on << qs(s);
    m_retryOn->setText(on.join(QStringLiteral(", ")));
    QStringList codes;
    for (int c : retry.codes)
        codes << QString::number(c);
    m_codes->setText(codes.join(QStringLiteral(", ")));

    const routing::FaultInjection fault = m_rule.fault.value_or(routing::FaultInjection {});
    m_faultGroup->setChecked(m_rule.fault.has_value());
    m_delayOn->setChecked(fault.delayMs.has_value());
    m_delayMs->setValue(int(fault.delayMs.value_or(1000)));
    m_delayPct->setValue(fault.delayPercent);
    m_abortOn->setChecked(fault.abortHttpStatus.has_value());
    m_abortStatus->setValue(fault.abortHttpStatus.value_or(503));
    m_abortPct->setValue(fault.abortPercent);
    m_delayMs->setEnabled(m_delayOn->isChecked());
    m_delayPct->setEnabled(m_delayOn->isChecked());
    m_abortStatus->setEnabled(m_abortOn->isChecked());
    m_abortPct->setEnabled(m_abortOn->isChecked());

    QStringList other;
    if (m_rule.mirror) {
        other << tr("mirrors %1 % of requests to %2")
                     .arg(m_rule.mirror->percent)
                     .arg(qs(m_rule.mirror->backend.name).toHtmlEscaped());
    }
    auto describe = [&](const routing::HeaderModifier &m, const QString &which) {
        for (const auto &[name, value] : m.set)
            other
                << tr("sets %1 header <tt>%2: %3</tt>").arg(which, qs(name).toHtmlEscaped(), qs(value).toHtmlEscaped());
        for (const auto &[name, value] : m.add)
            other
                << tr("adds %1 header <tt>%2: %3</tt>").arg(which, qs(name).toHtmlEscaped(), qs(value).toHtmlEscaped());
        for (const std::string &name : m.remove)
            other << tr("removes %1 header <tt>%2</tt>").arg(which, qs(name).toHtmlEscaped());
    };
    describe(m_rule.requestHeaders, tr("request"));
    describe(m_rule.responseHeaders, tr("response"));
    m_otherFilters->setText(
        other.isEmpty() ? QString() : QString(tr("Also, kept as written: ") + other.join(QStringLiteral("; "))));
    m_otherFilters->setVisible(!other.isEmpty());
    m_loading = false;
    refreshFieldMarks();
}

bool RouteRuleEditor::readDuration(QLineEdit *edit, const QString &what, std::optional<int64_t> *out)
{
    const QString text = edit->text().trimmed();
    if (text.isEmpty()) {
        setInputError(edit, {});
        *out = std::nullopt;
        return true;
    }
    const auto ms = routing::parseDuration(text.toStdString());
    if (!ms) {
        setInputError(
            edit, tr("%1: '%2' is not a duration; write e.g. 10s, 500ms or 1m30s (no decimals)").arg(what, text));
        return false;
    }
    setInputError(edit, {});
    *out = ms;
    return true;
}

void RouteRuleEditor::setInputError(QWidget *field, const QString &message)
{
    if (message.isEmpty())
        m_inputErrors.remove(field);
    else
        m_inputErrors[field] = message;
}

void RouteRuleEditor::readTimeouts()
{
    std::optional<int64_t> v;
    if (readDuration(m_timeout, tr("Request timeout"), &v))
        m_rule.timeoutMs = v;
    if (readDuration(m_backendTimeout, tr("Per backend try timeout"), &v))
        m_rule.backendTimeoutMs = v;
}

void RouteRuleEditor::readRetry()
{
    if (!m_retryGroup->isChecked()) {
        m_rule.retry.reset();
        for (QWidget *w : std::initializer_list<QWidget *> {m_perTry, m_backoff, m_codes})
            setInputError(w, {});
        return;
    }
    routing::RetryPolicy r = m_rule.retry.value_or(routing::RetryPolicy {});
    r.attempts = m_attempts->value();
    std::optional<int64_t> v;
    if (readDuration(m_perTry, tr("Per-try timeout"), &v))
        r.perTryTimeoutMs = v;
    if (readDuration(m_backoff, tr("Retry backoff"), &v))
        r.backoffMs = v;
    r.retryOn.clear();
    for (const QString &s : splitList(m_retryOn->text()))
        r.retryOn.push_back(s.toStdString());
    std::vector<int> codes;
    QString bad;
    for (const QString &s : splitList(m_codes->text())) {
        bool ok = false;
        const int c = s.toInt(&ok);
        if (!ok) {
            bad = s;
            break;
        }
        codes.push_back(c);
    }
    if (bad.isEmpty()) {
        r.codes = codes;
        setInputError(m_codes, {});
    } else {
        setInputError(m_codes, tr("Retry status codes: '%1' is not a number").arg(bad));
    }
    m_rule.retry = r;
}

void RouteRuleEditor::readFault()
{
    if (!m_faultGroup->isChecked()) {
        m_rule.fault.reset();
        return;
    }
    routing::FaultInjection f;
    if (m_delayOn->isChecked())
        f.delayMs = m_delayMs->value();
    f.delayPercent = m_delayPct->value();
    if (m_abortOn->isChecked())
        f.abortHttpStatus = m_abortStatus->value();
    f.abortPercent = m_abortPct->value();
    m_rule.fault = f;
}

void RouteRuleEditor::edited()
{
    if (m_loading)
        return;
    refreshFieldMarks();
    Q_EMIT ruleEdited();
}

void RouteRuleEditor::enableFault(int64_t delayMs, double delayPercent)
{
    m_loading = true;
    m_faultGroup->setChecked(true);
    m_delayOn->setChecked(true);
    m_delayMs->setValue(int(delayMs));
    m_delayPct->setValue(delayPercent);
    m_delayMs->setEnabled(true);
    m_delayPct->setEnabled(true);
    m_abortStatus->setEnabled(m_abortOn->isChecked());
    m_abortPct->setEnabled(m_abortOn->isChecked());
    m_loading = false;
    readFault();
    edited();
}

void RouteRuleEditor::focusSection(Section section)
{
    QWidget *w = nullptr;
    switch (section) {
    case Section::Match: w = m_match->pathValueEdit(); break;
    case Section::Backends:
        m_backends->focusBackend(0);
        w = m_backendGroup;
        break;
    case Section::ShiftTraffic:
        m_backends->focusShift();
        w = m_backendGroup;
        break;
    case Section::Timeouts: w = m_timeout; break;
    case Section::Retries: w = m_attempts; break;
    case Section::Fault: w = m_delayMs; break;
    }
    if (w && section != Section::Backends && section != Section::ShiftTraffic)
        w->setFocus(Qt::OtherFocusReason);
}

void RouteRuleEditor::setIssues(const std::vector<routing::RouteIssue> &issues)
{
    m_issues = issues;
    m_match->setIssues(issues);
    m_backends->setIssues(issues);
    refreshFieldMarks();
}

void RouteRuleEditor::refreshFieldMarks()
{
    // Validator issues and input errors side by side: input errors are errors too.
    auto withInput = [this](QWidget *field, std::vector<routing::RouteIssue> list) {
        if (m_inputErrors.contains(field)) {
            routing::RouteIssue i;
            i.severity = routing::Severity::Error;
            i.message = m_inputErrors.value(field).toStdString();
            list.push_back(i);
        }
        return list;
    };
    std::vector<routing::RouteIssue> nameIssues;
    for (const routing::RouteIssue &i : m_issues) {
        if (i.field == "name")
            nameIssues.push_back(i);
    }
    routestyle::markField(m_name, nameIssues, m_normalTips.value(m_name));
    routestyle::showIssues(m_nameIssues, nameIssues);

    const auto timeoutIssues = routestyle::issuesUnder(m_issues, "timeouts");
    routestyle::markField(m_timeout, withInput(m_timeout, routestyle::issuesUnder(timeoutIssues, "timeouts.request")),
        m_normalTips.value(m_timeout));
    routestyle::markField(m_backendTimeout,
        withInput(m_backendTimeout, routestyle::issuesUnder(timeoutIssues, "timeouts.backendRequest")),
        m_normalTips.value(m_backendTimeout));
    routestyle::showIssues(m_timeoutIssues, withInput(m_backendTimeout, withInput(m_timeout, timeoutIssues)));

    const auto retryIssues = routestyle::issuesUnder(m_issues, "retry");
    routestyle::markField(m_perTry,
        withInput(m_perTry, routestyle::issuesUnder(retryIssues, "retry.meshscope.io/perTryTimeout")),
        m_normalTips.value(m_perTry));
    routestyle::markField(m_backoff, withInput(m_backoff, routestyle::issuesUnder(retryIssues, "retry.backoff")),
        m_normalTips.value(m_backoff));
    routestyle::markField(
        m_codes, withInput(m_codes, routestyle::issuesUnder(retryIssues, "retry.codes")), m_normalTips.value(m_codes));
    routestyle::markField(
        m_retryOn, routestyle::issuesUnder(retryIssues, "retry.meshscope.io/retryOn"), m_normalTips.value(m_retryOn));
    routestyle::showIssues(
        m_retryIssues, withInput(m_codes, withInput(m_backoff, withInput(m_perTry, retryIssues))), "retry");

    const auto fault = faultIssues(m_issues);
    routestyle::showIssues(m_faultIssues, fault);
    routestyle::showIssues(m_otherIssues, otherFilterIssues(m_issues));
}

}  // namespace meshscope
