#include "sources/secretstore.h"

#include <qt6keychain/keychain.h>

namespace meshscope {

namespace {

QString describe(QKeychain::Job *job)
{
    switch (job->error()) {
    case QKeychain::NoBackendAvailable:
        return QStringLiteral("the desktop keychain is not available (no Secret Service or KWallet answered): %1")
            .arg(job->errorString());
    case QKeychain::AccessDeniedByUser: return QStringLiteral("access to the desktop keychain was denied");
    case QKeychain::AccessDenied:
        return QStringLiteral("the desktop keychain refused access: %1").arg(job->errorString());
    default: return QStringLiteral("the desktop keychain failed: %1").arg(job->errorString());
    }
}

template <typename JobT>
JobT *makeJob(const QString &service, const QString &key)
{
    auto *job = new JobT(service);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    return job;
}

}  // namespace

SecretStore::SecretStore(const QString &service, QObject *parent)
    : QObject(parent)
    , m_service(service)
{
}

QString SecretStore::keyFor(const QString &workspace, const QString &sourceId)
{
    return QStringLiteral("workspace/%1/source/%2").arg(workspace, sourceId);
}

void SecretStore::read(const QString &key, ReadCallback done)
{
    auto *job = makeJob<QKeychain::ReadPasswordJob>(m_service, key);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        auto *read = static_cast<QKeychain::ReadPasswordJob *>(j);
        if (read->error() == QKeychain::EntryNotFound)
            done(true, false, QString(), QString());
        else if (read->error() != QKeychain::NoError)
            done(false, false, QString(), describe(read));
        else
            done(true, true, read->textData(), QString());
    });
    job->start();
}

void SecretStore::write(const QString &key, const QString &secret, WriteCallback done)
{
    auto *job = makeJob<QKeychain::WritePasswordJob>(m_service, key);
    job->setTextData(secret);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        if (j->error() != QKeychain::NoError)
            done(false, describe(j));
        else
            done(true, QString());
    });
    job->start();
}

void SecretStore::remove(const QString &key, WriteCallback done)
{
    auto *job = makeJob<QKeychain::DeletePasswordJob>(m_service, key);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        if (j->error() != QKeychain::NoError && j->error() != QKeychain::EntryNotFound)
            done(false, describe(j));
        else
            done(true, QString());
    });
    job->start();
}

}  // namespace meshscope
