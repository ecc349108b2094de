#pragma once
// A recording opened in the GUI (File > Open recording): a main window of its own whose
// graph, inspect panels, requests and traces all come from the file. The events are
// replayed, in time order, into the window's own aggregator and trace store on a
// background thread, block after block of the file, so the window opens at once,
// the graph fills in as the file is read and closing the window stops the reading.
// The graph shows the whole recording, as `meshscope-cli graph --from FILE` does.
//
// The session belongs to its window and ends with it.

#include "graph/graphsnapshot.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace meshscope {

class GraphAggregator;
class MainWindow;
class RecordingReader;
class TraceStore;
class TraceStoreSink;

class RecordingSession : public QObject {
    Q_OBJECT
public:
    // Opens `path` and shows it in a new window. Null, with the reason in `error`, when
    // the file is no readable recording (the reader's message: missing, not a
    // recording, a newer format...).
    static MainWindow *open(const QString &path, QString *error);
    ~RecordingSession() override;

    // Of the session showing in `window`, or null for a live window.
    static RecordingSession *of(const MainWindow *window);
    bool isFinished() const { return m_finished; }
    QString path() const { return m_path; }
    // One line for the status bar and the tests: the file, its time span, size, the
    // route changes it holds and what could not be read.
    QString description() const;
    // The route changes the recording holds, once read: "version 2 to xds
    // 127.0.0.1:18000 at 12:00:03 UTC", in time order.
    QStringList routeChanges() const { return m_routeChanges; }

Q_SIGNALS:
    // The whole file has been read and the window shows all of it.
    void finished();

private:
    RecordingSession(QString path, std::unique_ptr<RecordingReader> reader);
    void start();
    void replay();  // the reading thread
    // GUI thread: what the reading thread reached, and at the end the problems found.
    void showProgress(int64_t reachedMs, GraphSnapshotPtr snapshot);
    void finish(GraphSnapshotPtr snapshot, QStringList problems, QStringList routeChanges, QString error);

    const QString m_path;
    std::unique_ptr<RecordingReader> m_reader;
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<TraceStore> m_traces;
    std::unique_ptr<TraceStoreSink> m_ingest;
    QPointer<MainWindow> m_window;
    std::thread m_thread;
    std::atomic<bool> m_cancel {false};
    bool m_finished = false;
    QStringList m_problems;
    QStringList m_routeChanges;
};

}  // namespace meshscope
