#pragma once
// The graph's service wizards: small dialogs behind "Shift traffic…", "Add header
// route…" and "Inject fault…" that ask what to change, preview it, and hand back the
// whole edited route set (routing::RouteEdit). The route editor takes the result into
// its edited routes and opens the same review its Apply button does. What a choice
// does to the routes is decided in core (routing/routeactions.h); these only ask and show.

#include "routing/routeactions.h"
#include "routing/routemodel.h"

#include <QDialog>
#include <QString>
#include <QStringList>

#include <vector>

QT_BEGIN_NAMESPACE
class QButtonGroup;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;
class QSlider;
class QSpinBox;
QT_END_NAMESPACE

namespace meshscope {

// What the three wizards share: the rule they act on, an error line, OK/Cancel, and
// the edit OK stands for.
class RouteWizard : public QDialog {
    Q_OBJECT
public:
    // The edit the current choices make of the set the wizard was opened on; its error
    // (why OK is disabled) when they cannot be applied.
    virtual routing::RouteEdit edit() const = 0;
    const routing::RouteSet &startSet() const { return m_set; }
    QPushButton *okButton() const;
    QLabel *errorLabel() const { return m_error; }

protected:
    RouteWizard(const routing::RouteSet &set, routing::RuleLocation at, QWidget *parent);
    const routing::HttpRoute &route() const { return m_set.routes[size_t(m_at.route)]; }
    const routing::RouteRule &rule() const { return route().rules[size_t(m_at.rule)]; }
    QString ruleName() const;
    // Adds the error line and the buttons below what the subclass laid out.
    void finishLayout(QLayout *content);
    // Shows `error` (OK disabled) or clears it.
    void setError(const QString &error);

    routing::RouteSet m_set;
    routing::RuleLocation m_at;

private:
    QLabel *m_error = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

// Shift traffic: a target percentage per backend of the rule, always adding up to 100.
class ShiftTrafficDialog : public RouteWizard {
    Q_OBJECT
public:
    ShiftTrafficDialog(const routing::RouteSet &set, routing::RuleLocation at, const QString &service,
        const QStringList &knownServices, QWidget *parent = nullptr);

    routing::RouteEdit edit() const override;
    std::vector<routing::BackendShare> shares() const;
    int rowCount() const { return int(m_rows.size()); }
    QString backendName(int row) const;
    QSpinBox *spinBox(int row) const;
    QSlider *slider(int row) const;
    QPushButton *evenButton() const { return m_even; }
    QPushButton *allToButton() const { return m_allTo; }  // disabled when no backend serves the service
    QComboBox *addBox() const { return m_addBox; }
    QPushButton *addButton() const { return m_addButton; }
    QLabel *previewLabel() const { return m_preview; }

    // Sets every row at once (as many values as rows).
    void setPercents(const std::vector<int> &percents);
    // Adds a backend (a known service not yet in the rule) at 0 %.
    void addBackend(const QString &name);

private:
    struct Row {
        QString name;
        QSpinBox *spin = nullptr;
        QSlider *slider = nullptr;
    };
    void addRow(const QString &name, int percent);
    void rowChanged(int row, int percent);
    void refresh();

    std::vector<Row> m_rows;
    int m_serving = -1;  // row of the backend serving the clicked service
    QGridLayout *m_grid = nullptr;
    QPushButton *m_even = nullptr;
    QPushButton *m_allTo = nullptr;
    QComboBox *m_addBox = nullptr;
    QPushButton *m_addButton = nullptr;
    QLabel *m_preview = nullptr;
};

// Add header route: requests the carrying rule matches that carry a header go to one backend.
class HeaderRouteDialog : public RouteWizard {
    Q_OBJECT
public:
    HeaderRouteDialog(const routing::RouteSet &set, routing::RuleLocation at, const QString &service,
        const QStringList &knownServices, QWidget *parent = nullptr);

    routing::RouteEdit edit() const override;
    routing::HeaderRouteChoice choice() const;
    QLineEdit *headerEdit() const { return m_header; }
    QComboBox *matchTypeBox() const { return m_type; }  // Exact, RegularExpression
    QLineEdit *valueEdit() const { return m_value; }
    QComboBox *backendBox() const { return m_backend; }
    QLabel *whereLabel() const { return m_where; }
    QPlainTextEdit *previewView() const { return m_preview; }

private:
    void refresh();

    QLineEdit *m_header = nullptr;
    QComboBox *m_type = nullptr;
    QLineEdit *m_value = nullptr;
    QComboBox *m_backend = nullptr;
    QLabel *m_where = nullptr;
    QPlainTextEdit *m_preview = nullptr;
};

// Inject fault: a delay or an abort for a share of the rule's requests, either the
// whole rule's or (honestly, through a header-tagged rule of its own) one backend's.
class FaultDialog : public RouteWizard {
    Q_OBJECT
public:
    FaultDialog(
        const routing::RouteSet &set, routing::RuleLocation at, const QString &service, QWidget *parent = nullptr);

    routing::RouteEdit edit() const override;
    routing::FaultChoice choice() const;
    QComboBox *kindBox() const { return m_kind; }  // Delay, Abort
    QSpinBox *delaySpin() const { return m_delay; }
    QSpinBox *statusSpin() const { return m_status; }
    QDoubleSpinBox *percentSpin() const { return m_percent; }
    QRadioButton *wholeRuleButton() const { return m_whole; }
    QRadioButton *oneBackendButton() const { return m_one; }
    QComboBox *backendBox() const { return m_backend; }
    QLineEdit *headerEdit() const { return m_header; }
    QComboBox *headerTypeBox() const { return m_headerType; }
    QLineEdit *headerValueEdit() const { return m_headerValue; }
    QLabel *previewLabel() const { return m_preview; }

private:
    void refresh();

    QComboBox *m_kind = nullptr;
    QSpinBox *m_delay = nullptr;
    QSpinBox *m_status = nullptr;
    QDoubleSpinBox *m_percent = nullptr;
    QRadioButton *m_whole = nullptr;
    QRadioButton *m_one = nullptr;
    QComboBox *m_backend = nullptr;
    QWidget *m_tag = nullptr;
    QLineEdit *m_header = nullptr;
    QComboBox *m_headerType = nullptr;
    QLineEdit *m_headerValue = nullptr;
    QLabel *m_preview = nullptr;
};

}  // namespace meshscope
