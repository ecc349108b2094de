#pragma once
// Writes a route change back into the operator's own route file. yaml-cpp cannot keep
// comments, so rather than writing the whole file anew (toYaml), the file is edited
// at the node level: the routes it holds now are written as meshscope would write
// them (base), the changed routes too (theirs), and only the nodes that differ
// between base and theirs are spliced into the file's text, in the file's own
// indentation and flow/block style. Everything else stays byte for byte: comments,
// key order, quoting, spellings such as `10000ms`, unknown fields, other kinds of
// document, and CRLF line ends.
//
// A changed scalar replaces just that scalar; a changed, added or removed key,
// list item or document replaces, adds or removes just its lines; a list written
// in flow style ([a, b]) stays in flow style. Where a node cannot be edited in
// place (anchors, tags, block scalars, a one-key mapping after "- "), the smallest
// enclosing item, key or document is written in meshscope's layout instead, and
// the result says which. The edit is checked by reading it back: when it does not
// load to exactly the new routes, the whole file is written by toYaml and the result
// says so. docs/routes.md lists what is kept.

#include "routing/routemodel.h"

#include <string>
#include <vector>

namespace meshscope::routing {

struct RouteFileEdit {
    std::string text;  // the file to write
    // True when everything outside the changed nodes is as it was written.
    bool layoutKept = true;
    // What was written in meshscope's layout instead, one line each (empty when
    // nothing was), e.g. "HTTPRoute bookinfo/reviews: rewritten (an anchor)".
    std::vector<std::string> rewritten;
};

// The file `original` (which loads to some route set) edited to hold `after`.
// `fileName` only names the file in notes.
RouteFileEdit editRouteFile(const std::string &original, const RouteSet &after, const std::string &fileName = {});

}  // namespace meshscope::routing
