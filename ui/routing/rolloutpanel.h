#pragma once
// A rollout's progress under the route editor's buttons: where it stands (step, share),
// what the canary's gate reads now, a bar of the steps, and Pause / Resume / Roll back;
// once it ends, its result until dismissed.

#include <QFrame>

class QLabel;
class QProgressBar;
class QPushButton;

namespace meshscope {

class RolloutController;

class RolloutPanel : public QFrame {
    Q_OBJECT
public:
    explicit RolloutPanel(RolloutController *controller, QWidget *parent = nullptr);

    void refresh();
    QString headlineText() const;
    QString detailText() const;
    QPushButton *pauseButton() const { return m_pause; }
    QPushButton *rollBackButton() const { return m_rollBack; }
    QPushButton *dismissButton() const { return m_dismiss; }
    QProgressBar *progressBar() const { return m_bar; }

private:
    RolloutController *m_controller;
    QLabel *m_headline;
    QLabel *m_detail;
    QProgressBar *m_bar;
    QPushButton *m_pause;
    QPushButton *m_rollBack;
    QPushButton *m_dismiss;
};

}  // namespace meshscope
