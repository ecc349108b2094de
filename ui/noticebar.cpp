#include "noticebar.h"

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
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *close = new QToolButton(this);
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, [this] {
        m_label->clear();
        hide();
    });
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 4, 4, 4);
    layout->addWidget(m_label, 1);
    layout->addWidget(close, 0, Qt::AlignTop);
    hide();
}

void NoticeBar::showNotice(const QString &text)
{
    const QString current = m_label->text();
    m_label->setText(current.isEmpty() ? text : current + QLatin1Char('\n') + text);
    show();
}

QString NoticeBar::text() const { return m_label->text(); }

}  // namespace meshscope
