#include "routing/routeeditor.h"

#include "routing/backendweightseditor.h"
#include "routing/models/routehistorymodel.h"
#include "routing/models/routetreemodel.h"
#include "routing/models/xdsclientsmodel.h"
#include "routing/routeactions.h"
#include "routing/routediffview.h"
#include "routing/routeissuestyle.h"
#include "routing/routematcheditor.h"
#include "routing/routeruleeditor.h"
#include "routing/routewizards.h"

#include <QAction>
#include <QComboBox>
#include <QEvent>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

QString planeName(routing::DataPlane p)
{
    switch (p) {
    case routing::DataPlane::XdsGrpc: return QObject::tr("gRPC proxyless (xDS)");
    case routing::DataPlane::Envoy: return QObject::tr("Envoy (xDS)");
    case routing::DataPlane::Caddy: return QObject::tr("Caddy 2.6");
    case routing::DataPlane::Generic: return QObject::tr("Generic (model only)");
    }
    return {};
}

QString issueLine(const routing::RouteIssue &i)
{
    QString where = qs(i.document);
    if (where.startsWith(QLatin1String("HTTPRoute ")))
        where = where.mid(10);
    if (!i.rule.empty())
        where += QStringLiteral(" · ") + qs(i.rule);
    if (!i.field.empty())
        where += QStringLiteral(" · ") + qs(i.field);
    return where + QStringLiteral(": ") + qs(i.message);
}

QIcon dotIcon(const QColor &c)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawEllipse(QRectF(2, 2, 8, 8));
    return QIcon(pm);
}

const QString kEditorStyle = QStringLiteral(
    "QGroupBox { border: 1px solid #30363d; border-radius: 4px; margin-top: 16px; padding: 10px 8px 6px 8px; }"
    "QGroupBox::title { subcontrol-origin: margin; subcontrol-position: top left; left: 8px; padding: 0 4px;"
    " color: #aab3bd; font-weight: bold; }"
    "QGroupBox:disabled { color: #6e7681; }"
    "#routeNotice { background: #2b2111; border: 1px solid #6e4b12; border-radius: 4px; }"
    "#routeEditorHeader { background: #1c2128; border-bottom: 1px solid #30363d; }"
    "#applyRouteButton { background: #238636; color: #ffffff; border: 1px solid #2ea043; border-radius: 4px;"
    " padding: 4px 14px; font-weight: bold; }"
    "#applyRouteButton:hover { background: #2ea043; }"
    "#applyRouteButton:disabled { background: #21262d; color: #6e7681; border-color: #30363d; }"
    "QTreeView#routeTree { show-decoration-selected: 1; }"
    "QTreeView#routeTree::item { padding: 3px 2px; }");

// Lays a splitter's two panes side by side when its owner is wide, one above the
// other when narrow, keeping each pane's share of the room.
class SplitterOrientation : public QObject {
public:
    SplitterOrientation(QSplitter *splitter, QWidget *owner)
        : QObject(splitter)
        , m_splitter(splitter)
        , m_owner(owner)
    {
        owner->installEventFilter(this);
    }

    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_owner && event->type() == QEvent::Resize) {
            const Qt::Orientation want = m_owner->width() >= kSideBySideWidth ? Qt::Horizontal : Qt::Vertical;
            if (m_splitter->orientation() != want) {
                m_splitter->setOrientation(want);
                const int total = want == Qt::Horizontal ? m_splitter->width() : m_splitter->height();
                m_splitter->setSizes({total * 2 / 5, total * 3 / 5});
            }
        }
        return false;
    }

private:
    static constexpr int kSideBySideWidth = 640;
    QSplitter *m_splitter;
    QWidget *m_owner;
};

}  // namespace

RouteEditor::RouteEditor(QWidget *parent)
    : QWidget(parent)
    , m_tree(new RouteTreeModel(this))
    , m_clients(new XdsClientsModel(this))
    , m_history(new RouteHistoryModel(this))
{
    setObjectName(QStringLiteral("routeEditor"));
    setStyleSheet(kEditorStyle);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("routeEditorSplit"));
    split->setChildrenCollapsible(false);
    split->addWidget(buildTreePane());
    split->addWidget(buildDetailPane());
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({340, 520});
    // A narrow dock stacks the detail under the tree instead of squeezing both.
    new SplitterOrientation(split, this);

    auto *vsplit = new QSplitter(Qt::Vertical, this);
    vsplit->setObjectName(QStringLiteral("routeEditorVSplit"));
    vsplit->setChildrenCollapsible(false);
    vsplit->addWidget(split);
    vsplit->addWidget(buildTabs());
    vsplit->setStretchFactor(0, 3);
    vsplit->setStretchFactor(1, 1);
    vsplit->setSizes({560, 220});

    m_notice = new QFrame(this);
    m_notice->setObjectName(QStringLiteral("routeNotice"));
    auto *nl = new QHBoxLayout(m_notice);
    nl->setContentsMargins(10, 6, 6, 6);
    m_noticeLabel = new QLabel(m_notice);
    m_noticeLabel->setObjectName(QStringLiteral("routeNoticeText"));
    m_noticeLabel->setWordWrap(true);
    m_noticeButton = new QPushButton(m_notice);
    m_noticeButton->setObjectName(QStringLiteral("routeNoticeAction"));
    m_noticeSecondButton = new QPushButton(m_notice);
    m_noticeSecondButton->setObjectName(QStringLiteral("routeNoticeSecondAction"));
    auto *dismiss = new QToolButton(m_notice);
    dismiss->setText(QStringLiteral("✕"));
    dismiss->setAutoRaise(true);
    dismiss->setToolTip(tr("Dismiss"));
    nl->addWidget(m_noticeLabel, 1);
    nl->addWidget(m_noticeButton);
    nl->addWidget(m_noticeSecondButton);
    nl->addWidget(dismiss);
    connect(dismiss, &QToolButton::clicked, this, &RouteEditor::hideNotice);
    for (auto [button, action] :
        {std::pair {m_noticeButton, &m_noticeAction}, std::pair {m_noticeSecondButton, &m_noticeSecondAction}}) {
        connect(button, &QPushButton::clicked, this, [this, action] {
            auto run = *action;
            hideNotice();
            if (run)
                run();
        });
    }
    m_notice->hide();

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    v->addWidget(buildHeader());
    auto *noticeBox = new QVBoxLayout;
    noticeBox->setContentsMargins(8, 6, 8, 0);
    noticeBox->addWidget(m_notice);
    v->addLayout(noticeBox);
    v->addWidget(vsplit, 1);

    connect(m_tree, &RouteTreeModel::ruleMoved, this, [this](int route, int from, int to) {
        if (route == m_route && m_rule == from)
            m_rule = to;
        else if (route == m_route && m_rule >= std::min(from, to) && m_rule <= std::max(from, to))
            m_rule += from < to ? -1 : 1;
        revalidate();
        loadSelection();
    });
    connect(m_ruleEditor, &RouteRuleEditor::ruleEdited, this, &RouteEditor::onRuleEdited);
    revalidate();
    loadSelection();
}

