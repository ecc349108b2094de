#include "net/libraryversions.h"

#include <QtGlobal>

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

namespace meshscope {

QList<LibraryVersion> libraryVersions()
{
    // Qt, gRPC and OpenSSL report the shared library actually loaded; protobuf only
    // the headers it was built against (its runtime refuses to load a different one).
    return
    {
        {QStringLiteral("Qt"), QString::fromLatin1(qVersion())},
            {QStringLiteral("gRPC"), QString::fromStdString(grpc::Version())},
            {QStringLiteral("protobuf"),
                QString::fromStdString(google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION))},
#if OPENSSL_VERSION_MAJOR >= 3
            {QStringLiteral("OpenSSL"), QString::fromLatin1(OpenSSL_version(OPENSSL_VERSION_STRING))},
#else
            {QStringLiteral("OpenSSL"), QString::fromLatin1(OpenSSL_version(OPENSSL_VERSION))},
#endif
    };
}

}  // namespace meshscope
