#include "routing/routediffview.h"

#include "routing/routeissuestyle.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QSyntaxHighlighter>
#include <QTabBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace meshscope {

namespace {

// Colours by the first characters of each line; the summary lines ("• ...") stand out.
class DiffHighlighter : public QSyntaxHighlighter {
public:
    explicit DiffHighlighter(QTextDocument *doc)
        : QSyntaxHighlighter(doc)
    {
        m_added.setForeground(QColor(0x7e, 0xe7, 0x87));
        m_added.setBackground(QColor(0x12, 0x2d, 0x1a));
        m_removed.setForeground(QColor(0xff, 0xa1, 0x98));
        m_removed.setBackground(QColor(0x3a, 0x16, 0x18));
        m_hunk.setForeground(QColor(0x79, 0xc0, 0xff));
        m_file.setForeground(routestyle::kDimColor);
        m_file.setFontWeight(QFont::Bold);
        m_summary.setForeground(QColor(0xe6, 0xed, 0xf3));
        m_summary.setFontWeight(QFont::Bold);
        m_context.setForeground(QColor(0xa0, 0xa8, 0xb2));
    }

protected:
    void highlightBlock(const QString &text) override
    {
        if (text.startsWith(QLatin1String("+++")) || text.startsWith(QLatin1String("---")))
            setFormat(0, int(text.size()), m_file);
        else if (text.startsWith(QLatin1Char('+')))
            setFormat(0, int(text.size()), m_added);
        else if (text.startsWith(QLatin1Char('-')))
            setFormat(0, int(text.size()), m_removed);
        else if (text.startsWith(QLatin1String("@@")))
            setFormat(0, int(text.size()), m_hunk);
        else if (text.startsWith(QStringLiteral("• ")))
            setFormat(0, int(text.size()), m_summary);
        else
            setFormat(0, int(text.size()), m_context);
    }

private:
    QTextCharFormat m_added, m_removed, m_hunk, m_file, m_summary, m_context;
};

}  // namespace

RouteDiffView::RouteDiffView(QWidget *parent)
    : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    setFont(mono);
    setTabChangesFocus(true);
    new DiffHighlighter(document());
}

QString RouteDiffView::diffText(const routing::RouteDiff &diff)
{
    QStringList lines;
    for (const std::string &s : diff.summary)
        lines << QStringLiteral("• ") + QString::fromStdString(s);
    if (!diff.summary.empty())
        lines << QString();
    QString text = lines.join(QLatin1Char('\n'));
    text += QString::fromStdString(diff.unified);
    return text;
}

void RouteDiffView::setDiff(const routing::RouteDiff &diff, const QString &emptyText)
{
    const int scroll = verticalScrollBar() ? verticalScrollBar()->value() : 0;
    setPlainText(diff.empty() ? emptyText : diffText(diff));
    if (verticalScrollBar())
        verticalScrollBar()->setValue(scroll);
}

RouteDiffDialog::RouteDiffDialog(
    const routing::RouteDiff &diff, const QString &target, const QStringList &warnings, QWidget *parent)
    : QDialog(parent)
    , m_view(new RouteDiffView(this))
    , m_apply(nullptr)
    , m_target(target)
    , m_changes(int(diff.summary.size()))
{
    setObjectName(QStringLiteral("routeDiffDialog"));
    setWindowTitle(tr("Review route changes"));
    m_heading = new QLabel(
        tr("<b>%n change(s)</b> will be applied to %1 atomically and recorded in the history.", nullptr, m_changes)
            .arg(target.toHtmlEscaped()),
        this);
    m_heading->setObjectName(QStringLiteral("routeDiffHeading"));
    m_heading->setWordWrap(true);
    m_view->setObjectName(QStringLiteral("routeDiffDialogText"));
    m_view->setDiff(diff, tr("No changes."));
    auto *buttons = new QDialogButtonBox(this);
    m_apply = buttons->addButton(tr("&Apply"), QDialogButtonBox::AcceptRole);
    m_apply->setObjectName(QStringLiteral("confirmApplyButton"));
    m_apply->setDefault(true);
    buttons->addButton(QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    m_layout = new QVBoxLayout(this);
    m_layout->addWidget(m_heading);
    m_cautions = new QLabel(this);
    m_cautions->setObjectName(QStringLiteral("routeDiffCautions"));
    m_cautions->setWordWrap(true);
    m_cautions->hide();
    m_layout->addWidget(m_cautions);
    if (!warnings.isEmpty()) {
        auto *w = new QLabel(this);
        w->setWordWrap(true);
        QStringList lines;
        for (const QString &s : warnings)
            lines << QStringLiteral("<span style='color:%1'>▲</span> %2")
                         .arg(routestyle::kWarningColor.name(), s.toHtmlEscaped());
        w->setText(lines.join(QStringLiteral("<br>")));
        m_layout->addWidget(w);
    }
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("routeDiffTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_view, tr("Routes"));
    m_tabs->tabBar()->hide();  // one tab until a file diff is added
    m_layout->addWidget(m_tabs, 1);
    m_layout->addWidget(buttons);
    resize(760, 560);
}

void RouteDiffDialog::setRollbackOf(qint64 entryId)
{
    setWindowTitle(tr("Review rollback of change #%1").arg(entryId));
    m_heading->setText(tr("Rolling back change #%1: <b>%n change(s)</b> will be applied to %2 atomically and recorded "
                          "in the history.",
        nullptr, m_changes)
                           .arg(entryId)
                           .arg(m_target.toHtmlEscaped()));
    m_apply->setText(tr("&Roll back"));
}

void RouteDiffDialog::setFileDiff(const QString &fileName, const QString &unifiedDiff, const QStringList &notes)
{
    auto *page = new QWidget(m_tabs);
    auto *v = new QVBoxLayout(page);
    v->setContentsMargins(0, 6, 0, 0);
    auto *note = new QLabel(page);
    note->setObjectName(QStringLiteral("routeDiffFileNote"));
    note->setWordWrap(true);
    note->setTextFormat(Qt::PlainText);
    note->setText(notes.isEmpty()
            ? tr("Only the lines below change in %1; its comments, key order and layout are kept.").arg(fileName)
            : notes.join(QLatin1Char('\n')));
    if (!notes.isEmpty()) {
        QPalette p = note->palette();
        p.setColor(QPalette::WindowText, routestyle::kWarningColor);
        note->setPalette(p);
    }
    m_fileView = new RouteDiffView(page);
    m_fileView->setObjectName(QStringLiteral("routeDiffFileText"));
    routing::RouteDiff d;
    d.unified = unifiedDiff.toStdString();
    m_fileView->setDiff(d, tr("The file does not change."));
    v->addWidget(note);
    v->addWidget(m_fileView, 1);
    m_tabs->addTab(page, tr("File %1").arg(fileName));
    m_tabs->tabBar()->show();
}

void RouteDiffDialog::addPage(QWidget *page, const QString &title)
{
    page->setParent(m_tabs);
    m_tabs->addTab(page, title);
    m_tabs->tabBar()->show();
}

void RouteDiffDialog::addCaution(const QString &text)
{
    const QString line = QStringLiteral("<span style='color:%1'>▲ %2</span>")
                             .arg(routestyle::kWarningColor.name(), text.toHtmlEscaped());
    m_cautions->setText(m_cautions->text().isEmpty() ? line : m_cautions->text() + QStringLiteral("<br>") + line);
    m_cautions->show();
}

}  // namespace meshscope
