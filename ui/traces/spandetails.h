#pragma once
// The details pane beside the waterfall: everything known about the selected span —
// identity, kind, status and its message, timing (start offset, duration, self and
// critical time), ids, the clock-skew shift and the repairs the tree made (orphan,
// cycle, duplicate id) — then its span and resource attributes as a key/value tree.

#include <QWidget>

#include <array>
#include <cstdint>

QT_BEGIN_NAMESPACE
class QFormLayout;
class QLabel;
class QPushButton;
class QTreeWidget;
QT_END_NAMESPACE

namespace meshscope {

struct WaterfallTrace;

class SpanDetails : public QWidget {
    Q_OBJECT
public:
    enum Field {
        Service,
        Operation,
        Kind,
        Status,
        StatusMessage,
        Request,
        Start,
        Duration,
        SelfTime,
        CriticalTime,
        Depth,
        SpanId,
        ParentId,
        ClockSkew,
        Flags,
        FieldCount
    };

    explicit SpanDetails(QWidget *parent = nullptr);

    void showSpan(const WaterfallTrace &trace, uint32_t span);
    void clear();

    // What a field shows ("" when the row is hidden because it does not apply).
    QString fieldText(Field field) const;
    bool isFieldShown(Field field) const;
    QTreeWidget *attributesTree() const { return m_attributes; }
    QPushButton *openInGraphButton() const { return m_openInGraph; }

Q_SIGNALS:
    void openInGraphRequested();

private:
    void setField(Field field, const QString &text);

    QLabel *m_title = nullptr;
    QLabel *m_placeholder = nullptr;
    QWidget *m_body = nullptr;
    QFormLayout *m_form = nullptr;
    std::array<QLabel *, FieldCount> m_values {};
    QTreeWidget *m_attributes = nullptr;
    QPushButton *m_openInGraph = nullptr;
};

}  // namespace meshscope
