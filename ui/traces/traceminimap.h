#pragma once
// A thin overview of the whole waterfall: every visible row's bar squeezed into a strip
// (time across, rows down), with the rows the table shows marked; a click or drag
// scrolls the table there. The strip is rendered once into a QImage when the rows or
// the size change (a density map past a few thousand rows), so painting it, which
// happens on every scroll step, is one image blit and one rectangle.

#include <QImage>
#include <QWidget>

namespace meshscope {

class TraceRowsModel;

class TraceMinimap : public QWidget {
    Q_OBJECT
public:
    explicit TraceMinimap(TraceRowsModel *model, QWidget *parent = nullptr);

    // The rows the table shows: [firstRow, firstRow + rowCount).
    void setWindow(int firstRow, int rowCount);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    // For tests: the cached overview (null until first painted).
    const QImage &overview() const { return m_image; }
    int renderCount() const { return m_renders; }

Q_SIGNALS:
    // The row the user pointed at, to be brought to the middle of the table.
    void rowRequested(int row);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;

private:
    void invalidate();
    void render();
    QRect stripRect() const;
    void requestAt(int y);

    TraceRowsModel *m_model;
    QImage m_image;
    bool m_dirty = true;
    int m_renders = 0;
    int m_firstRow = 0;
    int m_windowRows = 0;
};

}  // namespace meshscope
