#pragma once
// Shows a route change the way reviewers read one: the structural summary (one line
// per change) above the unified diff of the normalized YAML, monospaced, with added
// lines green, removed lines red and hunk headers blue. RouteDiffDialog wraps it in
// the confirmation asked before Apply and before a rollback; when the routes live in
// a file, a second tab shows the whole-file diff that will be written.

#include "routing/routediff.h"

#include <QDialog>
#include <QPlainTextEdit>

QT_BEGIN_NAMESPACE
class QLabel;
class QPushButton;
class QTabWidget;
class QVBoxLayout;
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
    QLabel *heading() const { return m_heading; }

    // The review is of a rollback of change `entryId`: says so in the title, the
    // heading and the button.
    void setRollbackOf(qint64 entryId);
    // The whole-file unified diff of `fileName` that Apply writes, in its own tab, with
    // what was kept or rewritten (notes) above it.
    void setFileDiff(const QString &fileName, const QString &unifiedDiff, const QStringList &notes);
    RouteDiffView *fileView() const { return m_fileView; }
    QTabWidget *tabs() const { return m_tabs; }
    // Another page beside the diff (the what-if on recent traffic).
    void addPage(QWidget *page, const QString &title);
    // A line under the heading in the warning colour (e.g. no client is connected).
    void addCaution(const QString &text);

private:
    RouteDiffView *m_view;
    RouteDiffView *m_fileView = nullptr;
    QTabWidget *m_tabs = nullptr;
    QLabel *m_heading = nullptr;
    QLabel *m_cautions = nullptr;
    QVBoxLayout *m_layout = nullptr;
    QPushButton *m_apply;
    QString m_target;
    int m_changes = 0;
};

}  // namespace meshscope
