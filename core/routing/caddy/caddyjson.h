#pragma once
// The parts of Caddy's JSON that both directions of the translation spell the same
// way: Go durations, regular expressions (Caddy searches, Gateway API matches the
// whole value) and small conversions between Qt's JSON strings and the model's.

#include <QJsonValue>
#include <QString>

#include <cstdint>
#include <optional>
#include <string>

namespace meshscope::routing {

// Go duration text as Caddy reads it ("2s", "1m30s", "500ms", "1.5s", "1d") or a
// number of nanoseconds, in milliseconds. nullopt when it is neither or not a
// whole number of milliseconds.
std::optional<int64_t> parseCaddyDuration(const QJsonValue &value);

// A regular expression Caddy (Go regexp, unanchored search) applies, turned into
// one that must match the whole value (Gateway API and RE2 full match), and back.
// "^(?:x)$" and "^x$" (x without a '|' or an m flag of its own, read as RE2 parses
// it: classes, escapes, \Q...\E) unwrap to x; anything else becomes ".*(?:x).*". A
// pattern RE2 refuses, or whose \Q runs to its end, is kept as written both ways, so
// caddyRegexToFullMatch(fullMatchToCaddyRegex(x)) == x for every x.
std::string caddyRegexToFullMatch(const std::string &pattern);
std::string fullMatchToCaddyRegex(const std::string &pattern);

// Helpers for caddyimport.cpp and caddyexport.cpp; not part of the public API.
namespace caddyjson {

QString qs(const std::string &s);
std::string ss(const QString &s);
std::string lower(std::string s);
bool isIpv6(const std::string &s);
// Duration text Caddy (Go's time.ParseDuration) reads back to the same milliseconds.
std::string goDuration(int64_t ms);

}  // namespace caddyjson

}  // namespace meshscope::routing
