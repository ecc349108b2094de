// File > Export clip: the dialog on a real recording. Its range starts as the timeline's
// selection or the whole file (read off the GUI thread when the caller does not know
// it); Export writes the clip in the background and says what it wrote; bad ranges,
// existing files and unwritable folders are said in the status line, and a cancelled
// export leaves nothing behind.

#include "session/exportclipdialog.h"
#include "session/recording.h"

#include <QApplication>
#include <QDateTimeEdit>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace meshscope;

namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

}  // namespace

class TestExportClipDialog : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void startsAtTheSelection();
    void readsTheSpanWhenNotGiven();
    void exportWritesTheClip();
    void mistakesAreSaid();
    void existingFileNeedsASecondExport();
    void cancelLeavesNothing();

private:
    QTemporaryDir m_dir;
    QString m_recording;
};

// Twenty seconds of spans, one batch every 250 ms, with a token in each path.
void TestExportClipDialog::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_recording = m_dir.filePath(QStringLiteral("incident.msrec"));
    std::string error;
    auto w = RecordingWriter::create(m_recording.toStdString(), nullptr, error, R"({"program":"test"})");
    QVERIFY2(w, error.c_str());
    for (int i = 0; i <= 80; ++i) {
        const int64_t ms = kT0Ms + i * 250;
        std::vector<Span> spans;
        for (int k = 0; k < 20; ++k) {
            Span s;
            s.traceId[0] = uint8_t(i);
            s.traceId[1] = uint8_t(k);
            s.spanId = uint64_t(i * 100 + k + 1);
            s.kind = SpanKind::Server;
            s.service = "cart";
            s.name = "GET";
            s.startNs = uint64_t(ms) * 1000000ull;
            s.endNs = s.startNs + 1000000ull;
            s.path = "/cart?token=TOKEN-SECRET";
            spans.push_back(std::move(s));
        }
        w->ingestSpans(std::move(spans), ms, "otlp");
    }
    w->close();
    QVERIFY(w->lastError().empty());
}

void TestExportClipDialog::startsAtTheSelection()
{
    QWidget parent;
    ExportClipDialog *d = ExportClipDialog::run(&parent, m_recording, kT0Ms, kT0Ms + 20000, kT0Ms + 5000, kT0Ms + 8000);
    QVERIFY(d->isVisible());
    QVERIFY(d->testAttribute(Qt::WA_DeleteOnClose));
    QVERIFY(!d->isModal());
    QCOMPARE(d->fromMs(), kT0Ms + 5000);
    QCOMPARE(d->toMs(), kT0Ms + 8000);
    // Beside the recording, named after it and the range.
    QCOMPARE(d->outputPath(), m_dir.filePath(QStringLiteral("incident-clip-221325-221328.msrec")));
    QVERIFY(d->findChild<QLabel *>(QStringLiteral("clipNote"))->text().contains(QStringLiteral("query-string")));

    // The buttons move the range; the suggested name follows it until one is typed.
    d->findChild<QPushButton *>(QStringLiteral("clipWhole"))->click();
    QCOMPARE(d->fromMs(), kT0Ms);
    QCOMPARE(d->toMs(), kT0Ms + 20000);
    QCOMPARE(d->outputPath(), m_dir.filePath(QStringLiteral("incident-clip-221320-221340.msrec")));
    d->findChild<QPushButton *>(QStringLiteral("clipSelection"))->click();
    QCOMPARE(d->fromMs(), kT0Ms + 5000);
    QTest::keyClicks(d->findChild<QLineEdit *>(QStringLiteral("clipOutput")), QStringLiteral("x"));
    d->findChild<QPushButton *>(QStringLiteral("clipWhole"))->click();
    QVERIFY(d->outputPath().endsWith(QStringLiteral("221328.msrecx")));

    // No selection: the whole recording, and no selection button.
    ExportClipDialog whole(m_recording, kT0Ms, kT0Ms + 20000, 0, 0);
    QCOMPARE(whole.fromMs(), kT0Ms);
    QCOMPARE(whole.toMs(), kT0Ms + 20000);
    QVERIFY(whole.findChild<QPushButton *>(QStringLiteral("clipSelection"))->isHidden());
    // A selection reaching past the recording is cut to it.
    ExportClipDialog past(m_recording, kT0Ms, kT0Ms + 20000, kT0Ms + 15000, kT0Ms + 90000);
    QCOMPARE(past.fromMs(), kT0Ms + 15000);
    QCOMPARE(past.toMs(), kT0Ms + 20000);
}

