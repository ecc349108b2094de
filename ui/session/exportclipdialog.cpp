#include "session/exportclipdialog.h"

#include "displayformat.h"
#include "session/clipexport.h"
#include "session/recordingreader.h"

#include <QDateTime>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

const QString kTimeFormat = QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz");

QDateTime utc(int64_t ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC); }

QString utcText(int64_t ms) { return utc(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")); }

QDateTimeEdit *timeEdit(const QString &name, QWidget *parent)
{
    auto *edit = new QDateTimeEdit(parent);
    edit->setObjectName(name);
    edit->setTimeSpec(Qt::UTC);
    edit->setDisplayFormat(kTimeFormat);
    edit->setCalendarPopup(false);
    return edit;
}

}  // namespace

ExportClipDialog *ExportClipDialog::run(
    QWidget *parent, const QString &recordingPath, int64_t startMs, int64_t endMs, int64_t selFromMs, int64_t selToMs)
{
    auto *dialog = new ExportClipDialog(recordingPath, startMs, endMs, selFromMs, selToMs, parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
    return dialog;
}

ExportClipDialog::ExportClipDialog(
    const QString &recordingPath, int64_t startMs, int64_t endMs, int64_t selFromMs, int64_t selToMs, QWidget *parent)
    : QDialog(parent)
    , m_recording(recordingPath)
    , m_selFromMs(selFromMs)
    , m_selToMs(selToMs)
{
    setObjectName(QStringLiteral("exportClipDialog"));
    setWindowTitle(tr("Export clip — %1").arg(QFileInfo(recordingPath).fileName()));
    buildUi();
    if (endMs > startMs) {
        // Queued, so a caller connecting to spanRead after construction still hears it.
        setSpan(startMs, endMs);
        QMetaObject::invokeMethod(this, &ExportClipDialog::spanRead, Qt::QueuedConnection);
    } else {
        readSpan();
    }
}

ExportClipDialog::~ExportClipDialog()
{
    // The job stops after the block it is reading; m_jobs then waits for it.
    if (m_progressState)
        m_progressState->cancel = true;
}

void ExportClipDialog::buildUi()
{
    m_source = new QLabel(this);
    m_source->setObjectName(QStringLiteral("clipSource"));
    m_source->setWordWrap(true);
    m_source->setText(tr("Reading %1…").arg(QDir::toNativeSeparators(m_recording)));

    m_from = timeEdit(QStringLiteral("clipFrom"), this);
    m_to = timeEdit(QStringLiteral("clipTo"), this);
    m_whole = new QPushButton(tr("Whole recording"), this);
    m_whole->setObjectName(QStringLiteral("clipWhole"));
    m_selection = new QPushButton(tr("Timeline selection"), this);
    m_selection->setObjectName(QStringLiteral("clipSelection"));
    m_selection->setToolTip(tr("The range selected on the timeline when the dialog opened"));
    connect(m_whole, &QPushButton::clicked, this, [this] { setRange(m_startMs, m_endMs); });
    connect(m_selection, &QPushButton::clicked, this, [this] { setRange(m_selFromMs, m_selToMs); });
    auto followRange = [this] {
        if (!m_outputEdited && spanKnown())
            m_output->setText(suggestedOutput());
    };
    connect(m_from, &QDateTimeEdit::dateTimeChanged, this, followRange);
    connect(m_to, &QDateTimeEdit::dateTimeChanged, this, followRange);
    auto *rangeButtons = new QHBoxLayout;
    rangeButtons->addWidget(m_whole);
    rangeButtons->addWidget(m_selection);
    rangeButtons->addStretch();

    m_output = new QLineEdit(this);
    m_output->setObjectName(QStringLiteral("clipOutput"));
    m_output->setPlaceholderText(tr("The clip to write (.msrec)"));
    connect(m_output, &QLineEdit::textEdited, this, [this] { m_outputEdited = true; });
    m_choose = new QPushButton(tr("Choose…"), this);
    m_choose->setObjectName(QStringLiteral("clipChoose"));
    connect(m_choose, &QPushButton::clicked, this, &ExportClipDialog::chooseOutput);
    auto *outputRow = new QHBoxLayout;
    outputRow->addWidget(m_output, 1);
    outputRow->addWidget(m_choose);

    auto *form = new QFormLayout;
    form->addRow(tr("From (UTC)"), m_from);
    form->addRow(tr("To (UTC)"), m_to);
    form->addRow(QString(), rangeButtons);
    form->addRow(tr("Save as"), outputRow);

    auto *note = new QLabel(
        tr("To share safely, the clip leaves out every query-string value, user names and passwords in URLs, and "
           "the values of secret-looking headers, attributes and route header matches (Authorization, Cookie, "
           "x-api-key, anything named *token*, *secret* or *password*): each becomes ***. Services, paths, "
           "statuses, timings and route changes are kept. A secret written anywhere else, such as inside a "
           "path, is not recognised."),
        this);
    note->setObjectName(QStringLiteral("clipNote"));
    note->setWordWrap(true);

    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("clipProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("clipStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *buttons = new QDialogButtonBox(this);
    m_export = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    m_export->setObjectName(QStringLiteral("clipExport"));
    m_export->setDefault(true);
    m_close = buttons->addButton(QDialogButtonBox::Close);
    m_close->setObjectName(QStringLiteral("clipClose"));
    // Export keeps the dialog open: it shows the result, and another range can follow.
    connect(m_export, &QPushButton::clicked, this, &ExportClipDialog::startExport);
    connect(m_close, &QPushButton::clicked, this, [this] {
        if (m_running)
            cancelExport();
        else
            close();
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_source);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_progress);
    layout->addWidget(m_status, 1);
    layout->addWidget(buttons);

    // The job reports its progress through an atomic; the bar reads it a few times a
    // second rather than taking a post per block.
    m_poll = new QTimer(this);
    m_poll->setInterval(100);
    connect(m_poll, &QTimer::timeout, this, [this] {
        if (m_progressState)
            m_progress->setValue(m_progressState->permille.load());
    });
    updateControls();
    resize(560, sizeHint().height());
}

void ExportClipDialog::setSpan(int64_t startMs, int64_t endMs)
{
    m_startMs = startMs;
    m_endMs = endMs;
    for (QDateTimeEdit *edit : {m_from, m_to})
        edit->setDateTimeRange(utc(startMs), utc(endMs));
    m_source->setText(tr("Recording %1: %2 to %3 UTC (%4)")
                          .arg(QFileInfo(m_recording).fileName(), utcText(startMs), utcText(endMs).mid(11),
                              display::clock(endMs - startMs)));
    m_source->setToolTip(QDir::toNativeSeparators(m_recording));
    const bool selection = m_selToMs > m_selFromMs && m_selToMs >= startMs && m_selFromMs <= endMs;
    if (selection) {
        m_selFromMs = std::max(m_selFromMs, startMs);
        m_selToMs = std::min(m_selToMs, endMs);
        setRange(m_selFromMs, m_selToMs);
    } else {
        m_selFromMs = m_selToMs = 0;
        setRange(startMs, endMs);
    }
    m_selection->setVisible(selection);
    updateControls();
}

// Opening a recording without its index walks every block: not on the GUI thread.
void ExportClipDialog::readSpan()
{
    struct Span {
        int64_t start = 0;
        int64_t end = 0;
        QString error;
    };
    const std::string path = m_recording.toStdString();
    m_jobs.run<Span>(
        [path] {
            Span span;
            std::string why;
            if (const std::unique_ptr<RecordingReader> reader = RecordingReader::open(path, why)) {
                span.start = reader->startMs();
                span.end = reader->endMs();
            } else {
                span.error = QString::fromStdString(why);
            }
            return span;
        },
        [this](Span span) {
            if (!span.error.isEmpty()) {
                m_source->setText(tr("Cannot read %1").arg(QDir::toNativeSeparators(m_recording)));
                showStatus(span.error, true);
            } else if (span.end <= span.start) {
                showStatus(tr("The recording holds no events: there is nothing to clip."), true);
            } else {
                setSpan(span.start, span.end);
                Q_EMIT spanRead();
            }
        });
}

void ExportClipDialog::setRange(int64_t fromMs, int64_t toMs)
{
    m_from->setDateTime(utc(fromMs));
    m_to->setDateTime(utc(toMs));
}

int64_t ExportClipDialog::fromMs() const { return m_from->dateTime().toMSecsSinceEpoch(); }

int64_t ExportClipDialog::toMs() const { return m_to->dateTime().toMSecsSinceEpoch(); }

void ExportClipDialog::setOutputPath(const QString &path)
{
    m_output->setText(path);
    m_outputEdited = true;
}

QString ExportClipDialog::outputPath() const { return m_output->text().trimmed(); }

QString ExportClipDialog::statusText() const { return m_status->text(); }

QString ExportClipDialog::suggestedOutput() const
{
    const QFileInfo source(m_recording);
    const QString name = QStringLiteral("%1-clip-%2-%3.msrec")
                             .arg(source.completeBaseName(), utc(fromMs()).toString(QStringLiteral("HHmmss")),
                                 utc(toMs()).toString(QStringLiteral("HHmmss")));
    return source.dir().filePath(name);
}

void ExportClipDialog::chooseOutput()
{
    const QString current = outputPath().isEmpty() ? suggestedOutput() : outputPath();
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export clip to"), current, tr("meshscope recordings (*.msrec);;All files (*)"));
    if (path.isEmpty())
        return;
    setOutputPath(path);
    m_confirmedOverwrite = path;  // the file dialog asked already
}

bool ExportClipDialog::startExport()
{
    if (m_running)
        return false;
    if (!spanKnown()) {
        showStatus(tr("The recording is still being read."), true);
        return false;
    }
    const QString out = outputPath();
    const int64_t from = fromMs(), to = toMs();
    if (out.isEmpty()) {
        showStatus(tr("Choose where to write the clip."), true);
        return false;
    }
    if (to <= from) {
        showStatus(to == from ? tr("The range is empty: From and To are the same moment.")
                              : tr("The range ends before it starts."),
            true);
        return false;
    }
    if (QFileInfo(out) == QFileInfo(m_recording)) {
        showStatus(tr("The clip cannot be written over the recording it is cut from."), true);
        return false;
    }
    if (QFileInfo::exists(out) && m_confirmedOverwrite != out) {
        m_confirmedOverwrite = out;
        showStatus(tr("%1 exists. Export again to replace it.").arg(QDir::toNativeSeparators(out)), false);
        return false;
    }

    m_running = true;
    m_runningOutput = out;
    m_progressState = std::make_shared<Progress>();
    m_progress->setValue(0);
    m_progress->show();
    showStatus(tr("Writing %1…").arg(QFileInfo(out).fileName()), false);
    updateControls();
    m_poll->start();
    // Pool thread: values only; the result comes back to the GUI thread in finish().
    m_jobs.run<ClipResult>(
        [state = m_progressState, in = m_recording.toStdString(), out = out.toStdString(), from, to] {
            ClipOptions options;
            options.program = "meshscope";
            return exportClip(in, from, to, out, options, [state](double done) {
                state->permille.store(int(done * 1000));
                return !state->cancel.load();
            });
        },
        [this](ClipResult result) { finish(result); });
    return true;
}

void ExportClipDialog::cancelExport()
{
    if (m_running && m_progressState) {
        m_progressState->cancel = true;
        showStatus(tr("Cancelling…"), false);
    }
}

void ExportClipDialog::reject()
{
    cancelExport();
    QDialog::reject();
}

void ExportClipDialog::finish(const ClipResult &r)
{
    m_running = false;
    m_poll->stop();
    m_progress->hide();
    m_confirmedOverwrite.clear();
    updateControls();
    QString message;
    if (r.ok()) {
        const QFileInfo written(m_runningOutput);
        message = tr("Wrote %1 to %2: %3 (%4, %5) from %6 to %7 UTC, %8.")
                      .arg(written.fileName(), QDir::toNativeSeparators(written.path()),
                          display::quantity(qint64(r.events), tr("event"), tr("events")),
                          display::quantity(qint64(r.spans), tr("span"), tr("spans")),
                          display::quantity(qint64(r.requests), tr("request"), tr("requests")), utcText(r.fromMs),
                          utcText(r.toMs).mid(11), display::dataSize(r.bytes));
        message += QLatin1Char(' ')
            + (r.valuesRedacted > 0
                    ? tr("%1 replaced by ***.")
                          .arg(display::quantity(qint64(r.valuesRedacted), tr("value was"), tr("values were")))
                    : tr("Nothing in the range needed removing."));
        if (!r.problems.empty())
            message += QLatin1Char(' ')
                + tr("Parts of the recording could not be read and are missing: %1")
                      .arg(QString::fromStdString(r.problems.front()));
        showStatus(message, false);
    } else {
        message = QString::fromStdString(r.message);
        showStatus(message, r.error != ClipResult::Error::Cancelled);
    }
    Q_EMIT exportFinished(r.ok(), message);
}

void ExportClipDialog::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #f85149;") : QString());
    // A long result wraps onto more lines than the dialog was sized for: grow to show it.
    if (const int need = layout()->totalHeightForWidth(width()); need > height())
        resize(width(), need);
}

void ExportClipDialog::updateControls()
{
    const bool idle = !m_running;
    for (QWidget *w : {static_cast<QWidget *>(m_from), static_cast<QWidget *>(m_to), static_cast<QWidget *>(m_whole),
             static_cast<QWidget *>(m_selection), static_cast<QWidget *>(m_output), static_cast<QWidget *>(m_choose)})
        w->setEnabled(idle && spanKnown());
    m_export->setEnabled(idle && spanKnown());
    m_close->setText(m_running ? tr("Cancel") : tr("Close"));
}

}  // namespace meshscope
