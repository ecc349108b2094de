#pragma once
// Runs full canvas renders off the GUI thread. Newest request wins: a request
// replaces whatever is still waiting, and each finished image is handed to the
// callback (on the rendering thread) with the id of the request it answers, so the
// canvas can drop results older than what it already shows.
//
// Renders run as a task on QThreadPool::globalInstance(). Qt's raster engine splits
// large fills across that pool and waits for them unless the painting thread is one
// of its own; from a pool thread it paints serially, which for thousands of lines is
// several times faster than the hand-offs.

#include "canvas/canvasrenderer.h"
#include "canvas/graphscene.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace meshscope {

class CanvasRenderWorker {
public:
    struct Job {
        uint64_t id = 0;
        GraphScenePtr scene;
        RenderOptions options;
    };
    struct Result {
        uint64_t id = 0;
        QImage image;
        RenderOptions options;
        RenderStats stats;
    };
    using Callback = std::function<void(Result &&)>;

    explicit CanvasRenderWorker(Callback callback);
    ~CanvasRenderWorker();  // drops the waiting job and waits for the render in progress
    CanvasRenderWorker(const CanvasRenderWorker &) = delete;
    CanvasRenderWorker &operator=(const CanvasRenderWorker &) = delete;

    void request(Job job);

private:
    void drain();

    Callback m_callback;
    CanvasRenderer m_renderer;  // used by one drain task at a time; keeps its sprites
    std::mutex m_mutex;
    std::condition_variable m_done;
    std::optional<Job> m_pending;
    bool m_running = false;
    bool m_stop = false;
};

}  // namespace meshscope