RouteEditor::~RouteEditor() = default;

QWidget *RouteEditor::buildHeader()
{
    auto *header = new QFrame(this);
    header->setObjectName(QStringLiteral("routeEditorHeader"));
    auto *h = new QVBoxLayout(header);
    h->setContentsMargins(10, 6, 10, 6);
    h->setSpacing(4);
    m_title = new QLabel(tr("<b>Routes</b>"), header);
    m_status = new QLabel(header);
    m_status->setObjectName(QStringLiteral("routeStatus"));
    m_status->setForegroundRole(QPalette::PlaceholderText);
    m_planeBox = new QComboBox(header);
    m_planeBox->setObjectName(QStringLiteral("dataPlaneBox"));
    for (routing::DataPlane p : {routing::DataPlane::XdsGrpc, routing::DataPlane::Envoy, routing::DataPlane::Caddy,
             routing::DataPlane::Generic})
        m_planeBox->addItem(planeName(p), int(p));
    m_planeBox->setToolTip(
        tr("Validate for this data plane: what it cannot express is refused or noted, with the reason"));
    connect(m_planeBox, &QComboBox::currentIndexChanged, this,
        [this] { setDataPlane(routing::DataPlane(m_planeBox->currentData().toInt())); });
    auto *planeLabel = new QLabel(tr("&Validate for"), header);
    planeLabel->setBuddy(m_planeBox);
    m_revert = new QPushButton(tr("&Revert"), header);
    m_revert->setObjectName(QStringLiteral("revertRouteButton"));
    m_revert->setToolTip(tr("Drop every edit not yet applied"));
    connect(m_revert, &QPushButton::clicked, this, &RouteEditor::revert);
    m_rolloutButton = new QPushButton(tr("Roll &out…"), header);
    m_rolloutButton->setObjectName(QStringLiteral("rolloutButton"));
    connect(m_rolloutButton, &QPushButton::clicked, this, [this] { Q_EMIT rolloutRequested(m_route, m_rule); });
    m_apply = new QPushButton(tr("Review && &Apply…"), header);
    m_apply->setObjectName(QStringLiteral("applyRouteButton"));
    connect(m_apply, &QPushButton::clicked, this, &RouteEditor::reviewAndApply);
    auto *applyShortcut = new QAction(this);
    applyShortcut->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    applyShortcut->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(applyShortcut, &QAction::triggered, this, &RouteEditor::reviewAndApply);
    addAction(applyShortcut);

    // Two rows, so a narrow dock (a 1280 px screen with every dock open) still shows
    // Apply: the status wraps instead of widening the dock, the plane names elide.
    m_status->setWordWrap(true);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_status->setMinimumWidth(80);
    m_planeBox->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_planeBox->setMinimumContentsLength(10);
    m_planeBox->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    int longestPlane = 0;
    for (int i = 0; i < m_planeBox->count(); ++i)
        longestPlane = std::max(longestPlane, m_planeBox->fontMetrics().horizontalAdvance(m_planeBox->itemText(i)));
    m_planeBox->setMaximumWidth(longestPlane + 48);
    auto *top = new QHBoxLayout;
    top->setSpacing(8);
    top->addWidget(m_title, 0, Qt::AlignTop);
    top->addWidget(m_status, 1);
    auto *actions = new QHBoxLayout;
    actions->setSpacing(8);
    actions->addWidget(planeLabel);
    actions->addWidget(m_planeBox, 1);
    actions->addSpacing(6);
    actions->addStretch(0);
    actions->addWidget(m_rolloutButton);
    actions->addWidget(m_revert);
    actions->addWidget(m_apply);
    h->addLayout(top);
    h->addLayout(actions);
    m_headerLayout = h;
    return header;
}

QWidget *RouteEditor::buildTreePane()
{
    auto *pane = new QWidget(this);
    auto *v = new QVBoxLayout(pane);
    v->setContentsMargins(8, 8, 0, 4);
    v->setSpacing(4);

    m_treeView = new QTreeView(pane);
    m_treeView->setObjectName(QStringLiteral("routeTree"));
    m_treeView->setModel(m_tree);
    m_treeView->setUniformRowHeights(true);
    m_treeView->setAlternatingRowColors(false);
    m_treeView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_treeView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_treeView->setDragEnabled(true);
    m_treeView->setAcceptDrops(true);
    m_treeView->setDropIndicatorShown(true);
    m_treeView->setDragDropMode(QAbstractItemView::InternalMove);
    m_treeView->setDefaultDropAction(Qt::MoveAction);
    m_treeView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_treeView->setIndentation(14);
    m_treeView->setTextElideMode(Qt::ElideRight);
    m_treeView->header()->setStretchLastSection(true);
    m_treeView->header()->setSectionResizeMode(QHeaderView::Interactive);
    m_treeView->setColumnHidden(RouteTreeModel::Match, true);
    m_treeView->header()->resizeSection(RouteTreeModel::Name, 170);
    m_treeView->setToolTip(tr("Targets (what clients dial) → routes → rules, first match wins. "
                              "Drag a rule or press Alt+Up / Alt+Down to reorder it."));
    connect(m_tree, &QAbstractItemModel::modelReset, m_treeView, &QTreeView::expandAll);
    connect(m_treeView->selectionModel(), &QItemSelectionModel::currentChanged, this, &RouteEditor::onTreeSelection);

    auto makeButton = [pane](const QString &text, const QString &name, const QString &tip, const QKeySequence &key) {
        auto *b = new QToolButton(pane);
        b->setText(text);
        b->setObjectName(name);
        b->setToolTip(
            key.isEmpty() ? tip : QString(tip + QStringLiteral(" (%1)").arg(key.toString(QKeySequence::NativeText))));
        b->setAutoRaise(true);
        return b;
    };
    m_up = makeButton(tr("▲ Up"), QStringLiteral("ruleUpButton"), tr("Move the rule up: it is tried earlier"),
        QKeySequence(Qt::ALT | Qt::Key_Up));
    m_down = makeButton(tr("▼ Down"), QStringLiteral("ruleDownButton"), tr("Move the rule down: it is tried later"),
        QKeySequence(Qt::ALT | Qt::Key_Down));
    m_addRule = makeButton(tr("+ Rule"), QStringLiteral("addRuleButton"), tr("Add a rule after the selected one"),
        QKeySequence(Qt::CTRL | Qt::Key_Plus));
    m_removeRule = makeButton(tr("− Remove"), QStringLiteral("removeRuleButton"), tr("Remove the selected rule"),
        QKeySequence(QKeySequence::Delete));
    connect(m_up, &QToolButton::clicked, this, [this] { moveCurrentRule(-1); });
    connect(m_down, &QToolButton::clicked, this, [this] { moveCurrentRule(1); });
    connect(m_addRule, &QToolButton::clicked, this, &RouteEditor::addRule);
    connect(m_removeRule, &QToolButton::clicked, this, &RouteEditor::removeCurrentRule);

    auto addShortcut = [this](const QKeySequence &key, std::function<void()> f) {
        auto *a = new QAction(m_treeView);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WidgetShortcut);
        connect(a, &QAction::triggered, this, f);
        m_treeView->addAction(a);
    };
    addShortcut(QKeySequence(Qt::ALT | Qt::Key_Up), [this] { moveCurrentRule(-1); });
    addShortcut(QKeySequence(Qt::ALT | Qt::Key_Down), [this] { moveCurrentRule(1); });
    addShortcut(QKeySequence(QKeySequence::Delete), [this] { removeCurrentRule(); });
    addShortcut(QKeySequence(Qt::CTRL | Qt::Key_Plus), [this] { addRule(); });

    auto *buttons = new QHBoxLayout;
    buttons->setSpacing(2);
    buttons->addWidget(m_up);
    buttons->addWidget(m_down);
    buttons->addStretch(1);
    buttons->addWidget(m_addRule);
    buttons->addWidget(m_removeRule);

    v->addWidget(m_treeView, 1);
    v->addLayout(buttons);
    return pane;
}

