#include "sources/connectionsdialog.h"

#include "displayformat.h"
#include "sources/sourcemanager.h"

#include <QCheckBox>
#include <QColor>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace meshscope {

namespace {

const char *const kGood = "#3fb950";
const char *const kWarn = "#d29922";
const char *const kBad = "#f85149";
const char *const kDim = "#8b949e";

QString row(const QString &label, const QString &value)
{
    return QStringLiteral("<tr><td style='color:%1; padding-right:10px'>%2</td><td>%3</td></tr>")
        .arg(QString::fromLatin1(kDim), label, value);
}

}  // namespace

QString sourceColor(const SourceManager::Status &status, const QDateTime &now)
{
    const PeerCertificate &c = status.serverCertificate;
    if (!c.isNull() && status.state != SourceManager::State::Disabled) {
        if (c.expired(now) || c.notYetValid(now))
            return QString::fromLatin1(kBad);
        if (c.expiresSoon(now))
            return QString::fromLatin1(kWarn);
    }
    switch (status.state) {
    case SourceManager::State::Listening:
    case SourceManager::State::Connected: return QString::fromLatin1(kGood);
    case SourceManager::State::Connecting:
    case SourceManager::State::Waiting:
    case SourceManager::State::Retrying: return QString::fromLatin1(kWarn);
    case SourceManager::State::Failed: return QString::fromLatin1(kBad);
    case SourceManager::State::Disabled: break;
    }
    return QString::fromLatin1(kDim);
}

QString certificateDetailsHtml(const PeerCertificate &c, const QDateTime &now)
{
    if (c.isNull())
        return {};
    QString html = QStringLiteral("<table cellspacing='0'>");
    html += row(QObject::tr("Subject"), c.subject.toHtmlEscaped());
    html += row(QObject::tr("Issuer"), c.issuer.toHtmlEscaped());
    if (!c.spiffeId().isEmpty())
        html += row(QObject::tr("SPIFFE ID"), c.spiffeId().toHtmlEscaped());
    if (!c.sanText().isEmpty())
        html += row(QObject::tr("Names"), c.sanText().toHtmlEscaped());
    const QString until = c.notAfter.toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
    const qint64 days = c.daysLeft(now);
    QString validity;
    if (c.expired(now))
        validity = QStringLiteral("<span style='color:%1; font-weight:bold'>%2</span>")
                       .arg(QString::fromLatin1(kBad), QObject::tr("expired on %1").arg(until));
    else if (c.notYetValid(now))
        validity = QStringLiteral("<span style='color:%1; font-weight:bold'>%2</span>")
                       .arg(QString::fromLatin1(kBad),
                           QObject::tr("not valid before %1")
                               .arg(c.notBefore.toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))));
    else if (c.expiresSoon(now))
        validity = QStringLiteral("<span style='color:%1; font-weight:bold'>%2</span>")
                       .arg(QString::fromLatin1(kWarn),
                           QObject::tr("expires %1: %2 left, renew it")
                               .arg(until, display::quantity(days, QObject::tr("day"), QObject::tr("days"))));
    else
        validity = QObject::tr("until %1 (%2 left)")
                       .arg(until, display::quantity(days, QObject::tr("day"), QObject::tr("days")));
    html += row(QObject::tr("Valid"), validity);
    html += row(QObject::tr("SHA-256"),
        QStringLiteral("<span style='font-family:monospace'>%1</span>")
            .arg(c.sha256Fingerprint.left(47) + QStringLiteral("…")));
    html += QStringLiteral("</table>");
    return html;
}

// --- editor ------------------------------------------------------------------------