void TestExportClipDialog::readsTheSpanWhenNotGiven()
{
    ExportClipDialog d(m_recording, 0, 0, kT0Ms + 2000, kT0Ms + 4000);
    QSignalSpy read(&d, &ExportClipDialog::spanRead);
    QVERIFY(!d.spanKnown());
    QVERIFY(!d.findChild<QPushButton *>(QStringLiteral("clipExport"))->isEnabled());
    QVERIFY(read.wait(10000));
    QVERIFY(d.spanKnown());
    QCOMPARE(d.fromMs(), kT0Ms + 2000);
    QCOMPARE(d.toMs(), kT0Ms + 4000);
    QVERIFY(d.findChild<QPushButton *>(QStringLiteral("clipExport"))->isEnabled());

    ExportClipDialog missing(m_dir.filePath(QStringLiteral("absent.msrec")), 0, 0, 0, 0);
    QTRY_VERIFY(missing.statusText().contains(QStringLiteral("absent.msrec")));
    QVERIFY(!missing.findChild<QPushButton *>(QStringLiteral("clipExport"))->isEnabled());
}

void TestExportClipDialog::exportWritesTheClip()
{
    ExportClipDialog d(m_recording, kT0Ms, kT0Ms + 20000, 0, 0);
    d.show();
    const QString out = m_dir.filePath(QStringLiteral("shared.msrec"));
    d.setRange(kT0Ms + 3000, kT0Ms + 6000);
    d.setOutputPath(out);
    QSignalSpy finished(&d, &ExportClipDialog::exportFinished);
    auto *exportButton = d.findChild<QPushButton *>(QStringLiteral("clipExport"));
    QTest::mouseClick(exportButton, Qt::LeftButton);
    QVERIFY(d.isRunning());
    QVERIFY(!exportButton->isEnabled());
    QVERIFY(!d.findChild<QDateTimeEdit *>(QStringLiteral("clipFrom"))->isEnabled());
    QCOMPARE(d.findChild<QPushButton *>(QStringLiteral("clipClose"))->text(), QStringLiteral("Cancel"));
    QVERIFY(finished.wait(20000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY(!d.isRunning());
    QVERIFY(exportButton->isEnabled());
    QCOMPARE(d.findChild<QPushButton *>(QStringLiteral("clipClose"))->text(), QStringLiteral("Close"));
    // 13 batches of 20 spans: +3.00 s to +6.00 s every 250 ms.
    QVERIFY2(d.statusText().startsWith(QStringLiteral("Wrote shared.msrec to ")), qPrintable(d.statusText()));
    QVERIFY2(d.statusText().contains(QStringLiteral("13 events (260 spans, 0 requests)")), qPrintable(d.statusText()));
    QVERIFY2(d.statusText().contains(QStringLiteral("260 values were replaced by ***")), qPrintable(d.statusText()));

    std::string why;
    const std::unique_ptr<RecordingReader> clip = RecordingReader::open(out.toStdString(), why);
    QVERIFY2(clip, why.c_str());
    QCOMPARE(clip->startMs(), kT0Ms + 3000);
    QCOMPARE(clip->endMs(), kT0Ms + 6000);
    QCOMPARE(entries(m_dir.path()), (QStringList {QStringLiteral("incident.msrec"), QStringLiteral("shared.msrec")}));
}

void TestExportClipDialog::mistakesAreSaid()
{
    ExportClipDialog d(m_recording, kT0Ms, kT0Ms + 20000, 0, 0);
    QSignalSpy finished(&d, &ExportClipDialog::exportFinished);
    d.setRange(kT0Ms + 6000, kT0Ms + 3000);
    d.setOutputPath(m_dir.filePath(QStringLiteral("never.msrec")));
    QVERIFY(!d.startExport());
    QCOMPARE(d.statusText(), QStringLiteral("The range ends before it starts."));
    d.setRange(kT0Ms + 3000, kT0Ms + 3000);
    QVERIFY(!d.startExport());
    QVERIFY(d.statusText().contains(QStringLiteral("empty")));
    d.setRange(kT0Ms + 3000, kT0Ms + 6000);
    d.setOutputPath(QString());
    QVERIFY(!d.startExport());
    QCOMPARE(d.statusText(), QStringLiteral("Choose where to write the clip."));
    d.setOutputPath(m_recording);
    QVERIFY(!d.startExport());
    QVERIFY(d.statusText().contains(QStringLiteral("over the recording")));
    QVERIFY(finished.isEmpty());

    // What only the export finds out comes back as its result.
    d.setOutputPath(m_dir.filePath(QStringLiteral("no/such/folder/c.msrec")));
    QVERIFY(d.startExport());
    QVERIFY(finished.wait(20000));
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QVERIFY2(d.statusText().contains(QStringLiteral("No such file or directory")), qPrintable(d.statusText()));
    QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("never.msrec"))));
}

