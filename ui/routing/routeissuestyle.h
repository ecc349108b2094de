#pragma once
// How the route editor shows validation issues next to the fields they concern: a
// red (error) or amber (warning) outline on the field with the message as its
// tooltip, and a short list under each section. Shared by the match, backend and
// rule editors so issues look the same everywhere.

#include "routing/routeissue.h"

#include <QColor>
#include <QString>

#include <string>
#include <vector>

QT_BEGIN_NAMESPACE
class QLabel;
class QWidget;
QT_END_NAMESPACE

namespace meshscope::routestyle {

inline const QColor kErrorColor(0xf8, 0x51, 0x49);
inline const QColor kWarningColor(0xd2, 0x99, 0x22);
inline const QColor kOkColor(0x3f, 0xb9, 0x50);
inline const QColor kDimColor(0x8b, 0x94, 0x9e);

// Issues whose field starts with `prefix` (e.g. "backendRefs[1]", "retry").
std::vector<routing::RouteIssue> issuesUnder(const std::vector<routing::RouteIssue> &issues, const std::string &prefix);

// Outlines `field` for the worst of `issues` (none: back to normal), with their
// messages as tooltip; `normalTip` is restored when there is no issue.
void markField(QWidget *field, const std::vector<routing::RouteIssue> &issues, const QString &normalTip);

// Fills `label` with one line per issue ("error: message"), hidden when empty.
// `stripPrefix` is removed from the field path shown.
void showIssues(QLabel *label, const std::vector<routing::RouteIssue> &issues, const std::string &stripPrefix = {});

// A label for section issues: wrapped, selectable, hidden until it has something.
QLabel *makeIssueLabel(QWidget *parent);

}  // namespace meshscope::routestyle