SourceEditorDialog::SourceEditorDialog(SourceManager *manager, const SourceSpec &spec, QWidget *parent)
    : QDialog(parent)
    , m_manager(manager)
    , m_spec(spec)
{
    setObjectName(QStringLiteral("sourceEditor"));
    const bool isNew = !manager->contains(spec.id);
    setWindowTitle(isNew ? tr("Add %1").arg(SourceSpec::kindLabel(spec.kind)) : tr("Edit %1").arg(spec.displayName()));
    auto *layout = new QVBoxLayout(this);

    auto *general = new QGroupBox(SourceSpec::kindLabel(spec.kind), this);
    auto *form = new QFormLayout(general);
    m_name = new QLineEdit(spec.name, general);
    m_name->setObjectName(QStringLiteral("name"));
    m_name->setPlaceholderText(tr("optional, e.g. \"prod east\""));
    form->addRow(tr("Name"), m_name);
    m_address = new QLineEdit(spec.address, general);
    m_address->setObjectName(QStringLiteral("address"));
    m_address->setPlaceholderText(SourceSpec::defaultAddress(spec.kind));
    form->addRow(spec.isReceiver() ? tr("Listen on") : tr("URL"), m_address);
    m_enabled = new QCheckBox(tr("Enabled"), general);
    m_enabled->setObjectName(QStringLiteral("enabled"));
    m_enabled->setChecked(spec.enabled);
    form->addRow(QString(), m_enabled);
    m_pollSeconds = new QSpinBox(general);
    m_pollSeconds->setObjectName(QStringLiteral("pollSeconds"));
    m_pollSeconds->setRange(0, 3600);
    m_pollSeconds->setSuffix(tr(" s"));
    m_pollSeconds->setSpecialValueText(tr("default"));
    m_pollSeconds->setValue(spec.pollIntervalMs / 1000);
    if (!spec.isReceiver())
        form->addRow(tr("Poll every"), m_pollSeconds);
    else
        m_pollSeconds->hide();

    if (spec.kind == SourceSpec::Kind::Prometheus) {
        m_mesh = new QComboBox(general);
        m_mesh->setObjectName(QStringLiteral("mesh"));
        m_mesh->addItem(tr("Istio and Linkerd (ask for both)"), int(MeshKind::Auto));
        m_mesh->addItem(tr("Istio"), int(MeshKind::Istio));
        m_mesh->addItem(tr("Linkerd"), int(MeshKind::Linkerd));
        m_mesh->setCurrentIndex(m_mesh->findData(int(spec.mesh)));
        form->addRow(tr("Metrics"), m_mesh);
        m_window = new QSpinBox(general);
        m_window->setObjectName(QStringLiteral("window"));
        m_window->setRange(1, 86400);
        m_window->setSuffix(tr(" s"));
        m_window->setValue(spec.windowSeconds);
        form->addRow(tr("Rate window"), m_window);
        m_selector = new QLineEdit(spec.selector, general);
        m_selector->setObjectName(QStringLiteral("selector"));
        m_selector->setPlaceholderText(QStringLiteral("cluster=\"east\""));
        form->addRow(tr("Label matchers"), m_selector);
        m_auth = new QComboBox(general);
        m_auth->setObjectName(QStringLiteral("auth"));
        m_auth->addItem(tr("None"), int(SourceSpec::Auth::None));
        m_auth->addItem(tr("Bearer token"), int(SourceSpec::Auth::Bearer));
        m_auth->addItem(tr("Basic (user and password)"), int(SourceSpec::Auth::Basic));
        m_auth->setCurrentIndex(m_auth->findData(int(spec.auth)));
        form->addRow(tr("Authentication"), m_auth);
        m_username = new QLineEdit(spec.username, general);
        m_username->setObjectName(QStringLiteral("username"));
        form->addRow(tr("User"), m_username);
        m_secret = new QLineEdit(spec.secret, general);
        m_secret->setObjectName(QStringLiteral("secret"));
        m_secret->setEchoMode(QLineEdit::Password);
        m_secret->setPlaceholderText(tr("kept in the desktop keychain"));
        form->addRow(tr("Token / password"), m_secret);
        connect(m_auth, &QComboBox::currentIndexChanged, this, &SourceEditorDialog::updateVisibility);
    } else if (spec.kind == SourceSpec::Kind::EnvoyAdmin) {
        m_proxyName = new QLineEdit(spec.proxyName, general);
        m_proxyName->setObjectName(QStringLiteral("proxyName"));
        m_proxyName->setPlaceholderText(tr("from /server_info, e.g. istio-system/istio-ingressgateway"));
        form->addRow(tr("Proxy name"), m_proxyName);
    } else if (spec.kind == SourceSpec::Kind::AlsReceiver) {
        m_requestIdTraces
            = new QCheckBox(tr("Use x-request-id as the trace id when an entry has no trace context"), general);
        m_requestIdTraces->setObjectName(QStringLiteral("requestIdTraces"));
        m_requestIdTraces->setToolTip(
            tr("An entry whose logged request headers carry traceparent, b3 or x-b3-* always becomes a span. "
               "Without them, the x-request-id Envoy sets per request (a UUID; Istio's sidecars do the same) "
               "can stand for the trace id. The entries of one call chain join one trace, without parent "
               "links, when the services pass the header on to their own calls, as Istio asks them to; "
               "otherwise each hop becomes a trace of its own."));
        m_requestIdTraces->setChecked(spec.requestIdTraces);
        form->addRow(QString(), m_requestIdTraces);
    }
    layout->addWidget(general);

    auto *tls = new QGroupBox(tr("TLS"), this);
    auto *tlsForm = new QFormLayout(tls);
    const QString pem = tr("PEM files (*.pem *.crt *.key);;All files (*)");
    if (spec.isReceiver()) {
        m_serverCert = fileField(tlsForm, tr("Certificate"), QStringLiteral("serverCert"), pem);
        m_serverCert->setText(spec.tlsServer.certFile);
        m_serverCert->setPlaceholderText(tr("empty: plaintext"));
        m_serverKey = fileField(tlsForm, tr("Private key"), QStringLiteral("serverKey"), pem);
        m_serverKey->setText(spec.tlsServer.keyFile);
        m_clientCa = fileField(tlsForm, tr("Client CA"), QStringLiteral("clientCa"), pem);
        m_clientCa->setText(spec.tlsServer.clientCaFile);
        m_clientCa->setPlaceholderText(tr("verify client certificates against this CA"));
        m_requireClientCert = new QCheckBox(tr("Require a client certificate (mTLS)"), tls);
        m_requireClientCert->setObjectName(QStringLiteral("requireClientCert"));
        m_requireClientCert->setChecked(spec.tlsServer.requireClientCert);
        tlsForm->addRow(QString(), m_requireClientCert);
    } else {
        m_caFile = fileField(tlsForm, tr("CA"), QStringLiteral("caFile"), pem);
        m_caFile->setText(spec.tlsClient.caFile);
        m_caFile->setPlaceholderText(tr("empty: the system's CAs"));
        m_certFile = fileField(tlsForm, tr("Client certificate"), QStringLiteral("certFile"), pem);
        m_certFile->setText(spec.tlsClient.certFile);
        m_certFile->setPlaceholderText(tr("for servers that require mTLS"));
        m_keyFile = fileField(tlsForm, tr("Client key"), QStringLiteral("keyFile"), pem);
        m_keyFile->setText(spec.tlsClient.keyFile);
        m_skipVerify = new QCheckBox(tr("Do not verify the server's certificate (insecure)"), tls);
        m_skipVerify->setObjectName(QStringLiteral("skipVerify"));
        m_skipVerify->setChecked(spec.tlsClient.insecureSkipVerify);
        tlsForm->addRow(QString(), m_skipVerify);
    }
    layout->addWidget(tls);

    auto *testRow = new QHBoxLayout;
    m_testButton = new QPushButton(spec.isReceiver() ? tr("Test (bind)") : tr("Test connection"), this);
    m_testButton->setObjectName(QStringLiteral("testButton"));
    connect(m_testButton, &QPushButton::clicked, this, &SourceEditorDialog::test);
    testRow->addWidget(m_testButton);
    testRow->addStretch(1);
    layout->addLayout(testRow);
    m_result = new QTextBrowser(this);
    m_result->setObjectName(QStringLiteral("testResult"));
    m_result->setMinimumHeight(110);
    m_result->setPlaceholderText(tr("Test tries these settings without changing what runs."));
    layout->addWidget(m_result, 1);

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("QLabel { color: %1; }").arg(QString::fromLatin1(kBad)));
    m_error->hide();
    layout->addWidget(m_error);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    buttons->setObjectName(QStringLiteral("buttons"));
    if (spec.fromCommandLine)
        buttons->button(QDialogButtonBox::Save)->setText(tr("Apply for this session"));
    connect(buttons, &QDialogButtonBox::accepted, this, &SourceEditorDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SourceEditorDialog::reject);
    layout->addWidget(buttons);
    updateVisibility();
    resize(560, sizeHint().height());
}

