#pragma once
// File > Export clip: writes a time range of a recording as a .msrec of its own, with
// query-string values, URL userinfo and secret headers and attributes removed
// (core/session/clipexport.h), to hand an incident to a colleague. The range starts
// as the caller's (the timeline's selection) or the whole recording; the export runs
// off the GUI thread with its progress shown, and can be cancelled. Closing the dialog
// cancels a running export; nothing is left under the output's name then.

#include "backgroundjobs.h"

#include <QDialog>
#include <QString>

#include <atomic>
#include <cstdint>
#include <memory>

QT_BEGIN_NAMESPACE
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTimer;
QT_END_NAMESPACE

namespace meshscope {

struct ClipResult;

class ExportClipDialog : public QDialog {
    Q_OBJECT
public:
    // Shows the dialog for the recording at `recordingPath` (not modal, deleted when
    // closed) and returns it. [startMs, endMs] is the recording's span (ms since the
    // epoch); when not known (endMs <= startMs) the dialog reads it from the file, off
    // the GUI thread. [selFromMs, selToMs] is the range to start with, e.g. the
    // timeline's selection; the whole recording when empty or outside it.
    static ExportClipDialog *run(QWidget *parent, const QString &recordingPath, int64_t startMs, int64_t endMs,
        int64_t selFromMs = 0, int64_t selToMs = 0);

    ExportClipDialog(const QString &recordingPath, int64_t startMs, int64_t endMs, int64_t selFromMs, int64_t selToMs,
        QWidget *parent = nullptr);
    ~ExportClipDialog() override;  // cancels a running export and waits for it to stop

    // The fields, for the caller and the tests.
    void setRange(int64_t fromMs, int64_t toMs);
    int64_t fromMs() const;
    int64_t toMs() const;
    void setOutputPath(const QString &path);
    QString outputPath() const;
    bool spanKnown() const { return m_endMs > m_startMs; }

    // Starts the export with the fields as they stand (what the Export button does).
    // False, with the reason in the status line, when it cannot start: no output, a
    // reversed range, the span still being read, or an output that exists and was not
    // confirmed (a second Export replaces it).
    bool startExport();
    bool isRunning() const { return m_running; }
    void cancelExport();
    QString statusText() const;

public Q_SLOTS:
    // Esc or the window's close: a running export is cancelled (the dialog's destructor
    // waits for it to stop, which takes at most one block of the recording).
    void reject() override;

Q_SIGNALS:
    void spanRead();  // the recording's span is known (at once when the caller gave it)
    // An export ended: written (ok), or the reason it was not (cancelled included).
    void exportFinished(bool ok, const QString &message);

private:
    struct Progress {
        std::atomic<int> permille {0};
        std::atomic<bool> cancel {false};
    };
    void buildUi();
    void setSpan(int64_t startMs, int64_t endMs);
    void readSpan();
    void chooseOutput();
    QString suggestedOutput() const;
    void showStatus(const QString &text, bool error);
    void finish(const ClipResult &result);
    void updateControls();

    const QString m_recording;
    int64_t m_startMs = 0;
    int64_t m_endMs = 0;
    int64_t m_selFromMs = 0;
    int64_t m_selToMs = 0;
    bool m_running = false;
    QString m_runningOutput;  // the file the running (or last) export writes
    bool m_outputEdited = false;  // typed or chosen: no longer follows the range
    QString m_confirmedOverwrite;  // the existing file a second Export may replace
    std::shared_ptr<Progress> m_progressState;

    QLabel *m_source = nullptr;
    QDateTimeEdit *m_from = nullptr;
    QDateTimeEdit *m_to = nullptr;
    QPushButton *m_whole = nullptr;
    QPushButton *m_selection = nullptr;
    QLineEdit *m_output = nullptr;
    QPushButton *m_choose = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_export = nullptr;
    QPushButton *m_close = nullptr;
    QTimer *m_poll = nullptr;
    BackgroundJobs m_jobs {this};  // reads the span, then exports; waits for the job when destroyed
};

}  // namespace meshscope
