#pragma once
// "Roll out…": the plan for one weighted rule. Which backend takes the traffic, the
// steps (its share at each), how long each is held, the gates a step must pass and
// what a broken gate does. Checked as it is typed (the plan, and every step's routes
// for the data plane), Start enabled only when it can run; the choices are kept for
// the next rollout.

#include "rollout/rolloutplan.h"
#include "routing/routevalidator.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace meshscope {

class RolloutDialog : public QDialog {
    Q_OBJECT
public:
    RolloutDialog(
        const routing::RouteSet &applied, int route, int rule, routing::DataPlane plane, QWidget *parent = nullptr);

    // The plan as the form says; problems() empty when it can run.
    rollout::RolloutPlan plan() const;
    QStringList problems() const { return m_problems; }

    QComboBox *canaryBox() const { return m_canary; }
    QLineEdit *stepsEdit() const { return m_steps; }
    QLineEdit *holdEdit() const { return m_hold; }
    QDoubleSpinBox *maxErrorRateBox() const { return m_maxErrorRate; }
    QCheckBox *maxErrorRateCheck() const { return m_useErrorRate; }
    QSpinBox *minRequestsBox() const { return m_minRequests; }
    QComboBox *onFailureBox() const { return m_onFailure; }
    QPushButton *startButton() const { return m_start; }

    void accept() override;  // keeps the choices

private:
    void check();

    routing::RouteSet m_applied;
    routing::DataPlane m_plane;
    std::string m_routeNs, m_routeName;
    int m_rule;
    QStringList m_problems;
    QComboBox *m_canary;
    QLineEdit *m_steps;
    QLineEdit *m_hold;
    QCheckBox *m_useErrorRate;
    QDoubleSpinBox *m_maxErrorRate;
    QCheckBox *m_useP95;
    QDoubleSpinBox *m_maxP95;
    QCheckBox *m_useP99;
    QDoubleSpinBox *m_maxP99;
    QSpinBox *m_minRequests;
    QComboBox *m_onFailure;
    QLabel *m_problemsLabel;
    QPushButton *m_start;
};

}  // namespace meshscope
