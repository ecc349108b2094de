#pragma once
// The dashboard's look: Fusion with a dark palette tuned for long sessions in front
// of a busy graph (low-glare background, clear text, one accent colour).

#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QApplication;
QT_END_NAMESPACE

namespace meshscope {

void applyDarkTheme(QApplication &app);

}  // namespace meshscope