QWidget *RouteEditor::buildDetailPane()
{
    m_detail = new QStackedWidget(this);
    m_detail->setObjectName(QStringLiteral("routeDetail"));

    m_placeholder
        = new QLabel(tr("Select a rule to edit its matches, backends and weights, timeouts, retries and "
                        "faults.\n\nOr right-click a service on the graph: Shift traffic…, Add header route…, "
                        "Inject fault…"),
            m_detail);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setMargin(24);
    m_placeholder->setForegroundRole(QPalette::PlaceholderText);
    m_detail->addWidget(m_placeholder);

    m_routePage = new QWidget(m_detail);
    auto *rv = new QVBoxLayout(m_routePage);
    rv->setContentsMargins(12, 10, 12, 12);
    rv->setSpacing(8);
    m_routeTitle = new QLabel(m_routePage);
    QFont tf = m_routeTitle->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.3);
    tf.setBold(true);
    m_routeTitle->setFont(tf);
    m_routeInfo = new QLabel(m_routePage);
    m_routeInfo->setWordWrap(true);
    m_routeInfo->setForegroundRole(QPalette::PlaceholderText);
    m_routeInfo->setTextFormat(Qt::RichText);
    m_hostnames = new QLineEdit(m_routePage);
    m_hostnames->setObjectName(QStringLiteral("routeHostnames"));
    m_hostnames->setPlaceholderText(tr("none: served as <name>.<namespace>"));
    m_hostnames->setToolTip(tr("Hostnames, comma separated: each is a target clients dial (xds:///<hostname>). "
                               "Press Enter to apply."));
    auto *hostRow = new QHBoxLayout;
    auto *hostLabel = new QLabel(tr("&Hostnames"), m_routePage);
    hostLabel->setBuddy(m_hostnames);
    hostRow->addWidget(hostLabel);
    hostRow->addWidget(m_hostnames, 1);
    rv->addWidget(m_routeTitle);
    rv->addLayout(hostRow);
    rv->addWidget(m_routeInfo);
    rv->addStretch(1);
    connect(m_hostnames, &QLineEdit::editingFinished, this, [this] {
        const routing::HttpRoute *r = m_tree->route(m_route);
        if (!r || m_loadingSelection)
            return;
        std::vector<std::string> hosts;
        for (const QString &h : m_hostnames->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
            hosts.push_back(h.trimmed().toStdString());
        if (hosts == r->hostnames)
            return;
        const int route = m_route;
        m_tree->setHostnames(route, hosts);
        restoreSelection(route, -1);
        revalidate();
    });
    m_detail->addWidget(m_routePage);

    m_ruleEditor = new RouteRuleEditor(m_detail);
    m_ruleEditor->setObjectName(QStringLiteral("routeRuleEditor"));
    m_ruleScroll = new QScrollArea(m_detail);
    m_ruleScroll->setWidgetResizable(true);
    m_ruleScroll->setFrameShape(QFrame::NoFrame);
    // Never clipped: a dock narrower than the form scrolls it sideways.
    m_ruleScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_ruleScroll->setWidget(m_ruleEditor);
    m_detail->addWidget(m_ruleScroll);
    return m_detail;
}

