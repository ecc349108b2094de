#include "canvas/canvasrenderworker.h"

#include <QThreadPool>

namespace meshscope {

CanvasRenderWorker::CanvasRenderWorker(Callback callback)
    : m_callback(std::move(callback))
{
}

CanvasRenderWorker::~CanvasRenderWorker()
{
    std::unique_lock lock(m_mutex);
    m_stop = true;
    m_pending.reset();
    m_done.wait(lock, [this] { return !m_running; });
}

void CanvasRenderWorker::request(Job job)
{
    std::lock_guard lock(m_mutex);
    m_pending = std::move(job);  // an older waiting job is stale now
    if (m_running || m_stop)
        return;
    m_running = true;
    QThreadPool::globalInstance()->start([this] { drain(); });
}

void CanvasRenderWorker::drain()
{
    // Pool thread. A render can take a while: let the pool start another thread
    // meanwhile, so the GUI thread's own parallel fills never wait behind it.
    QThreadPool *pool = QThreadPool::globalInstance();
    pool->releaseThread();
    for (;;) {
        Job job;
        {
            std::lock_guard lock(m_mutex);
            if (m_stop || !m_pending) {
                m_running = false;
                m_done.notify_all();
                break;  // `this` may be gone from here on
            }
            job = std::move(*m_pending);
            m_pending.reset();
        }
        Result result;
        result.id = job.id;
        result.options = job.options;
        result.image = m_renderer.render(*job.scene, job.options, &result.stats);
        job.scene.reset();  // may be the last reference to an old snapshot: free it here, not on the GUI thread
        m_callback(std::move(result));
    }
    pool->reserveThread();
}

}  // namespace meshscope