QLineEdit *SourceEditorDialog::fileField(
    QFormLayout *form, const QString &label, const QString &objectName, const QString &filter)
{
    auto *row = new QWidget(form->parentWidget());
    auto *h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto *edit = new QLineEdit(row);
    edit->setObjectName(objectName);
    auto *browse = new QToolButton(row);
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(tr("Choose a file"));
    connect(browse, &QToolButton::clicked, this, [this, edit, label, filter] {
        const QString f = QFileDialog::getOpenFileName(this, label, edit->text(), filter);
        if (!f.isEmpty())
            edit->setText(f);
    });
    h->addWidget(edit, 1);
    h->addWidget(browse);
    form->addRow(label, row);
    return edit;
}

void SourceEditorDialog::updateVisibility()
{
    if (!m_auth)
        return;
    const auto auth = SourceSpec::Auth(m_auth->currentData().toInt());
    m_username->setEnabled(auth == SourceSpec::Auth::Basic);
    m_secret->setEnabled(auth != SourceSpec::Auth::None);
}

SourceSpec SourceEditorDialog::spec() const
{
    SourceSpec s = m_spec;
    s.name = m_name->text().trimmed();
    s.address = m_address->text().trimmed();
    s.enabled = m_enabled->isChecked();
    s.pollIntervalMs = m_pollSeconds->value() * 1000;
    if (m_mesh) {
        s.mesh = MeshKind(m_mesh->currentData().toInt());
        s.windowSeconds = m_window->value();
        s.selector = m_selector->text().trimmed();
        s.auth = SourceSpec::Auth(m_auth->currentData().toInt());
        s.username = s.auth == SourceSpec::Auth::Basic ? m_username->text().trimmed() : QString();
        s.secret = s.auth == SourceSpec::Auth::None ? QString() : m_secret->text();
    }
    if (m_proxyName)
        s.proxyName = m_proxyName->text().trimmed();
    if (m_requestIdTraces)
        s.requestIdTraces = m_requestIdTraces->isChecked();
    if (s.isReceiver()) {
        s.tlsServer.certFile = m_serverCert->text().trimmed();
        s.tlsServer.keyFile = m_serverKey->text().trimmed();
        s.tlsServer.clientCaFile = m_clientCa->text().trimmed();
        s.tlsServer.requireClientCert = m_requireClientCert->isChecked();
    } else {
        s.tlsClient.caFile = m_caFile->text().trimmed();
        s.tlsClient.certFile = m_certFile->text().trimmed();
        s.tlsClient.keyFile = m_keyFile->text().trimmed();
        s.tlsClient.insecureSkipVerify = m_skipVerify->isChecked();
    }
    return s;
}