QWidget *RouteEditor::buildTabs()
{
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("routeTabs"));
    m_tabs->setDocumentMode(true);

    m_problems = new QListWidget(m_tabs);
    m_problems->setObjectName(QStringLiteral("routeProblems"));
    m_problems->setWordWrap(true);
    m_problems->setAlternatingRowColors(true);
    m_problems->setToolTip(
        tr("Everything the validator found for the chosen data plane; double-click or Enter to go there"));
    connect(m_problems, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        const int route = item->data(Qt::UserRole).toInt();
        const int rule = item->data(Qt::UserRole + 1).toInt();
        if (rule >= 0)
            selectRule(route, rule);
        else if (route >= 0)
            restoreSelection(route, -1);
    });
    m_tabs->addTab(m_problems, tr("Problems"));

    m_changes = new RouteDiffView(m_tabs);
    m_changes->setObjectName(QStringLiteral("routeChanges"));
    m_tabs->addTab(m_changes, tr("Changes"));

    auto *clientsPage = new QWidget(m_tabs);
    auto *cv = new QVBoxLayout(clientsPage);
    cv->setContentsMargins(6, 4, 6, 4);
    cv->setSpacing(4);
    m_clientsSummary = new QLabel(tr("no clients"), clientsPage);
    m_clientsSummary->setObjectName(QStringLiteral("clientsSummary"));
    m_clientsView = new QTableView(clientsPage);
    m_clientsView->setObjectName(QStringLiteral("xdsClientsTable"));
    m_clientsView->setModel(m_clients);
    m_clientsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_clientsView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_clientsView->setAlternatingRowColors(true);
    m_clientsView->setShowGrid(false);
    m_clientsView->setWordWrap(false);
    m_clientsView->verticalHeader()->hide();
    m_clientsView->horizontalHeader()->setStretchLastSection(true);
    m_clientsView->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_clientsView->horizontalHeader()->setHighlightSections(false);
    const int cw = m_clientsView->fontMetrics().averageCharWidth();
    const int widths[] = {20, 17, 11, 13, 14, 13, 13};
    for (int c = 0; c < 7; ++c)
        m_clientsView->horizontalHeader()->resizeSection(c, widths[c] * cw + 12);
    cv->addWidget(m_clientsSummary);
    cv->addWidget(m_clientsView, 1);
    m_tabs->addTab(clientsPage, tr("Clients"));

    auto *historyPage = new QWidget(m_tabs);
    auto *hv = new QVBoxLayout(historyPage);
    hv->setContentsMargins(6, 4, 6, 4);
    hv->setSpacing(4);
    m_historyView = new QTableView(historyPage);
    m_historyView->setObjectName(QStringLiteral("routeHistoryTable"));
    m_historyView->setModel(m_history);
    m_historyView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_historyView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_historyView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_historyView->setAlternatingRowColors(true);
    m_historyView->setShowGrid(false);
    m_historyView->setWordWrap(false);
    m_historyView->verticalHeader()->hide();
    m_historyView->horizontalHeader()->setStretchLastSection(true);
    m_historyView->horizontalHeader()->setHighlightSections(false);
    m_historyView->horizontalHeader()->resizeSection(RouteHistoryModel::Id, 5 * cw + 12);
    m_historyView->horizontalHeader()->resizeSection(RouteHistoryModel::Time, 17 * cw + 12);
    m_historyView->horizontalHeader()->resizeSection(RouteHistoryModel::Target, 22 * cw + 12);
    m_historyDiff = new RouteDiffView(historyPage);
    m_historyDiff->setObjectName(QStringLiteral("historyDiff"));
    m_rollback = new QPushButton(tr("Roll back…"), historyPage);
    m_rollback->setObjectName(QStringLiteral("rollbackButton"));
    m_rollback->setEnabled(false);
    connect(
        m_historyView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &cur) {
            const routing::HistoryEntry *e = m_history->entryAt(cur.row());
            m_rollback->setEnabled(e != nullptr);
            if (!e) {
                m_historyDiff->clear();
                m_rollback->setText(tr("Roll back…"));
                return;
            }
            m_rollback->setText(tr("Roll back #%1").arg(e->id));
            m_rollback->setToolTip(
                tr("Restore the routes as they were just before change #%1. This undoes it and every later "
                   "change; the rollback is itself recorded.")
                    .arg(e->id));
            routing::RouteDiff d;
            d.summary = e->summary;
            d.unified = e->diff;
            m_historyDiff->setDiff(d, tr("This change changed nothing."));
        });
    connect(m_rollback, &QPushButton::clicked, this, [this] {
        const routing::HistoryEntry *e = m_history->entryAt(m_historyView->currentIndex().row());
        if (e)
            Q_EMIT rollbackRequested(qint64(e->id));
    });
    auto *hsplit = new QSplitter(Qt::Horizontal, historyPage);
    hsplit->addWidget(m_historyView);
    hsplit->addWidget(m_historyDiff);
    hsplit->setSizes({420, 380});
    auto *hb = new QHBoxLayout;
    auto *hint = new QLabel(tr("Every applied change, newest first. Rolling back re-applies the routes as they were "
                               "before the chosen change."),
        historyPage);
    hint->setForegroundRole(QPalette::PlaceholderText);
    hint->setWordWrap(true);
    hb->addWidget(hint, 1);
    hb->addWidget(m_rollback);
    hv->addLayout(hb);
    hv->addWidget(hsplit, 1);
    m_tabs->addTab(historyPage, tr("History"));
    return m_tabs;
}

const routing::RouteSet &RouteEditor::editedSet() const { return m_tree->routeSet(); }

bool RouteEditor::hasChanges() const { return !(m_tree->routeSet() == m_applied); }

void RouteEditor::setApplied(const routing::RouteSet &set, quint64 version)
{
    const bool takeOver = !m_hasApplied || !hasChanges() || m_tree->routeSet() == set;
    m_applied = set;
    m_version = version;
    m_hasApplied = true;
    choosePlane();
    if (takeOver) {
        const int route = m_route, rule = m_rule;
        m_tree->setRouteSet(set);
        restoreSelection(route, rule);
        // What is served now holds the edits: "your edits are kept" no longer applies.
        if (m_noticeIsServedChange)
            hideNotice();
    } else {
        showNotice((version > 0 ? tr("The routes being served changed (version %1).").arg(version)
                                : tr("The routes being served changed."))
            + QLatin1Char(' ') + tr("Your edits are kept; the diff now compares them with what is served."));
        m_noticeIsServedChange = true;
    }
    revalidate();
    Q_EMIT editedChanged();
}

void RouteEditor::setEdited(const routing::RouteSet &set)
{
    m_tree->setRouteSet(set);
    m_route = m_rule = -1;
    restoreSelection(set.routes.empty() ? -1 : 0, -1);
    revalidate();
    Q_EMIT editedChanged();
}

void RouteEditor::revert()
{
    const int route = m_route, rule = m_rule;
    m_tree->setRouteSet(m_applied);
    hideNotice();
    restoreSelection(route, rule);
    revalidate();
    Q_EMIT editedChanged();
}

void RouteEditor::setDataPlane(routing::DataPlane plane)
{
    if (m_planeBox->currentData().toInt() != int(plane)) {
        m_planeBox->setCurrentIndex(m_planeBox->findData(int(plane)));
        return;  // the combo's signal comes back here
    }
    // Picked by the operator (or by the program for them): meshscope stops choosing.
    const bool wasChosen = m_planeChosen;
    m_planeChosen = true;
    m_planeReason.clear();
    m_planeBox->setToolTip(
        tr("Validate for this data plane: what it cannot express is refused or noted, with the reason"));
    if (plane == m_plane && wasChosen)
        return;
    m_plane = plane;
    revalidate();
}

