#pragma once
// Edits the matches of one route rule. A rule's matches are alternatives (any one
// may match); the conditions inside one alternative must all hold: path (exact,
// prefix or RE2 regex), HTTP method, header matches and query parameter matches.
// One alternative is shown at a time, chosen in a combo box.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QLineEdit;
class QTableWidget;
class QToolButton;
QT_END_NAMESPACE

namespace meshscope {

class RouteMatchEditor : public QWidget {
    Q_OBJECT
public:
    explicit RouteMatchEditor(QWidget *parent = nullptr);

    // An empty list (the Gateway API's "match everything") is shown as one
    // PathPrefix "/" alternative and handed back empty until the user changes it.
    void setMatches(const std::vector<routing::RouteMatch> &matches);
    std::vector<routing::RouteMatch> matches() const;

    int currentAlternative() const;
    void setCurrentAlternative(int index);

    QComboBox *pathTypeBox() const { return m_pathType; }
    QLineEdit *pathValueEdit() const { return m_pathValue; }
    QComboBox *methodBox() const { return m_method; }
    QTableWidget *headersTable() const { return m_headers; }
    QTableWidget *queryTable() const { return m_query; }

    // Appends a header condition to the current alternative and focuses its value.
    void addHeader(
        const QString &name, const QString &value, routing::StringMatchType type = routing::StringMatchType::Exact);

    // Issues whose field is "matches..." (relative to the rule).
    void setIssues(const std::vector<routing::RouteIssue> &issues);

Q_SIGNALS:
    void changed();

private:
    void loadAlternative();
    void storeAlternative();
    void refreshAlternatives();
    void addConditionRow(QTableWidget *table, const QString &name, routing::StringMatchType type, const QString &value);
    QTableWidget *makeConditionTable(const QString &objectName, const QString &what);
    void edited();
    // An empty condition table is hidden behind a "none" note, so a plain rule stays compact.
    void refreshTables();

    std::vector<routing::RouteMatch> m_matches;
    bool m_implicit = false;  // the rule had no matches and nothing was changed since
    int m_current = 0;
    bool m_loading = false;
    std::vector<routing::RouteIssue> m_issues;

    QComboBox *m_alternative;
    QToolButton *m_addAlternative;
    QToolButton *m_removeAlternative;
    QComboBox *m_pathType;
    QLineEdit *m_pathValue;
    QComboBox *m_method;
    QTableWidget *m_headers;
    QTableWidget *m_query;
    QLabel *m_issueLabel;
    struct ConditionUi {
        QTableWidget *table;
        QToolButton *remove;
        QLabel *none;
    };
    std::vector<ConditionUi> m_conditionUi;
};

}  // namespace meshscope
