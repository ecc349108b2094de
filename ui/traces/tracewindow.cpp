#include "traces/tracewindow.h"

#include "backgroundjobs.h"
#include "displayformat.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/tracecompare.h"
#include "traces/tracecompareview.h"
#include "traces/tracejson.h"
#include "traces/tracestore.h"
#include "traces/traceview.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QTabBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace meshscope {

// A comparison worked out off the GUI thread, with the two trees its span indices
// refer to, or why there is none.
struct TraceWindow::Comparing {
    TraceComparison comparison;
    std::shared_ptr<const WaterfallTrace> self;  // this trace, as the view was given it
    bool selfIsB = true;  // which side of the comparison this trace is
    QString leftTitle, rightTitle;
    QString error;
};

TraceWindow::TraceWindow(const TraceId &id, size_t spanCount, const TraceStore *store, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_id(id)
    , m_hex(QString::fromStdString(meshscope::traceIdHex(id)))
    , m_store(store)
{
    setAttribute(Qt::WA_DeleteOnClose);
    setObjectName(QStringLiteral("traceWindow"));
    setWindowTitle(tr("Trace %1 — meshscope").arg(m_hex.left(12)));
    m_jobs = std::make_unique<BackgroundJobs>(this);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("traceTabs"));
    m_tabs->setDocumentMode(true);
    m_view = new TraceView(m_tabs);
    m_view->setProperty("traceId", m_hex);
    m_tabs->addTab(m_view, tr("Waterfall"));
    m_tabs->tabBar()->setVisible(false);  // until there is a second tab
    layout->addWidget(m_tabs, 1);

    auto *graphBar = new QHBoxLayout;
    graphBar->setContentsMargins(10, 4, 10, 8);
    // The path lights up on the graph while this trace is the one shown there; the
    // last trace opened (or brought forward with "Show on graph") is.
    m_onGraph = new QPushButton(tr("Show on graph"), this);
    m_onGraph->setObjectName(QStringLiteral("showTraceOnGraphButton"));
    m_onGraph->setToolTip(tr("Draw this trace's calls over the service graph"));
    m_replay = new QPushButton(tr("▶ Replay on graph"), this);
    m_replay->setObjectName(QStringLiteral("replayTraceOnGraphButton"));
    m_replay->setToolTip(tr("Play the trace's calls on the service graph in the order they happened"));
    m_graphNote = new QLabel(this);
    m_graphNote->setObjectName(QStringLiteral("traceGraphNote"));
    m_graphNote->setWordWrap(true);
    m_graphNote->setText(tr("Assembling %1…").arg(display::quantity(qint64(spanCount), tr("span"), tr("spans"))));
    m_compare = new QPushButton(tr("Compare"), this);
    m_compare->setObjectName(QStringLiteral("compareTraceButton"));
    m_compare->setToolTip(tr("Compare this trace's calls and their times with the typical trace of its root "
                             "operation, or with another trace"));
    auto *compareMenu = new QMenu(m_compare);
    QAction *typical = compareMenu->addAction(
        tr("With the typical trace of its root operation"), this, &TraceWindow::compareWithTypical);
    typical->setObjectName(QStringLiteral("compareWithTypicalAction"));
    QAction *other = compareMenu->addAction(tr("With another trace…"), this, [this] {
        bool ok = false;
        const QString text
            = QInputDialog::getText(this, tr("Compare with trace"), tr("Trace ID to compare with (32 hex digits):"),
                QLineEdit::Normal, QApplication::clipboard()->text().trimmed().left(64), &ok);
        if (ok && !text.trimmed().isEmpty())
            compareWithTrace(text.trimmed());
    });
    other->setObjectName(QStringLiteral("compareWithTraceAction"));
    m_compare->setMenu(compareMenu);
    m_compare->setVisible(store != nullptr);
    for (QPushButton *b : {m_onGraph, m_replay, m_compare})
        b->setEnabled(false);
    connect(m_onGraph, &QPushButton::clicked, this, &TraceWindow::showOnGraphRequested);
    connect(m_replay, &QPushButton::clicked, this, [this] {
        if (m_replaying)
            Q_EMIT replayStopRequested();
        else
            Q_EMIT replayRequested();
    });
    graphBar->addWidget(m_compare);
    graphBar->addSpacing(12);
    graphBar->addWidget(m_onGraph);
    graphBar->addWidget(m_replay);
    graphBar->addWidget(m_graphNote, 1);
    layout->addLayout(graphBar);
}

TraceWindow::~TraceWindow() = default;  // waits for a comparison in the works: it reads the store

bool TraceWindow::hasTrace() const { return m_view->hasTrace(); }

void TraceWindow::setTrace(std::shared_ptr<const WaterfallTrace> trace)
{
    const TraceTree &tree = trace->tree;
    const Span *root = tree.roots.empty() ? nullptr : &tree.spans[tree.roots.front()];
    if (root)
        setWindowTitle(
            tr("Trace %1 · %2: %3 — meshscope")
                .arg(m_hex.left(12), QString::fromStdString(root->service), QString::fromStdString(root->name)));
    m_view->setTrace(std::move(trace));
    for (QPushButton *b : {m_onGraph, m_replay, m_compare})
        b->setEnabled(true);
    m_graphNote->clear();
    Q_EMIT traceReady();
}

void TraceWindow::setGraphNote(const QString &text) { m_graphNote->setText(text); }

QString TraceWindow::graphNote() const { return m_graphNote->text(); }

void TraceWindow::setReplaying(bool on)
{
    m_replaying = on;
    m_replay->setText(on ? tr("■ Stop replay") : tr("▶ Replay on graph"));
}

