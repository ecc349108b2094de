#include "routing/rolloutpanel.h"

#include "routing/rolloutcontroller.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace meshscope {

using rollout::RolloutState;

RolloutPanel::RolloutPanel(RolloutController *controller, QWidget *parent)
    : QFrame(parent)
    , m_controller(controller)
{
    setObjectName(QStringLiteral("rolloutPanel"));
    setFrameShape(QFrame::StyledPanel);
    m_headline = new QLabel(this);
    m_headline->setObjectName(QStringLiteral("rolloutHeadline"));
    m_detail = new QLabel(this);
    m_detail->setObjectName(QStringLiteral("rolloutDetail"));
    m_detail->setWordWrap(true);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_bar = new QProgressBar(this);
    m_bar->setTextVisible(true);
    m_bar->setMaximumHeight(14);
    m_pause = new QPushButton(tr("&Pause"), this);
    m_pause->setObjectName(QStringLiteral("rolloutPauseButton"));
    m_rollBack = new QPushButton(tr("Roll &back"), this);
    m_rollBack->setObjectName(QStringLiteral("rolloutRollBackButton"));
    m_rollBack->setToolTip(tr("Back to the weights from before the rollout, now"));
    m_dismiss = new QPushButton(tr("&Dismiss"), this);
    m_dismiss->setObjectName(QStringLiteral("rolloutDismissButton"));
    connect(m_pause, &QPushButton::clicked, this, [this] {
        if (m_controller->runner() && m_controller->runner()->state() == RolloutState::Paused)
            m_controller->resume();
        else
            m_controller->pause(tr("paused by the operator"));
    });
    connect(m_rollBack, &QPushButton::clicked, this, [this] { m_controller->rollBack(); });
    connect(m_dismiss, &QPushButton::clicked, this, &QWidget::hide);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(8, 6, 8, 6);
    v->setSpacing(4);
    auto *top = new QHBoxLayout;
    top->addWidget(m_headline, 1);
    top->addWidget(m_pause);
    top->addWidget(m_rollBack);
    top->addWidget(m_dismiss);
    v->addLayout(top);
    v->addWidget(m_bar);
    v->addWidget(m_detail);
    hide();
}

void RolloutPanel::refresh()
{
    const rollout::RolloutRunner *runner = m_controller->runner();
    if (!runner)
        return;
    const RolloutState state = runner->state();
    m_headline->setText(QStringLiteral("<b>%1</b>").arg(m_controller->headline().toHtmlEscaped()));
    m_detail->setText(m_controller->detail());
    const int steps = int(runner->plan().steps.size());
    int passed = 0;
    for (const rollout::StepRecord &s : runner->steps())
        passed += s.verdict == rollout::Verdict::Passed ? 1 : 0;
    m_bar->setRange(0, steps);
    m_bar->setValue(passed);
    m_bar->setFormat(tr("%1 of %2 steps passed · %3 % to %4")
                         .arg(passed)
                         .arg(steps)
                         .arg(runner->currentWeight())
                         .arg(QString::fromStdString(runner->plan().canary)));
    const bool finished = runner->finished();
    m_pause->setVisible(!finished);
    m_rollBack->setVisible(!finished);
    m_dismiss->setVisible(finished);
    m_pause->setText(state == RolloutState::Paused ? tr("&Resume") : tr("&Pause"));
    m_pause->setToolTip(state == RolloutState::Paused ? tr("Hold the current step again from now")
                                                      : tr("Keep the weights where they are until resumed"));
    m_pause->setEnabled(state != RolloutState::RollingBack);
    m_rollBack->setEnabled(state != RolloutState::RollingBack);
    show();
}

QString RolloutPanel::headlineText() const { return m_controller->headline(); }
QString RolloutPanel::detailText() const { return m_detail->text(); }

}  // namespace meshscope
