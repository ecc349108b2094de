#pragma once
// Sources > Connections...: the list of what meshscope receives from and pulls from,
// each with its live state, and the certificates its TLS peers presented. Add, edit,
// test, switch off and remove sources; changes take effect at once and the saved
// ones persist in the workspace (secrets in the keychain).

#include "net/peercertificate.h"
#include "sources/sourcemanager.h"
#include "sources/sourcespec.h"

#include <QDateTime>
#include <QDialog>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;
class QTreeWidget;
QT_END_NAMESPACE

namespace meshscope {

// A source's colour in the status bar and the list: green when listening or
// connected, amber while connecting or retrying or when its server certificate
// expires within PeerCertificate::kExpiresSoonDays, red when failed or expired.
QString sourceColor(const SourceManager::Status &status, const QDateTime &now);

// Certificate details as an HTML table: subject, issuer, SANs, SPIFFE id, validity,
// with the expiry warned about (amber under PeerCertificate::kExpiresSoonDays days,
// red once expired).
QString certificateDetailsHtml(const PeerCertificate &certificate, const QDateTime &now);

// Edits one spec; Test tries it through the manager without adding it.
class SourceEditorDialog : public QDialog {
    Q_OBJECT
public:
    SourceEditorDialog(SourceManager *manager, const SourceSpec &spec, QWidget *parent = nullptr);

    SourceSpec spec() const;  // what the form says now
    void test();  // as the Test button
    QString testResult() const;  // the latest answer, as plain text ("" before one)
    bool testing() const { return m_testing; }

    void accept() override;  // upserts; stays open with the reason when refused

Q_SIGNALS:
    void testFinished(bool ok);

private:
    QLineEdit *fileField(QFormLayout *form, const QString &label, const QString &objectName, const QString &filter);
    void updateVisibility();

    SourceManager *m_manager;
    SourceSpec m_spec;
    bool m_testing = false;

    QLineEdit *m_name;
    QLineEdit *m_address;
    QCheckBox *m_enabled;
    QSpinBox *m_pollSeconds;
    QComboBox *m_mesh = nullptr;
    QSpinBox *m_window = nullptr;
    QLineEdit *m_selector = nullptr;
    QComboBox *m_auth = nullptr;
    QLineEdit *m_username = nullptr;
    QLineEdit *m_secret = nullptr;
    QLineEdit *m_proxyName = nullptr;
    QCheckBox *m_requestIdTraces = nullptr;  // Envoy access logs only
    QLineEdit *m_caFile = nullptr;
    QLineEdit *m_certFile = nullptr;
    QLineEdit *m_keyFile = nullptr;
    QCheckBox *m_skipVerify = nullptr;
    QLineEdit *m_serverCert = nullptr;
    QLineEdit *m_serverKey = nullptr;
    QLineEdit *m_clientCa = nullptr;
    QCheckBox *m_requireClientCert = nullptr;
    QPushButton *m_testButton;
    QTextBrowser *m_result;
    QString m_resultText;
    QLabel *m_error;
};

class ConnectionsDialog : public QDialog {
    Q_OBJECT
public:
    explicit ConnectionsDialog(SourceManager *manager, QWidget *parent = nullptr);

    QTreeWidget *list() const { return m_list; }
    QTextBrowser *details() const { return m_details; }
    void selectSource(const QString &id);
    QString selectedId() const;
    // Opens the editor for a new source of `kind` (or the selected one); returns it
    // non-modal so tests and the caller can drive it. The dialog deletes itself on close.
    SourceEditorDialog *addSource(SourceSpec::Kind kind);
    SourceEditorDialog *editSelected();
    void removeSelected();

private:
    void refresh();
    void refreshDetails();

    SourceManager *m_manager;
    QTreeWidget *m_list;
    QTextBrowser *m_details;
    QPushButton *m_edit;
    QPushButton *m_remove;
    QPushButton *m_toggle;
};

}  // namespace meshscope
