#include "routing/routeissue.h"

namespace meshscope::routing {

std::string RouteIssue::toString() const
{
    // Compiler style, so editors and terminals can jump to the line. Errors read
    // exactly like the example in the header; warnings say so, since the CLI prints
    // both and only errors fail it.
    std::string out = source.file.empty() ? std::string("<input>") : source.file;
    if (source.line > 0)
        out += ':' + std::to_string(source.line);
    out += ": ";
    if (severity == Severity::Warning)
        out += "warning: ";
    std::string where = document;
    if (!rule.empty()) {
        if (!where.empty())
            where += ' ';
        // A bare rule name would read like part of the field; index forms stand alone.
        where += rule.rfind("rules[", 0) == 0 ? rule : "rule '" + rule + "'";
    }
    if (!field.empty()) {
        if (!where.empty())
            where += ' ';
        where += field;
    }
    if (!where.empty())
        out += where + ": ";
    out += message;
    return out;
}

}  // namespace meshscope::routing
