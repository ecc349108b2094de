#pragma once
// Checks a YAML text before it is loaded into nodes, with yaml-cpp's event parser
// (which never expands aliases): a hostile or broken file is refused with its line
// instead of being expanded, walked or looped over.
//  - aliases: the nodes a document would hold with every alias expanded are counted,
//    and a document past the budget is refused at the alias that crosses it (a 12 KB
//    "billion laughs" file would otherwise take gigabytes as the reader walks it);
//  - duplicate keys in one mapping are refused with both lines (YAML forbids them;
//    yaml-cpp quietly keeps one);
//  - a scalar (key or value) that is not UTF-8 is refused with its line and field: a
//    YAML stream is Unicode, and yaml-cpp would pass the bytes through; so is a raw
//    control character anywhere but tab and line breaks (escapes in double quotes are
//    how YAML writes them);
//  - documents and events are bounded, so a parser that stops making progress (yaml-cpp
//    0.7 can return empty documents forever on some broken input) ends with an error.

#include <cstddef>
#include <string>

namespace meshscope::routing {

struct YamlBudget {
    size_t maxExpandedNodes = 1'000'000;  // per file, aliases expanded
    size_t maxEvents = 2'000'000;  // parser events, aliases not expanded
    size_t maxDocuments = 10'000;
};

struct YamlGuardError {
    int line = 0;  // 1-based; 0 when unknown
    std::string message;
    int documentIndex = 0;  // 0-based
    std::string field;  // "spec.rules[0].backendRefs[1].name"; empty at a document's top
};

// True when `text` may be loaded; else false with the first problem in *error.
bool checkYaml(const std::string &text, YamlGuardError *error, const YamlBudget &budget = {});

}  // namespace meshscope::routing
