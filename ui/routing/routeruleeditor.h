#pragma once
// The right-hand side of the route editor: everything about one rule. Its name, the
// match editor, the backends with their weights, timeouts, retries and fault
// injection (delay and abort). Works on a copy of the rule and emits ruleEdited()
// after every change; text that does not parse (a duration such as "1.5s", a status
// code list) is an input error shown at the field, and the rule keeps its last
// good value until the text is fixed.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <QMap>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <optional>
#include <vector>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QSpinBox;
QT_END_NAMESPACE

namespace meshscope {

class BackendWeightsEditor;
class RouteMatchEditor;

class RouteRuleEditor : public QWidget {
    Q_OBJECT
public:
    enum class Section { Match, Backends, ShiftTraffic, Timeouts, Retries, Fault };

    explicit RouteRuleEditor(QWidget *parent = nullptr);

    // `title` names the rule ("Rule 2 of bookinfo/reviews"), `context` says where it is
    // served; `knownServices` are offered as backend names.
    void setRule(
        const routing::RouteRule &rule, const QString &title, const QString &context, const QStringList &knownServices);
    const routing::RouteRule &rule() const { return m_rule; }
    // The line under the title: where the rule applies, and its place in the route.
    QString contextText() const;

    // Validator issues of this rule (fields relative to the rule).
    void setIssues(const std::vector<routing::RouteIssue> &issues);
    // Text the editor could not read, one line per field ("Request timeout: ...").
    QStringList inputErrors() const { return m_inputErrors.values(); }
    bool hasInputErrors() const { return !m_inputErrors.isEmpty(); }

    // Turns fault injection on with a delay (the "Inject fault..." entry of the graph).
    void enableFault(int64_t delayMs, double delayPercent);
    void focusSection(Section section);

    RouteMatchEditor *matchEditor() const { return m_match; }
    BackendWeightsEditor *backendsEditor() const { return m_backends; }
    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *timeoutEdit() const { return m_timeout; }
    QLineEdit *backendTimeoutEdit() const { return m_backendTimeout; }
    QGroupBox *retryGroup() const { return m_retryGroup; }
    QSpinBox *retryAttempts() const { return m_attempts; }
    QLineEdit *perTryTimeoutEdit() const { return m_perTry; }
    QLineEdit *retryOnEdit() const { return m_retryOn; }
    QLineEdit *retryCodesEdit() const { return m_codes; }
    QGroupBox *faultGroup() const { return m_faultGroup; }
    QCheckBox *delayCheck() const { return m_delayOn; }
    QSpinBox *delayMs() const { return m_delayMs; }
    QDoubleSpinBox *delayPercent() const { return m_delayPct; }
    QCheckBox *abortCheck() const { return m_abortOn; }
    QSpinBox *abortStatus() const { return m_abortStatus; }
    QDoubleSpinBox *abortPercent() const { return m_abortPct; }

Q_SIGNALS:
    void ruleEdited();

private:
    QWidget *buildTimeouts();
    QWidget *buildRetries();
    QWidget *buildFault();
    void load();
    void readTimeouts();
    void readRetry();
    void readFault();
    void edited();
    // Parses a duration field: nullopt for empty; records an input error otherwise.
    bool readDuration(QLineEdit *edit, const QString &what, std::optional<int64_t> *out);
    void setInputError(QWidget *field, const QString &message);
    void refreshFieldMarks();

    routing::RouteRule m_rule;
    std::vector<routing::RouteIssue> m_issues;
    QMap<QWidget *, QString> m_inputErrors;
    QMap<QWidget *, QString> m_normalTips;
    bool m_loading = false;

    QLabel *m_title;
    QLabel *m_context;
    QLineEdit *m_name;
    QLabel *m_nameIssues;
    RouteMatchEditor *m_match;
    BackendWeightsEditor *m_backends;
    QLineEdit *m_timeout;
    QLineEdit *m_backendTimeout;
    QLabel *m_timeoutIssues;
    QGroupBox *m_retryGroup;
    QSpinBox *m_attempts;
    QLineEdit *m_perTry;
    QLineEdit *m_retryOn;
    QLineEdit *m_codes;
    QLineEdit *m_backoff;
    QLabel *m_retryIssues;
    QGroupBox *m_faultGroup;
    QCheckBox *m_delayOn;
    QSpinBox *m_delayMs;
    QDoubleSpinBox *m_delayPct;
    QCheckBox *m_abortOn;
    QSpinBox *m_abortStatus;
    QDoubleSpinBox *m_abortPct;
    QLabel *m_faultIssues;
    QLabel *m_otherFilters;
    QLabel *m_otherIssues;
    QGroupBox *m_matchGroup;
    QGroupBox *m_backendGroup;
};

}  // namespace meshscope