void RouteEditor::choosePlane()
{
    if (m_planeChosen || m_plane == routing::DataPlane::Caddy || m_plane == routing::DataPlane::Generic)
        return;
    // A gRPC client ignores what it cannot express, so with one connected its plane is
    // the one that matters; Envoy's user agent names it.
    bool grpc = false, envoy = false;
    for (const routing::XdsClientStatus &c : m_clients->clients()) {
        if (!c.connected)
            continue;
        const bool isEnvoy
            = QString::fromStdString(c.userAgentName).contains(QLatin1String("envoy"), Qt::CaseInsensitive);
        (isEnvoy ? envoy : grpc) = true;
    }
    routing::DataPlane plane = routing::DataPlane::XdsGrpc;
    if (grpc) {
        m_planeReason = tr("a gRPC client is connected");
    } else if (envoy) {
        plane = routing::DataPlane::Envoy;
        m_planeReason = tr("the connected clients are Envoy");
    } else {
        // No client yet: the plane the routes are written for, judged by what each one
        // would flag. A file that uses Envoy-only features is checked for Envoy.
        const size_t forGrpc = routing::validateRoutes(m_applied, routing::DataPlane::XdsGrpc).size();
        const size_t forEnvoy = routing::validateRoutes(m_applied, routing::DataPlane::Envoy).size();
        if (forEnvoy < forGrpc) {
            plane = routing::DataPlane::Envoy;
            m_planeReason = tr("no xDS client yet, and these routes use features only Envoy honours");
        } else {
            m_planeReason = tr("no xDS client yet");
        }
    }
    m_planeBox->setToolTip(tr("Validate for this data plane: what it cannot express is refused or noted, with the "
                              "reason.\nChosen by meshscope (%1) until you pick one.")
                               .arg(m_planeReason));
    if (plane != m_plane) {
        const QSignalBlocker block(m_planeBox);
        m_planeBox->setCurrentIndex(m_planeBox->findData(int(plane)));
        m_plane = plane;
    }
}

void RouteEditor::setTargetDescription(const QString &text)
{
    m_targetDescription = text;
    refreshStatus();
}

QStringList RouteEditor::inputErrors() const
{
    return m_detail->currentWidget() == m_ruleScroll ? m_ruleEditor->inputErrors() : QStringList();
}

bool RouteEditor::canApply() const
{
    return m_applyLock.isEmpty() && hasChanges() && !routing::hasErrors(m_issues) && inputErrors().isEmpty();
}

void RouteEditor::setApplyLock(const QString &reason)
{
    m_applyLock = reason;
    refreshStatus();
}

void RouteEditor::addHeaderWidget(QWidget *widget)
{
    widget->setParent(this);
    m_headerLayout->addWidget(widget);
}

void RouteEditor::refreshRolloutButton()
{
    QString why;
    const routing::RouteSet &applied = m_applied;
    const bool ruleApplied = m_route >= 0 && m_rule >= 0 && size_t(m_route) < applied.routes.size()
        && size_t(m_rule) < applied.routes[size_t(m_route)].rules.size();
    if (!m_applyLock.isEmpty())
        why = m_applyLock;
    else if (hasChanges())
        why = tr("Apply or revert the edits first: a rollout starts from the routes served");
    else if (!ruleApplied)
        why = tr("Select a rule that is served");
    else if (applied.routes[size_t(m_route)].rules[size_t(m_rule)].backends.size() < 2)
        why = tr("The rule has one backend: add the one to roll out to (weight 0) and apply first");
    m_rolloutButton->setEnabled(why.isEmpty());
    m_rolloutButton->setToolTip(why.isEmpty()
            ? tr("Move this rule's traffic to one backend in health-gated steps, rolling back when a gate breaks")
            : why);
}

QString RouteEditor::diffText() const { return m_changes->toPlainText(); }

void RouteEditor::showTab(Tab tab) { m_tabs->setCurrentIndex(int(tab)); }

bool RouteEditor::selectRule(int route, int rule)
{
    const QModelIndex idx = m_tree->indexOfRule(route, rule);
    if (!idx.isValid())
        return false;
    m_treeView->expand(idx.parent());
    m_treeView->setCurrentIndex(idx);
    m_treeView->scrollTo(idx);
    // setCurrentIndex reports nothing when the row is already current.
    if (m_route != route || m_rule != rule) {
        m_route = route;
        m_rule = rule;
        loadSelection();
    }
    return true;
}

void RouteEditor::restoreSelection(int route, int rule)
{
    QModelIndex idx = rule >= 0 ? m_tree->indexOfRule(route, rule) : QModelIndex();
    if (!idx.isValid() && route >= 0)
        idx = m_tree->indexOfRoute(route);
    m_treeView->expandAll();
    const QSignalBlocker block(m_treeView->selectionModel());
    if (idx.isValid()) {
        m_treeView->setCurrentIndex(idx);
        m_route = idx.data(RouteTreeModel::RouteIndexRole).toInt();
        m_rule = idx.data(RouteTreeModel::KindRole).toInt() == int(RouteTreeModel::Kind::Rule)
            ? idx.data(RouteTreeModel::RuleIndexRole).toInt()
            : -1;
    } else {
        m_treeView->setCurrentIndex({});
        m_route = m_rule = -1;
    }
    m_treeView->viewport()->update();
    loadSelection();
}

void RouteEditor::onTreeSelection()
{
    const QModelIndex idx = m_treeView->currentIndex();
    const auto kind = RouteTreeModel::Kind(idx.data(RouteTreeModel::KindRole).toInt());
    if (!idx.isValid() || kind == RouteTreeModel::Kind::Target) {
        m_route = m_rule = -1;
    } else {
        m_route = idx.data(RouteTreeModel::RouteIndexRole).toInt();
        m_rule = kind == RouteTreeModel::Kind::Rule ? idx.data(RouteTreeModel::RuleIndexRole).toInt() : -1;
    }
    loadSelection();
    refreshRolloutButton();
}

QStringList RouteEditor::knownServices() const
{
    QStringList out;
    const routing::RouteSet &set = m_tree->routeSet();
    for (const routing::EndpointSlice &s : set.endpointSlices) {
        if (!s.serviceName.empty() && !out.contains(qs(s.serviceName)))
            out << qs(s.serviceName);
    }
    for (const routing::HttpRoute &r : set.routes) {
        for (const routing::RouteRule &rule : r.rules) {
            for (const routing::BackendRef &b : rule.backends) {
                if (!b.name.empty() && !out.contains(qs(b.name)))
                    out << qs(b.name);
            }
        }
    }
    out.sort();
    return out;
}

