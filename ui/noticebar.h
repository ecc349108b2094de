#pragma once
// A dismissable one-line notice above the canvas: how the dashboard tells the user
// something went wrong (a port in use, the demo program missing) without a modal
// dialog that would block the live view or a headless run.

#include <QFrame>

QT_BEGIN_NAMESPACE
class QLabel;
QT_END_NAMESPACE

namespace meshscope {

class NoticeBar : public QFrame {
    Q_OBJECT
public:
    explicit NoticeBar(QWidget *parent = nullptr);

    // Shows text (appending to what is shown, one line each) until dismissed.
    void showNotice(const QString &text);
    QString text() const;

private:
    QLabel *m_label;
};

}  // namespace meshscope
