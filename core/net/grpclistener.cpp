#include "net/grpclistener.h"

#include "net/grpclogging.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>

#include <QFile>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <climits>

namespace meshscope {

namespace {

bool readPem(const QString &path, const char *what, std::string *out, std::string *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = std::string("cannot read TLS ") + what + " file '" + path.toStdString()
            + "': " + f.errorString().toStdString();
        return false;
    }
    *out = f.readAll().toStdString();
    return true;
}

// Checks what gRPC would otherwise only reject, with a vague log line, once a client
// connects: every file readable, PEM that parses, and a key that fits the certificate.
std::shared_ptr<grpc::ServerCredentials> serverCredentials(const TlsServerOptions &tls, std::string *error)
{
    if (tls.keyFile.isEmpty()) {
        *error = "TLS certificate '" + tls.certFile.toStdString() + "' needs a key file";
        return nullptr;
    }
    if (tls.requireClientCert && tls.clientCaFile.isEmpty()) {
        *error = "requiring client certificates needs a client CA file";
        return nullptr;
    }
    std::string cert, key, clientCa;
    if (!readPem(tls.certFile, "certificate", &cert, error) || !readPem(tls.keyFile, "key", &key, error))
        return nullptr;
    if (!tls.clientCaFile.isEmpty() && !readPem(tls.clientCaFile, "client CA", &clientCa, error))
        return nullptr;

    auto parseCert = [](const std::string &pem) {
        BIO *bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
        X509 *x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        return x;
    };
    X509 *x = parseCert(cert);
    if (!x) {
        *error = "no PEM certificate in TLS certificate file '" + tls.certFile.toStdString() + "'";
        ERR_clear_error();
        return nullptr;
    }
    BIO *keyBio = BIO_new_mem_buf(key.data(), int(key.size()));
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    BIO_free(keyBio);
    if (!pkey) {
        X509_free(x);
        ERR_clear_error();
        *error = "no unencrypted PEM private key in TLS key file '" + tls.keyFile.toStdString() + "'";
        return nullptr;
    }
    const bool match = X509_check_private_key(x, pkey) == 1;
    EVP_PKEY_free(pkey);
    X509_free(x);
    ERR_clear_error();
    if (!match) {
        *error = "TLS key '" + tls.keyFile.toStdString() + "' does not match the certificate '"
            + tls.certFile.toStdString() + "'";
        return nullptr;
    }
    if (!clientCa.empty()) {
        X509 *ca = parseCert(clientCa);
        ERR_clear_error();
        if (!ca) {
            *error = "no PEM certificate in TLS client CA file '" + tls.clientCaFile.toStdString() + "'";
            return nullptr;
        }
        X509_free(ca);
    }

    grpc_ssl_client_certificate_request_type request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    if (tls.requireClientCert)
        request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    else if (!clientCa.empty())
        request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    grpc::SslServerCredentialsOptions options(request);
    options.pem_root_certs = clientCa;
    options.pem_key_cert_pairs.push_back({key, cert});
    return grpc::SslServerCredentials(options);
}

}  // namespace

std::unique_ptr<grpc::Server> startGrpcListener(grpc::Service *service, const std::string &address,
    const std::string &what, const GrpcListenOptions &options, int *port, std::string *error)
{
    quietGrpcLogging();
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (options.tls.enabled()) {
        std::string why;
        credentials = serverCredentials(options.tls, &why);
        if (!credentials) {
            if (error)
                *error = "cannot listen for " + what + " on " + address + ": " + why;
            return nullptr;
        }
    }
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddListeningPort(address, credentials, &selected);
    builder.RegisterService(service);
    if (options.unlimitedMessageSize)
        builder.SetMaxReceiveMessageSize(INT_MAX);
    if (options.memoryQuotaBytes > 0) {
        grpc::ResourceQuota quota("meshscope " + what);
        quota.Resize(options.memoryQuotaBytes);
        builder.SetResourceQuota(quota);
    }
    // Without this, gRPC lets a second server bind the same port (SO_REUSEPORT) and
    // the kernel splits traffic between them: an address in use must be an error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || selected == 0) {
        if (error)
            *error = "cannot listen for " + what + " on " + address + ": address invalid, in use or not available";
        return nullptr;
    }
    *port = selected;
    return server;
}

void recordTlsPeer(TlsPeerLog &log, const grpc::ServerContextBase &context)
{
    const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (!auth)
        return;
    const std::vector<grpc::string_ref> pems = auth->FindPropertyValues("x509_pem_cert");
    if (pems.empty())
        return;
    log.record(context.peer(), std::string(pems.front().data(), pems.front().size()));
}

void stopGrpcListener(std::unique_ptr<grpc::Server> &server)
{
    if (!server)
        return;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    server->Wait();
    server.reset();
}

std::string boundAddressOf(const std::string &listenAddress, int port)
{
    const auto colon = listenAddress.rfind(':');
    return (colon == std::string::npos ? listenAddress : listenAddress.substr(0, colon)) + ":" + std::to_string(port);
}

}  // namespace meshscope