void RouteEditor::loadSelection()
{
    m_loadingSelection = true;
    const routing::HttpRoute *r = m_tree->route(m_route);
    const routing::RouteRule *rule = m_tree->rule(m_route, m_rule);
    if (rule) {
        const QString key = qs(r->ns) + QLatin1Char('/') + qs(r->name);
        QStringList targets;
        // gRPC clients dial a route's hostname as an xds:/// target; proxies match it as a Host.
        for (const std::string &h : r->hostnames)
            targets << (m_plane == routing::DataPlane::Caddy || m_plane == routing::DataPlane::Envoy
                               ? QString()
                               : QStringLiteral("xds:///"))
                    + qs(h);
        m_ruleEditor->setRule(*rule, tr("Rule %1 of %2").arg(m_rule + 1).arg(key),
            tr("%1 · tried in order, first match wins · %2")
                .arg(targets.isEmpty() ? tr("no hostnames") : targets.join(QStringLiteral(", ")),
                    tr("%n rule(s) in this route", nullptr, int(r->rules.size()))),
            knownServices());
        m_ruleEditor->setIssues(m_tree->issuesFor(m_route, m_rule));
        m_detail->setCurrentWidget(m_ruleScroll);
    } else if (r) {
        m_routeTitle->setText(tr("HTTPRoute %1/%2").arg(qs(r->ns), qs(r->name)));
        QStringList hosts;
        for (const std::string &h : r->hostnames)
            hosts << qs(h);
        m_hostnames->setText(hosts.join(QStringLiteral(", ")));
        QStringList lines;
        lines << tr("%n rule(s), tried in order.", nullptr, int(r->rules.size()));
        for (const routing::RouteIssue &i : m_tree->issuesFor(m_route, -1)) {
            lines << QStringLiteral("<span style='color:%1'>%2</span> %3")
                         .arg((i.severity == routing::Severity::Error ? routestyle::kErrorColor
                                                                      : routestyle::kWarningColor)
                                  .name(),
                             i.severity == routing::Severity::Error ? tr("error") : tr("warning"),
                             QString(qs(i.field) + QStringLiteral(": ") + qs(i.message)).toHtmlEscaped());
        }
        m_routeInfo->setText(lines.join(QStringLiteral("<br>")));
        m_detail->setCurrentWidget(m_routePage);
    } else {
        m_detail->setCurrentWidget(m_placeholder);
    }
    const routing::HttpRoute *cr = m_tree->route(m_route);
    m_up->setEnabled(rule && m_rule > 0);
    m_down->setEnabled(rule && cr && size_t(m_rule + 1) < cr->rules.size());
    m_removeRule->setEnabled(rule != nullptr);
    m_addRule->setEnabled(r != nullptr);
    m_loadingSelection = false;
    refreshStatus();
}

void RouteEditor::onRuleEdited()
{
    if (m_loadingSelection || !m_tree->rule(m_route, m_rule))
        return;
    m_tree->setRule(m_route, m_rule, m_ruleEditor->rule());
    revalidate();
    Q_EMIT editedChanged();
}

void RouteEditor::revalidate()
{
    m_issues = routing::validateRoutes(m_tree->routeSet(), m_plane);
    m_tree->setIssues(m_issues);
    if (m_tree->rule(m_route, m_rule))
        m_ruleEditor->setIssues(m_tree->issuesFor(m_route, m_rule));
    m_diff = routing::diffRouteSets(m_applied, m_tree->routeSet());
    m_changes->setDiff(m_diff, hasChanges() ? tr("Only formatting differs.") : tr("No unapplied changes."));
    refreshProblems();
    refreshStatus();
    refreshRouted();
}

void RouteEditor::refreshProblems()
{
    m_problems->clear();
    int errors = 0, warnings = 0;
    const QIcon err = dotIcon(routestyle::kErrorColor);
    const QIcon warn = dotIcon(routestyle::kWarningColor);
    for (const QString &e : inputErrors()) {
        auto *item = new QListWidgetItem(err, e, m_problems);
        item->setData(Qt::UserRole, m_route);
        item->setData(Qt::UserRole + 1, m_rule);
        ++errors;
    }
    for (const routing::RouteIssue &i : m_issues) {
        const bool error = i.severity == routing::Severity::Error;
        auto *item = new QListWidgetItem(error ? err : warn, issueLine(i), m_problems);
        const auto [route, rule] = m_tree->locate(i);
        item->setData(Qt::UserRole, route);
        item->setData(Qt::UserRole + 1, rule);
        item->setToolTip(qs(i.toString()));
        (error ? errors : warnings) += 1;
    }
    QString title = tr("Problems");
    if (errors + warnings > 0)
        title += QStringLiteral(" (%1)").arg(errors + warnings);
    m_tabs->setTabText(int(Tab::Problems), title);
    m_tabs->tabBar()->setTabTextColor(int(Tab::Problems),
        errors > 0         ? routestyle::kErrorColor
            : warnings > 0 ? routestyle::kWarningColor
                           : palette().color(QPalette::WindowText));
    if (errors + warnings == 0)
        new QListWidgetItem(dotIcon(routestyle::kOkColor),
            m_planeReason.isEmpty() ? tr("No problems for %1.").arg(planeName(m_plane))
                                    : tr("No problems for %1 (%2).").arg(planeName(m_plane), m_planeReason),
            m_problems);
}

void RouteEditor::refreshStatus()
{
    int errors = int(inputErrors().size()), warnings = 0;
    for (const routing::RouteIssue &i : m_issues)
        (i.severity == routing::Severity::Error ? errors : warnings) += 1;
    const int changes = int(m_diff.summary.size());
    QStringList parts;
    if (m_hasApplied)
        parts << (m_version > 0 ? tr("serving v%1").arg(m_version) : tr("loaded"));
    if (!m_targetDescription.isEmpty())
        parts << m_targetDescription;
    parts << (hasChanges() ? tr("%n unapplied change(s)", nullptr, std::max(1, changes)) : tr("no unapplied changes"));
    QString text = parts.join(QStringLiteral(" · "));
    if (errors > 0)
        text += QStringLiteral(" · <span style='color:%1'>%2</span>")
                    .arg(routestyle::kErrorColor.name(), tr("%n error(s)", nullptr, errors));
    else if (warnings > 0)
        text += QStringLiteral(" · <span style='color:%1'>%2</span>")
                    .arg(routestyle::kWarningColor.name(), tr("%n warning(s)", nullptr, warnings));
    m_status->setText(text);

    const bool ok = canApply();
    m_apply->setEnabled(ok);
    m_revert->setEnabled(hasChanges());
    refreshRolloutButton();
    if (!m_applyLock.isEmpty())
        m_apply->setToolTip(m_applyLock);
    else if (ok)
        m_apply->setToolTip(tr("Show the diff, then apply every change at once (Ctrl+Enter)"));
    else if (!hasChanges())
        m_apply->setToolTip(tr("Nothing to apply: the edited routes equal what is served"));
    else
        m_apply->setToolTip(tr("Fix %n error(s) first (see Problems)", nullptr, errors));
    m_tabs->setTabText(int(Tab::Changes), hasChanges() ? tr("Changes (%1)").arg(std::max(1, changes)) : tr("Changes"));
}