void TraceWindow::showCompareTab()
{
    if (!m_comparePage) {
        m_comparePage = new QWidget(m_tabs);
        m_comparePage->setObjectName(QStringLiteral("comparePage"));
        auto *v = new QVBoxLayout(m_comparePage);
        v->setContentsMargins(0, 0, 0, 0);
        m_compareNote = new QLabel(m_comparePage);
        m_compareNote->setObjectName(QStringLiteral("compareNote"));
        m_compareNote->setWordWrap(true);
        m_compareNote->setContentsMargins(10, 6, 10, 0);
        m_compareView = new TraceCompareView(m_comparePage);
        v->addWidget(m_compareNote);
        v->addWidget(m_compareView, 1);
        m_tabs->addTab(m_comparePage, tr("Compare"));
        m_tabs->tabBar()->setVisible(true);
        // A call of this trace, activated in the comparison, is shown in the waterfall.
        connect(m_compareView, &TraceCompareView::spanActivated, this, [this](int side, int span) {
            if (!m_comparing || span < 0 || (side == TraceCompareView::SideB) != m_comparing->selfIsB)
                return;
            m_tabs->setCurrentWidget(m_view);
            m_view->selectOriginalSpan(span);
        });
    }
    m_tabs->setCurrentWidget(m_comparePage);
}

void TraceWindow::setCompareNote(const QString &text)
{
    m_compareNote->setText(text);
    m_compareNote->setVisible(!text.isEmpty());
}

QString TraceWindow::compareNote() const { return m_compareNote ? m_compareNote->text() : QString(); }

void TraceWindow::compareWithTypical()
{
    const std::shared_ptr<const WaterfallTrace> self = m_view->originalTrace();
    if (!m_store || !self || self->tree.roots.empty())
        return;
    const Span &root = self->tree.spans[self->tree.roots.front()];
    if (self->tree.isSynthetic(self->tree.roots.front()) && self->tree.roots.size() == 1) {
        showCompareTab();
        m_compareView->clear();
        setCompareNote(tr("This trace's root span is missing, so it has no root operation to compare with."));
        Q_EMIT comparisonReady(false);
        return;
    }
    showCompareTab();
    const QString operation
        = QStringLiteral("%1: %2").arg(QString::fromStdString(root.service), QString::fromStdString(root.name));
    setCompareNote(tr("Working out the typical %1 from the kept traces…").arg(operation));
    m_jobs->run<std::shared_ptr<const Comparing>>(
        [store = m_store, self, service = root.service, name = root.name, id = m_id, hex = m_hex, operation] {
            auto out = std::make_shared<Comparing>();
            out->self = self;
            const std::optional<TypicalTrace> typical = typicalTraceFor(*store, service, name, id);
            if (!typical) {
                out->error = tr("No other kept trace starts with %1, so there is no typical one to compare with.")
                                 .arg(operation);
                return std::shared_ptr<const Comparing>(out);
            }
            out->comparison = compareTraces(typical->tree, self->tree);
            out->selfIsB = true;
            out->leftTitle = tr("typical %1 (medians of %2)")
                                 .arg(operation, display::quantity(typical->traceCount, tr("trace"), tr("traces")));
            out->rightTitle = tr("this trace %1…").arg(hex.left(8));
            return std::shared_ptr<const Comparing>(out);
        },
        [this](std::shared_ptr<const Comparing> result) { showComparison(std::move(result)); });
}

void TraceWindow::compareWithTrace(const QString &otherIdHex)
{
    const std::shared_ptr<const WaterfallTrace> self = m_view->originalTrace();
    if (!m_store || !self)
        return;
    showCompareTab();
    const std::optional<TraceId> other = parseTraceIdHex(otherIdHex.trimmed().toStdString());
    if (!other) {
        m_compareView->clear();
        setCompareNote(tr("'%1' is not a trace ID: 32 hex digits.").arg(otherIdHex.left(80)));
        Q_EMIT comparisonReady(false);
        return;
    }
    const QString otherHex = QString::fromStdString(meshscope::traceIdHex(*other));
    setCompareNote(tr("Comparing with trace %1…").arg(otherHex));
    m_jobs->run<std::shared_ptr<const Comparing>>(
        [store = m_store, self, other = *other, hex = m_hex, otherHex] {
            auto out = std::make_shared<Comparing>();
            out->self = self;
            std::optional<std::vector<Span>> spans = store->trace(other);
            if (!spans || spans->empty()) {
                out->error = tr("No spans of trace %1 are kept.").arg(otherHex);
                return std::shared_ptr<const Comparing>(out);
            }
            const TraceTree tree = buildTraceTree(std::move(*spans));
            out->comparison = compareTraces(self->tree, tree);
            out->selfIsB = false;
            out->leftTitle = tr("this trace %1…").arg(hex.left(8));
            out->rightTitle = tr("trace %1…").arg(otherHex.left(8));
            return std::shared_ptr<const Comparing>(out);
        },
        [this](std::shared_ptr<const Comparing> result) { showComparison(std::move(result)); });
}

void TraceWindow::showComparison(std::shared_ptr<const Comparing> result)
{
    showCompareTab();
    if (!result->error.isEmpty()) {
        m_comparing.reset();
        m_compareView->clear();
        setCompareNote(result->error);
        Q_EMIT comparisonReady(false);
        return;
    }
    m_comparing = result;
    setCompareNote({});
    m_compareView->setComparison(result->comparison, result->leftTitle, result->rightTitle);
    Q_EMIT comparisonReady(true);
}

}  // namespace meshscope
