#pragma once
// Work taken off the GUI thread: each job runs on the owner's own pool thread and its
// result comes back to the GUI thread, unless a newer job was started meanwhile (its
// result is stale and dropped, as hotspot's job tracker does). Destroying the jobs waits
// for the one running, so work may read objects that outlive the owner (a trace store).
//
//   m_jobs.run<std::vector<TraceSummary>>([=] { return store->search(filter); },
//       [this](std::vector<TraceSummary> found) { show(found); });

#include <QMetaObject>
#include <QObject>
#include <QThreadPool>

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

namespace meshscope {

class BackgroundJobs {
public:
    // `context`: results are delivered to its thread. The jobs must end before it does
    // (a member of it): the running job posts to it, and posts to a deleted object are
    // discarded by Qt.
    explicit BackgroundJobs(QObject *context)
        : m_context(context)
    {
        m_pool.setMaxThreadCount(1);
    }
    ~BackgroundJobs()
    {
        m_generation->fetch_add(1);  // whatever is still queued finds itself stale
        m_pool.clear();
        m_pool.waitForDone();
    }
    BackgroundJobs(const BackgroundJobs &) = delete;
    BackgroundJobs &operator=(const BackgroundJobs &) = delete;

    enum class Older { Replaced, Kept };
    // Starts `work` on the pool thread; `done` gets its result on the context's thread.
    // Older::Replaced (a search for what is selected now): older jobs not yet begun are
    // dropped and results of earlier ones are stale. Older::Kept (each job its own
    // request, e.g. one per trace opened): jobs queue and every result is delivered,
    // unless a later Replaced job or cancel() made it stale.
    template <class Result>
    void run(std::function<Result()> work, std::function<void(Result)> done, Older older = Older::Replaced)
    {
        uint64_t mine = m_generation->load();
        if (older == Older::Replaced) {
            mine = m_generation->fetch_add(1) + 1;
            m_pool.clear();
        }
        m_pool.start([generation = m_generation, mine, context = m_context, work = std::move(work),
                         done = std::move(done)]() mutable {
            if (generation->load() != mine)
                return;
            auto result = std::make_shared<Result>(work());
            if (generation->load() != mine)
                return;
            QMetaObject::invokeMethod(
                context,
                [generation, mine, result, done = std::move(done)]() mutable {
                    if (generation->load() == mine)
                        done(std::move(*result));
                },
                Qt::QueuedConnection);
        });
    }
    // Makes the result of the job in flight stale (the owner's state moved on).
    void cancel() { m_generation->fetch_add(1); }
    bool isIdle() { return m_pool.activeThreadCount() == 0; }

private:
    QObject *m_context;
    std::shared_ptr<std::atomic<uint64_t>> m_generation = std::make_shared<std::atomic<uint64_t>>(0);
    QThreadPool m_pool;
};

}  // namespace meshscope