void TestExportClipDialog::existingFileNeedsASecondExport()
{
    const QString out = m_dir.filePath(QStringLiteral("old.msrec"));
    {
        QFile f(out);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("older clip");
    }
    ExportClipDialog d(m_recording, kT0Ms, kT0Ms + 20000, kT0Ms + 1000, kT0Ms + 2000);
    d.setOutputPath(out);
    QSignalSpy finished(&d, &ExportClipDialog::exportFinished);
    QVERIFY(!d.startExport());
    QVERIFY(d.statusText().contains(QStringLiteral("Export again to replace it")));
    QVERIFY(d.startExport());
    QVERIFY(finished.wait(20000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    std::string why;
    QVERIFY(RecordingReader::open(out.toStdString(), why));
}

// However far the export got when cancelled, the dialog says so and nothing half
// written stays behind; closing the dialog mid-export returns at once and cleans up.
void TestExportClipDialog::cancelLeavesNothing()
{
    const QString out = m_dir.filePath(QStringLiteral("cancelled.msrec"));
    const QStringList before = entries(m_dir.path());
    {
        ExportClipDialog d(m_recording, kT0Ms, kT0Ms + 20000, 0, 0);
        d.setOutputPath(out);
        QSignalSpy finished(&d, &ExportClipDialog::exportFinished);
        QVERIFY(d.startExport());
        d.cancelExport();
        QVERIFY(finished.wait(20000));
        if (finished.at(0).at(0).toBool()) {
            QVERIFY(QFile::remove(out));  // it was done before the cancel arrived
        } else {
            QVERIFY2(d.statusText().contains(QStringLiteral("cancelled")), qPrintable(d.statusText()));
        }
        QCOMPARE(entries(m_dir.path()), before);
    }
    {
        QWidget parent;
        ExportClipDialog *d = ExportClipDialog::run(&parent, m_recording, kT0Ms, kT0Ms + 20000, 0, 0);
        QPointer<ExportClipDialog> alive(d);
        d->setOutputPath(out);
        QVERIFY(d->startExport());
        d->reject();  // Esc: cancels, closes, and the dialog deletes itself
        QTRY_VERIFY(alive.isNull());
    }
    if (QFile::exists(out))
        QVERIFY(QFile::remove(out));
    QCOMPARE(entries(m_dir.path()), before);
}

QTEST_MAIN(TestExportClipDialog)
#include "tst_exportclipdialog.moc"
