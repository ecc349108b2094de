#pragma once
// Shows a route change the way reviewers read one: the structural summary (one line
// per change) above the unified diff of the normalized YAML, monospaced, with added
// lines green, removed lines red and hunk headers blue. RouteDiffDialog wraps it in
// the confirmation asked before Apply.

#include "routing/routediff.h"

#include <QDialog>
#include <QPlainTextEdit>

QT_BEGIN_NAMESPACE
class QLabel;
class QPushButton;
QT_END_NAMESPACE

namespace meshscope {

class RouteDiffView : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit RouteDiffView(QWidget *parent = nullptr);
    // `emptyText` is shown when there is no change.
    void setDiff(const routing::RouteDiff &diff, const QString &emptyText);
    // The summary and the diff as plain text.
    static QString diffText(const routing::RouteDiff &diff);
};

class RouteDiffDialog : public QDialog {
    Q_OBJECT
public:
    // `target` names where Apply sends the change ("xDS control plane, gRPC proxyless").
    RouteDiffDialog(
        const routing::RouteDiff &diff, const QString &target, const QStringList &warnings, QWidget *parent = nullptr);
    RouteDiffView *view() const { return m_view; }
    QPushButton *applyButton() const { return m_apply; }

private:
    RouteDiffView *m_view;
    QPushButton *m_apply;
};

}  // namespace meshscope
