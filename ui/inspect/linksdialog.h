#pragma once
// Sources > Links to Grafana and Jaeger...: the workspace's two URL templates, the
// Grafana one behind the inspect panel's "Open in Grafana" and the trace one behind
// the requests table's "Open trace in Jaeger/Tempo". Each field says what is wrong
// with it as it is typed (LinkTemplate::validate); Save is refused until both are
// fine or empty.

#include "telemetry/linktemplates.h"

#include <QDialog>

QT_BEGIN_NAMESPACE
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSettings;
QT_END_NAMESPACE

namespace meshscope {

// QSettings layout: workspaces/<workspace>/links/{grafana,trace}.
LinkTemplates loadLinkTemplates(QSettings &settings, const QString &workspace);
void saveLinkTemplates(QSettings &settings, const QString &workspace, const LinkTemplates &links);

class LinksDialog : public QDialog {
    Q_OBJECT
public:
    explicit LinksDialog(const LinkTemplates &current, QWidget *parent = nullptr);

    LinkTemplates templates() const;  // what the fields say now, trimmed
    QLineEdit *grafanaField() const { return m_grafana; }
    QLineEdit *traceField() const { return m_trace; }
    // The reasons shown under the fields ("" when fine).
    QString grafanaError() const;
    QString traceError() const;

    void accept() override;  // emits templatesAccepted and closes, or stays while a field is wrong

Q_SIGNALS:
    void templatesAccepted(const meshscope::LinkTemplates &links);

private:
    void recheck();

    QLineEdit *m_grafana;
    QLineEdit *m_trace;
    QLabel *m_grafanaError;
    QLabel *m_traceError;
    QDialogButtonBox *m_buttons;
};

}  // namespace meshscope
