#pragma once
// The backends of one route rule: one row per backend with its service, port and a
// weight slider plus spin box, and the share of traffic the weights give it. Below,
// "Shift traffic" moves the split between two backends while keeping their combined
// weight, which is how a canary is promoted step by step (the second backend may be
// a known service not yet in the rule; it is added when traffic first moves to it).

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <QStringList>
#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QGridLayout;
class QLabel;
class QSlider;
class QSpinBox;
class QToolButton;
QT_END_NAMESPACE

namespace meshscope {

class BackendWeightsEditor : public QWidget {
    Q_OBJECT
public:
    explicit BackendWeightsEditor(QWidget *parent = nullptr);

    // `knownServices` are the service names a backend can name (EndpointSlices'
    // service names and every backend in the set), offered in the name boxes.
    void setBackends(const std::vector<routing::BackendRef> &backends, const QStringList &knownServices);
    const std::vector<routing::BackendRef> &backends() const { return m_backends; }
    int count() const { return int(m_backends.size()); }

    QSlider *slider(int row) const;
    QSpinBox *weightSpin(int row) const;
    QComboBox *nameBox(int row) const;
    QString percentText(int row) const;  // "61.5 %"

    // Shift traffic: the two backends (rows of the rule; `to` may also name a service
    // not yet in the rule) and the share of their combined weight the second gets.
    bool setShiftPair(const QString &from, const QString &to);
    QString shiftFrom() const;
    QString shiftTo() const;
    void shiftToPercent(int percent);
    QSlider *shiftSlider() const { return m_shiftSlider; }
    void focusShift();
    void focusBackend(int row);

    // Issues whose field is "backendRefs..." (relative to the rule).
    void setIssues(const std::vector<routing::RouteIssue> &issues);

public Q_SLOTS:
    void addBackend(const QString &name = {});
    void removeBackend(int row);

Q_SIGNALS:
    // The user changed a name, port or weight; backends() holds the result.
    void changed();

private:
    struct Row {
        QComboBox *name = nullptr;
        QSpinBox *port = nullptr;
        QSlider *slider = nullptr;
        QSpinBox *weight = nullptr;
        QLabel *percent = nullptr;
        QToolButton *remove = nullptr;
    };
    void rebuildRows();
    void setWeight(int row, int weight);
    void refreshPercentages();
    void refreshShiftChoices();
    void refreshShiftSlider();
    int rowOf(const QString &name) const;
    int sliderMaximum() const;

    std::vector<routing::BackendRef> m_backends;
    QStringList m_known;
    std::vector<Row> m_rows;
    std::vector<routing::RouteIssue> m_issues;
    bool m_updating = false;
    int m_sliderMax = 100;

    QGridLayout *m_grid;
    QWidget *m_rowsHost;
    QToolButton *m_add;
    QWidget *m_shiftBox;
    QComboBox *m_shiftFrom;
    QComboBox *m_shiftTo;
    QSlider *m_shiftSlider;
    QLabel *m_shiftFromPct;
    QLabel *m_shiftToPct;
    QLabel *m_issueLabel;
};

}  // namespace meshscope