void RouteEditor::refreshRouted()
{
    QSet<QString> routed;
    for (const std::string &service : routing::routedServices(m_tree->routeSet()))
        routed.insert(qs(service));
    if (routed != m_routed) {
        m_routed = routed;
        Q_EMIT routedServicesChanged();
    }
}

bool RouteEditor::routesService(const QString &service) const
{
    return routing::routesService(m_tree->routeSet(), service.toStdString());
}

QString RouteEditor::routingSummary(const QString &service) const
{
    const routing::RouteSet &set = m_tree->routeSet();
    QStringList routes, targets;
    for (const routing::ServiceRouting &sr : routing::routingFor(set, service.toStdString())) {
        const routing::HttpRoute &r = set.routes[size_t(sr.route)];
        QStringList rules;
        for (const int k : sr.rules)
            rules << (r.rules[size_t(k)].name.empty() ? tr("#%1").arg(k + 1) : qs(r.rules[size_t(k)].name));
        routes << tr("HTTPRoute %1/%2 (%n rule(s): %3)", nullptr, int(rules.size()))
                      .arg(qs(r.ns), qs(r.name), rules.join(QStringLiteral(", ")));
        for (const std::string &h : r.hostnames) {
            if (!targets.contains(qs(h)))
                targets << qs(h);
        }
    }
    if (routes.isEmpty())
        return {};
    QString out = routes.join(QStringLiteral("; "));
    if (!targets.isEmpty())
        out += QStringLiteral(" · ") + tr("target %1").arg(targets.join(QStringLiteral(", ")));
    if (!m_targetDescription.isEmpty())
        out += QStringLiteral(" · ") + m_targetDescription;
    return out;
}

void RouteEditor::withRuleFor(const QString &service, const QString &what, std::function<void(int, int)> then)
{
    if (const auto at = routing::findRuleFor(m_tree->routeSet(), service.toStdString())) {
        hideNotice();
        then(at->route, at->rule);
        return;
    }
    showNotice(tr("No route sends traffic to %1, so there is nothing to %2 yet.").arg(service, what),
        tr("Create a route"), [this, service, then] {
            const int route = createRouteFor(service);
            if (route >= 0)
                then(route, 0);
        });
}

void RouteEditor::shiftTraffic(const QString &service)
{
    withRuleFor(service, tr("shift"), [this, service](int route, int rule) {
        selectRule(route, rule);
        openWizard(new ShiftTrafficDialog(m_tree->routeSet(), {route, rule}, service, knownServices(), this));
    });
}

void RouteEditor::addHeaderRoute(const QString &service)
{
    withRuleFor(service, tr("route by header"), [this, service](int route, int rule) {
        selectRule(route, rule);
        openWizard(new HeaderRouteDialog(m_tree->routeSet(), {route, rule}, service, knownServices(), this));
    });
}

void RouteEditor::injectFault(const QString &service)
{
    withRuleFor(service, tr("inject faults into"), [this, service](int route, int rule) {
        selectRule(route, rule);
        openWizard(new FaultDialog(m_tree->routeSet(), {route, rule}, service, this));
    });
}

RouteWizard *RouteEditor::wizard() const { return m_wizard; }

void RouteEditor::openWizard(RouteWizard *wizard)
{
    if (m_wizard)
        m_wizard->reject();
    m_wizard = wizard;
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &QDialog::accepted, this, [this, wizard] {
        // The wizard edited a copy; the edited routes may have changed underneath since.
        if (!(wizard->startSet() == m_tree->routeSet())) {
            showNotice(tr("The routes changed while the dialog was open, so its change was not made. Try again."));
            return;
        }
        const routing::RouteEdit e = wizard->edit();
        if (!e.ok())
            return;
        m_tree->setRouteSet(e.set);
        restoreSelection(e.at.route, e.at.rule);
        revalidate();
        Q_EMIT editedChanged();
        if (canApply())
            reviewAndApply();
        else if (hasChanges())
            showNotice(tr("The change is in the edited routes, but they cannot be applied yet: see Problems."));
    });
    wizard->open();
}

int RouteEditor::createRouteFor(const QString &service)
{
    const std::optional<routing::HttpRoute> r = routing::defaultRouteFor(m_tree->routeSet(), service.toStdString());
    if (!r)
        return -1;
    const int route = m_tree->addRoute(*r);
    restoreSelection(route, 0);
    revalidate();
    Q_EMIT editedChanged();
    return route;
}

bool RouteEditor::moveCurrentRule(int delta)
{
    const routing::HttpRoute *r = m_tree->route(m_route);
    if (!r || !m_tree->rule(m_route, m_rule))
        return false;
    const int to = m_rule + delta;
    if (to < 0 || size_t(to) >= r->rules.size())
        return false;
    const bool ok = m_tree->moveRule(m_route, m_rule, to);  // ruleMoved updates the selection
    if (ok) {
        const QModelIndex idx = m_tree->indexOfRule(m_route, m_rule);
        const QSignalBlocker block(m_treeView->selectionModel());
        m_treeView->setCurrentIndex(idx);
        Q_EMIT editedChanged();
    }
    return ok;
}

void RouteEditor::addRule()
{
    const routing::HttpRoute *r = m_tree->route(m_route);
    if (!r)
        return;
    routing::RouteRule nr;
    const routing::RouteRule *cur = m_tree->rule(m_route, m_rule);
    std::string name = "rule";
    for (int n = int(r->rules.size()) + 1;; ++n) {
        name = "rule-" + std::to_string(n);
        if (std::none_of(r->rules.begin(), r->rules.end(), [&](const routing::RouteRule &x) { return x.name == name; }))
            break;
    }
    nr.name = name;
    nr.matches.push_back(
        routing::RouteMatch {routing::PathMatch {routing::PathMatchType::PathPrefix, "/"}, {}, {}, {}});
    if (cur && !cur->backends.empty()) {
        routing::BackendRef b = cur->backends.front();
        b.weight = 1;
        nr.backends.push_back(b);
    } else if (!r->rules.empty() && !r->rules.front().backends.empty()) {
        routing::BackendRef b = r->rules.front().backends.front();
        b.weight = 1;
        nr.backends.push_back(b);
    }
    const int route = m_route;
    const int at = m_tree->insertRule(route, cur ? m_rule + 1 : int(r->rules.size()), nr);
    restoreSelection(route, at);
    revalidate();
    m_ruleEditor->matchEditor()->pathValueEdit()->setFocus();
    Q_EMIT editedChanged();
}