void SourceEditorDialog::test()
{
    if (m_testing)
        return;
    m_testing = true;
    m_testButton->setEnabled(false);
    m_result->setHtml(tr("<i>Testing %1 …</i>").arg(spec().address.toHtmlEscaped()));
    QPointer<SourceEditorDialog> self(this);
    m_manager->test(spec(), [self](const SourceManager::TestResult &r) {
        if (!self)
            return;
        self->m_testing = false;
        self->m_testButton->setEnabled(true);
        const QString color = QString::fromLatin1(r.ok ? kGood : kBad);
        QString html = QStringLiteral("<p style='color:%1; font-weight:bold'>%2</p><p>%3</p>")
                           .arg(color, r.ok ? tr("OK") : tr("Failed"), r.message.toHtmlEscaped());
        self->m_resultText = (r.ok ? QStringLiteral("OK: ") : QStringLiteral("Failed: ")) + r.message;
        if (!r.certificate.isNull()) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            html += QStringLiteral("<p><b>%1</b></p>").arg(tr("Server certificate"))
                + certificateDetailsHtml(r.certificate, now);
            self->m_resultText += QStringLiteral("\n") + r.certificate.summary(now);
        }
        self->m_result->setHtml(html);
        Q_EMIT self->testFinished(r.ok);
    });
}

QString SourceEditorDialog::testResult() const { return m_resultText; }

void SourceEditorDialog::accept()
{
    const QString error = m_manager->upsert(spec());
    if (!error.isEmpty()) {
        m_error->setText(error);
        m_error->show();
        return;
    }
    QDialog::accept();
}

// --- the list ----------------------------------------------------------------------

