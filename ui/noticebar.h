#pragma once
// A dismissable notice over the top edge of the canvas: how the dashboard tells the
// user something went wrong (a port in use, the demo program missing, a source that
// cannot reach its peer) without a modal dialog that would block the live view or a
// headless run. It lies over its host rather than in a layout, so showing it never
// resizes the canvas or moves its view.
//
// Two kinds of lines: one-shot notices, kept until dismissed, and standing ones, one
// per key (a source's current problem), rewritten in place as their state changes (a
// retry countdown) and gone when the problem is. Dismissing hides both; a standing
// line comes back only once its problem has gone and come again.

#include <QFrame>
#include <QHash>
#include <QSet>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QLabel;
QT_END_NAMESPACE

namespace meshscope {

class NoticeBar : public QFrame {
    Q_OBJECT
public:
    explicit NoticeBar(QWidget *parent = nullptr);

    // Lies over the top of `host` (its parent from now on), as wide as it.
    void overlay(QWidget *host);

    // Shows text (appending to what is shown, one line each) until dismissed.
    void showNotice(const QString &text);
    // Sets (or replaces) the standing line for key.
    void setStanding(const QString &key, const QString &text);
    // The problem behind key is over: its line goes, and a later one shows again.
    void clearStanding(const QString &key);
    QStringList standingKeys() const { return m_standingOrder; }
    void dismiss();

    QString text() const;  // what is shown, one line each; "" when hidden

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void refresh();
    void place();

    QLabel *m_label;
    QWidget *m_host = nullptr;
    QStringList m_notices;
    QStringList m_standingOrder;
    QHash<QString, QString> m_standing;
    QSet<QString> m_dismissed;  // standing keys hidden until cleared
};

}  // namespace meshscope