void RouteEditor::removeCurrentRule()
{
    if (!m_tree->rule(m_route, m_rule))
        return;
    const int route = m_route, rule = m_rule;
    m_tree->removeRule(route, rule);
    const routing::HttpRoute *r = m_tree->route(route);
    restoreSelection(route, r && !r->rules.empty() ? std::min(rule, int(r->rules.size()) - 1) : -1);
    revalidate();
    Q_EMIT editedChanged();
}

void RouteEditor::reviewAndApply()
{
    revalidate();
    if (!canApply() || m_review)
        return;
    const routing::RouteSet reviewed = m_tree->routeSet();
    if (!openReview(m_diff, reviewed))
        return;
    connect(m_review, &QDialog::accepted, this, [this, reviewed] {
        // What was reviewed is what is applied, even if an edit slipped in meanwhile.
        Q_EMIT applyRequested(reviewed);
    });
    m_review->open();
}

void RouteEditor::reviewRollback(qint64 entryId, const meshscope::routing::RouteSet &set)
{
    if (m_review)
        return;
    if (!openReview(routing::diffRouteSets(m_applied, set), set))
        return;
    m_review->setRollbackOf(entryId);
    connect(m_review, &QDialog::accepted, this, [this, set, entryId] { Q_EMIT rollbackConfirmed(set, entryId); });
    m_review->open();
}

void RouteEditor::setFilePreview(std::function<RouteFilePreview(const routing::RouteSet &)> preview)
{
    m_filePreview = std::move(preview);
}

RouteDiffDialog *RouteEditor::openReview(const routing::RouteDiff &diff, const routing::RouteSet &set)
{
    if (m_review)
        return nullptr;
    QStringList warnings;
    for (const routing::RouteIssue &i : routing::validateRoutes(set, m_plane))
        warnings << issueLine(i);
    const QString target = m_targetDescription.isEmpty() ? planeName(m_plane) : m_targetDescription;
    m_review = new RouteDiffDialog(diff, target, warnings, this);
    m_review->setAttribute(Qt::WA_DeleteOnClose);
    // Answered is gone: the next review may open before the event loop deletes this one.
    connect(m_review, &QDialog::finished, this, [this] { m_review = nullptr; });
    if (m_plane != routing::DataPlane::Caddy) {
        const std::vector<routing::XdsClientStatus> &clients = m_clients->clients();
        const bool anyConnected = std::any_of(
            clients.begin(), clients.end(), [](const routing::XdsClientStatus &c) { return c.connected; });
        if (!anyConnected)
            m_review->addCaution(tr("No xDS client is connected: nothing changes on the data plane until one connects "
                                    "(it is then sent these routes)."));
    }
    if (m_filePreview) {
        const RouteFilePreview file = m_filePreview(set);
        m_review->setFileDiff(file.fileName, file.diff, file.notes);
    }
    Q_EMIT reviewOpened(m_review, m_applied, set);
    return m_review;
}

void RouteEditor::reportApplyError(const QString &message) { showNotice(tr("Not applied: %1").arg(message)); }

void RouteEditor::reportApplyError(const QString &message, const QString &actionText, std::function<void()> action,
    const QString &secondText, std::function<void()> second)
{
    showNotice(tr("Not applied: %1").arg(message), actionText, std::move(action), secondText, std::move(second));
}

void RouteEditor::reportTargetProblem(const QString &message, const QString &actionText, std::function<void()> action)
{
    showNotice(message, actionText, std::move(action));
}

void RouteEditor::setClients(std::vector<meshscope::routing::XdsClientStatus> clients)
{
    m_clients->setServedVersion(m_version > 0 ? QString::number(m_version) : QString());
    m_clients->setClients(std::move(clients));
    m_clientsSummary->setText(m_clients->summary());
    if (!m_planeChosen) {
        const routing::DataPlane before = m_plane;
        choosePlane();
        if (m_plane != before)
            revalidate();
    }
    int nacked = 0;
    for (const routing::XdsClientStatus &c : m_clients->clients()) {
        for (const routing::XdsTypeStatus &t : c.types)
            nacked += (c.connected && t.rejected) ? 1 : 0;
    }
    m_tabs->setTabText(
        int(Tab::Clients), m_clients->rowCount() > 0 ? tr("Clients (%1)").arg(m_clients->rowCount()) : tr("Clients"));
    m_tabs->tabBar()->setTabTextColor(
        int(Tab::Clients), nacked > 0 ? routestyle::kErrorColor : palette().color(QPalette::WindowText));
}

void RouteEditor::setHistory(std::vector<meshscope::routing::HistoryEntry> entries)
{
    const int64_t selected = m_history->entryAt(m_historyView->currentIndex().row())
        ? m_history->entryAt(m_historyView->currentIndex().row())->id
        : -1;
    m_history->setEntries(std::move(entries));
    m_tabs->setTabText(
        int(Tab::History), m_history->rowCount() > 0 ? tr("History (%1)").arg(m_history->rowCount()) : tr("History"));
    const int row
        = m_history->rowOfId(selected >= 0 ? selected : (m_history->entryAt(0) ? m_history->entryAt(0)->id : -1));
    if (row >= 0)
        m_historyView->setCurrentIndex(m_history->index(row, 0));
}

void RouteEditor::showNotice(const QString &text, const QString &actionText, std::function<void()> action,
    const QString &secondText, std::function<void()> second)
{
    m_noticeLabel->setText(text);
    m_noticeIsServedChange = false;
    m_noticeAction = std::move(action);
    m_noticeButton->setText(actionText);
    m_noticeButton->setVisible(!actionText.isEmpty());
    m_noticeSecondAction = std::move(second);
    m_noticeSecondButton->setText(secondText);
    m_noticeSecondButton->setVisible(!secondText.isEmpty());
    m_notice->show();
}

void RouteEditor::hideNotice()
{
    m_notice->hide();
    m_noticeIsServedChange = false;
    m_noticeAction = nullptr;
    m_noticeSecondAction = nullptr;
}

QString RouteEditor::noticeText() const { return m_notice->isHidden() ? QString() : m_noticeLabel->text(); }

}  // namespace meshscope