ConnectionsDialog::ConnectionsDialog(SourceManager *manager, QWidget *parent)
    : QDialog(parent)
    , m_manager(manager)
{
    setObjectName(QStringLiteral("connectionsDialog"));
    setWindowTitle(tr("Connections"));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("What meshscope listens on and pulls from. Changes apply at once; sources from the "
                                "command line run for this session only."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    m_list = new QTreeWidget(splitter);
    m_list->setObjectName(QStringLiteral("sourceList"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("Source"), tr("Kind"), tr("Address"), tr("State")});
    m_list->header()->setStretchLastSection(true);
    m_details = new QTextBrowser(splitter);
    m_details->setObjectName(QStringLiteral("sourceDetails"));
    splitter->addWidget(m_list);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    layout->addWidget(splitter, 1);

    auto *buttons = new QHBoxLayout;
    auto *add = new QToolButton(this);
    add->setObjectName(QStringLiteral("addSource"));
    add->setText(tr("Add"));
    add->setPopupMode(QToolButton::InstantPopup);
    auto *addMenu = new QMenu(add);
    for (SourceSpec::Kind kind : {SourceSpec::Kind::Prometheus, SourceSpec::Kind::EnvoyAdmin,
             SourceSpec::Kind::OtlpReceiver, SourceSpec::Kind::AlsReceiver}) {
        addMenu->addAction(
            SourceSpec::kindLabel(kind) + QStringLiteral("…"), this, [this, kind] { addSource(kind)->open(); });
    }
    add->setMenu(addMenu);
    buttons->addWidget(add);
    m_edit = new QPushButton(tr("Edit…"), this);
    m_edit->setObjectName(QStringLiteral("editSource"));
    connect(m_edit, &QPushButton::clicked, this, [this] {
        if (SourceEditorDialog *d = editSelected())
            d->open();
    });
    buttons->addWidget(m_edit);
    m_toggle = new QPushButton(tr("Switch off"), this);
    m_toggle->setObjectName(QStringLiteral("toggleSource"));
    connect(m_toggle, &QPushButton::clicked, this, [this] {
        const QString id = selectedId();
        if (!id.isEmpty())
            m_manager->setEnabled(id, !m_manager->spec(id).enabled);
    });
    buttons->addWidget(m_toggle);
    m_remove = new QPushButton(tr("Remove"), this);
    m_remove->setObjectName(QStringLiteral("removeSource"));
    connect(m_remove, &QPushButton::clicked, this, [this] {
        const QString id = selectedId();
        if (id.isEmpty())
            return;
        if (QMessageBox::question(this, tr("Remove source"),
                tr("Remove %1? Its saved settings and keychain entry go too.").arg(m_manager->spec(id).displayName()))
            == QMessageBox::Yes)
            removeSelected();
    });
    buttons->addWidget(m_remove);
    buttons->addStretch(1);
    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    buttons->addWidget(close);
    layout->addLayout(buttons);

    connect(m_list, &QTreeWidget::currentItemChanged, this, &ConnectionsDialog::refreshDetails);
    connect(m_list, &QTreeWidget::itemDoubleClicked, this, [this] {
        if (SourceEditorDialog *d = editSelected())
            d->open();
    });
    connect(manager, &SourceManager::sourcesChanged, this, &ConnectionsDialog::refresh);
    connect(manager, &SourceManager::statusChanged, this, &ConnectionsDialog::refresh);
    // A retrying source's countdown ticks; nothing else here changes between signals.
    auto *tick = new QTimer(this);
    tick->setInterval(1000);
    connect(tick, &QTimer::timeout, this, [this] {
        const QString id = selectedId();
        if (isVisible() && !id.isEmpty() && m_manager->status(id).state == SourceManager::State::Retrying)
            refreshDetails();
    });
    tick->start();
    refresh();
    if (m_list->topLevelItemCount() > 0)
        m_list->setCurrentItem(m_list->topLevelItem(0));
    resize(760, 520);
}

void ConnectionsDialog::refresh()
{
    const QString keep = selectedId();
    const QList<SourceSpec> specs = m_manager->specs();
    m_list->clear();
    for (const SourceSpec &s : specs) {
        const SourceManager::Status st = m_manager->status(s.id);
        QString address = s.address;
        if (!st.boundAddress.isEmpty() && st.boundAddress != s.address)
            address += QStringLiteral(" → ") + st.boundAddress;
        auto *item = new QTreeWidgetItem(m_list,
            {s.displayName() + (s.fromCommandLine ? tr(" (command line)") : QString()), SourceSpec::kindLabel(s.kind),
                address, QString::fromLatin1(SourceManager::stateName(st.state))});
        item->setData(0, Qt::UserRole, s.id);
        item->setForeground(3, QColor(sourceColor(st, QDateTime::currentDateTimeUtc())));
        // A tooltip is read later than it is written: the next attempt as a clock time.
        item->setToolTip(3,
            st.nextRetryAt.isValid()
                ? tr("%1; next attempt at %2").arg(st.message, st.nextRetryAt.toString(QStringLiteral("HH:mm:ss")))
                : st.message);
        const bool tls = s.isReceiver() ? s.tlsServer.enabled() : s.address.startsWith(QLatin1String("https:"));
        if (tls)
            item->setText(1, item->text(1) + QStringLiteral(" · TLS"));
        if (s.id == keep)
            m_list->setCurrentItem(item);
    }
    for (int c = 0; c < 3; ++c)
        m_list->resizeColumnToContents(c);
    refreshDetails();
}

void ConnectionsDialog::refreshDetails()
{
    const QString id = selectedId();
    m_edit->setEnabled(!id.isEmpty());
    m_remove->setEnabled(!id.isEmpty());
    m_toggle->setEnabled(!id.isEmpty());
    if (id.isEmpty()) {
        m_details->setHtml(
            tr("<p style='color:%1'>No source selected. Add one with <b>Add</b>.</p>").arg(QString::fromLatin1(kDim)));
        return;
    }
    const SourceSpec s = m_manager->spec(id);
    const SourceManager::Status st = m_manager->status(id);
    m_toggle->setText(s.enabled ? tr("Switch off") : tr("Switch on"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QString html
        = QStringLiteral("<p><b>%1</b> &nbsp;<span style='color:%2'>%3</span></p><p>%4</p>")
              .arg(s.displayName().toHtmlEscaped(), sourceColor(st, QDateTime::currentDateTimeUtc()),
                  QString::fromLatin1(SourceManager::stateName(st.state)), m_manager->stateLine(id).toHtmlEscaped());
    if (s.kind == SourceSpec::Kind::AlsReceiver)
        html += QStringLiteral("<p>%1</p>")
                    .arg(s.requestIdTraces
                            ? tr("Entries without a trace context join traces by their x-request-id.")
                            : tr("Entries become spans only with a traceparent, b3 or x-b3-* header (x-request-id "
                                 "is not used)."));
    if (!st.serverCertificate.isNull())
        html += QStringLiteral("<p><b>%1</b></p>").arg(tr("Server certificate"))
            + certificateDetailsHtml(st.serverCertificate, now);
    if (s.isReceiver() && s.tlsServer.enabled()) {
        const std::vector<TlsPeer> peers = m_manager->tlsPeers(id);
        html += QStringLiteral("<p><b>%1</b></p>").arg(tr("Clients seen (%1)").arg(peers.size()));
        if (peers.empty())
            html += QStringLiteral("<p style='color:%1'>%2</p>")
                        .arg(QString::fromLatin1(kDim), tr("No client has connected with a certificate yet."));
        for (const TlsPeer &p : peers) {
            html += QStringLiteral("<p>%1 — %2 calls, last %3</p>")
                        .arg(QString::fromStdString(p.address).toHtmlEscaped())
                        .arg(p.calls)
                        .arg(p.lastSeen.toString(QStringLiteral("HH:mm:ss")))
                + certificateDetailsHtml(p.certificate, now);
        }
    }
    m_details->setHtml(html);
}

QString ConnectionsDialog::selectedId() const
{
    const QTreeWidgetItem *item = m_list->currentItem();
    return item ? item->data(0, Qt::UserRole).toString() : QString();
}

void ConnectionsDialog::selectSource(const QString &id)
{
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        if (m_list->topLevelItem(i)->data(0, Qt::UserRole).toString() == id) {
            m_list->setCurrentItem(m_list->topLevelItem(i));
            return;
        }
    }
}

SourceEditorDialog *ConnectionsDialog::addSource(SourceSpec::Kind kind)
{
    SourceSpec spec;
    spec.id = SourceSpec::newId();
    spec.kind = kind;
    spec.address = SourceSpec::defaultAddress(kind);
    auto *dialog = new SourceEditorDialog(m_manager, spec, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, id = spec.id] { selectSource(id); });
    return dialog;
}

SourceEditorDialog *ConnectionsDialog::editSelected()
{
    const QString id = selectedId();
    if (id.isEmpty())
        return nullptr;
    auto *dialog = new SourceEditorDialog(m_manager, m_manager->spec(id), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    return dialog;
}

void ConnectionsDialog::removeSelected()
{
    const QString id = selectedId();
    if (!id.isEmpty())
        m_manager->remove(id);
}

}  // namespace meshscope
