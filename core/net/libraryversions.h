#pragma once
// The versions of the libraries meshscope's transport stands on (Qt, gRPC, protobuf,
// OpenSSL), as the running process sees them: what Help > About and bug reports quote.

#include <QList>
#include <QString>

namespace meshscope {

struct LibraryVersion {
    QString name;  // "Qt", "gRPC", "protobuf", "OpenSSL"
    QString version;  // "6.4.2", "1.51.1", "3.21.12", "3.0.19"
};

QList<LibraryVersion> libraryVersions();

}  // namespace meshscope
