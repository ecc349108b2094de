#include "darktheme.h"

#include <QApplication>
#include <QPalette>
#include <QStyleFactory>
#include <QToolTip>

namespace meshscope {

void applyDarkTheme(QApplication &app)
{
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));

    const QColor window(0x1c, 0x21, 0x28);
    const QColor base(0x14, 0x18, 0x1e);
    const QColor alternate(0x1a, 0x1f, 0x26);
    const QColor text(0xd6, 0xdd, 0xe5);
    const QColor dimText(0x8b, 0x94, 0x9e);
    const QColor button(0x25, 0x2c, 0x35);
    const QColor accent(0x2f, 0x81, 0xf7);

    QPalette p;
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, alternate);
    p.setColor(QPalette::ToolTipBase, QColor(0x2d, 0x33, 0x3b));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, dimText);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, button);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x7b, 0x72));
    p.setColor(QPalette::Light, QColor(0x3a, 0x42, 0x4d));
    p.setColor(QPalette::Midlight, QColor(0x30, 0x37, 0x40));
    p.setColor(QPalette::Mid, QColor(0x3d, 0x44, 0x4d));
    p.setColor(QPalette::Dark, QColor(0x0d, 0x11, 0x17));
    p.setColor(QPalette::Shadow, QColor(0x05, 0x07, 0x0a));
    p.setColor(QPalette::Highlight, accent);
    p.setColor(QPalette::HighlightedText, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::Link, QColor(0x58, 0xa6, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xbc, 0x8c, 0xff));
    for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
        p.setColor(QPalette::Disabled, role, QColor(0x6e, 0x76, 0x81));
    }
    p.setColor(QPalette::Disabled, QPalette::Button, window);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x3d, 0x44, 0x4d));
    app.setPalette(p);
    QToolTip::setPalette(p);

    app.setStyleSheet(QStringLiteral(
        "QToolTip { color: #d6dde5; background-color: #2d333b; border: 1px solid #444c56; padding: 4px; }"
        "QDockWidget::title { background: #22282f; padding: 5px 8px; text-align: left; }"
        "QDockWidget { font-weight: normal; }"
        "QStatusBar { background: #161b22; border-top: 1px solid #30363d; }"
        "QStatusBar QLabel { padding: 0 6px; }"
        "QToolBar { background: #1c2128; border-bottom: 1px solid #30363d; spacing: 4px; padding: 3px; }"
        "QToolBar QToolButton { padding: 3px 8px; border: 1px solid transparent; border-radius: 3px; }"
        "QToolBar QToolButton:hover { background: #262d36; border-color: #3d444d; }"
        "QToolBar QToolButton:checked { background: #1b3556; border-color: #2f81f7; color: #e6edf3; }"
        "#exportButton::menu-indicator { image: none; width: 0; }"
        "QTableView { gridline-color: #30363d; selection-background-color: #1f4f8f; }"
        "QHeaderView::section { background: #22282f; color: #aab3bd; border: none;"
        " border-right: 1px solid #30363d; border-bottom: 1px solid #30363d; padding: 3px 6px; }"
        "#metricTiles { background: #161b22; border: 1px solid #30363d; border-radius: 4px; }"));
}

}  // namespace meshscope
