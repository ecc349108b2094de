#include "noticebar.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace meshscope {

NoticeBar::NoticeBar(QWidget *parent)
    : QFrame(parent)
    , m_label(new QLabel(this))
{
    setObjectName(QStringLiteral("noticeBar"));
    setStyleSheet(QStringLiteral("#noticeBar { background: #3d2a12; border-bottom: 1px solid #9e6a03; }"
                                 "#noticeBar QLabel { color: #f0d8a8; }"));
    setAutoFillBackground(true);
    m_label->setObjectName(QStringLiteral("noticeText"));
    m_label->setWordWrap(true);
    m_label->setTextFormat(Qt::PlainText);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *close = new QToolButton(this);
    close->setObjectName(QStringLiteral("noticeDismiss"));
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, &NoticeBar::dismiss);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 4, 4, 4);
    layout->addWidget(m_label, 1);
    layout->addWidget(close, 0, Qt::AlignTop);
    hide();
}

void NoticeBar::overlay(QWidget *host)
{
    if (m_host)
        m_host->removeEventFilter(this);
    m_host = host;
    setParent(host);
    host->installEventFilter(this);
    refresh();
}

bool NoticeBar::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_host && event->type() == QEvent::Resize)
        place();
    return QFrame::eventFilter(watched, event);
}

void NoticeBar::showNotice(const QString &text)
{
    m_notices << text;
    refresh();
}

void NoticeBar::setStanding(const QString &key, const QString &text)
{
    if (!m_standing.contains(key))
        m_standingOrder << key;
    else if (m_standing.value(key) == text)
        return;
    m_standing.insert(key, text);
    refresh();
}

void NoticeBar::clearStanding(const QString &key)
{
    m_dismissed.remove(key);
    if (!m_standing.remove(key))
        return;
    m_standingOrder.removeAll(key);
    refresh();
}

void NoticeBar::dismiss()
{
    m_notices.clear();
    for (const QString &key : std::as_const(m_standingOrder))
        m_dismissed.insert(key);
    refresh();
}

QString NoticeBar::text() const { return isHidden() ? QString() : m_label->text(); }

void NoticeBar::refresh()
{
    QStringList lines;
    for (const QString &key : std::as_const(m_standingOrder)) {
        if (!m_dismissed.contains(key))
            lines << m_standing.value(key);
    }
    lines << m_notices;
    m_label->setText(lines.join(QLatin1Char('\n')));
    setVisible(!lines.isEmpty());
    if (!lines.isEmpty())
        place();
}

void NoticeBar::place()
{
    if (!m_host)
        return;
    const int width = m_host->width();
    const int height = layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(width) : sizeHint().height();
    setGeometry(0, 0, width, height);
    raise();
}

}  // namespace meshscope
