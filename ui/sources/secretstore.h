#pragma once
// Secrets of saved connections (Prometheus bearer tokens and passwords) in the
// desktop keychain: the Secret Service (GNOME Keyring, KeePassXC) or KWallet, through
// QtKeychain. Never a plain-text fallback: when no keychain answers, the secret is
// used for this session only and the caller is told why it was not kept.
//
// Every call is asynchronous (the keychain may prompt to unlock) and answers on the
// GUI thread; a store destroyed first answers nothing.

#include <QObject>
#include <QString>

#include <functional>

namespace meshscope {

class SecretStore : public QObject {
    Q_OBJECT
public:
    // ok false: error is one line ("the desktop keychain is not available: ...").
    // found false with ok true: nothing is stored under the key.
    using ReadCallback = std::function<void(bool ok, bool found, const QString &secret, const QString &error)>;
    using WriteCallback = std::function<void(bool ok, const QString &error)>;

    // service: the keychain's label for meshscope's entries ("meshscope").
    explicit SecretStore(const QString &service = QStringLiteral("meshscope"), QObject *parent = nullptr);

    void read(const QString &key, ReadCallback done);
    void write(const QString &key, const QString &secret, WriteCallback done);
    // Removing what is not there succeeds.
    void remove(const QString &key, WriteCallback done);

    // The key of one source's secret: "workspace/<workspace>/source/<id>".
    static QString keyFor(const QString &workspace, const QString &sourceId);
    QString service() const { return m_service; }

private:
    QString m_service;
};

}  // namespace meshscope
