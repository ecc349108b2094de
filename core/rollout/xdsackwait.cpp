#include "rollout/xdsackwait.h"

#include <QObject>
#include <QTimer>

#include <memory>

namespace meshscope::rollout {

namespace {

enum class AckState { Waiting, Acked, Nacked };

AckState ackState(const routing::XdsControlPlane &cp, uint64_t version, std::string *why)
{
    const std::string v = std::to_string(version);
    bool waiting = false;
    for (const routing::XdsClientStatus &c : cp.clients()) {
        if (!c.connected)
            continue;
        for (const routing::XdsTypeStatus &t : c.types) {
            if (t.rejected && t.nackedVersion == v) {
                *why = "client " + c.nodeId + " refused version " + v + ": " + t.nackMessage;
                return AckState::Nacked;
            }
            waiting = waiting || t.ackedVersion != v;
        }
    }
    return waiting ? AckState::Waiting : AckState::Acked;
}

}  // namespace

void awaitXdsAcks(const routing::XdsControlPlane &controlPlane, uint64_t version, int timeoutMs, QObject *context,
    std::function<void(bool ok, const std::string &error)> done)
{
    auto *timer = new QTimer(context);
    auto waited = std::make_shared<int>(0);
    timer->setInterval(50);
    auto check = [timer, waited, &controlPlane, version, timeoutMs, done] {
        std::string why;
        const AckState state = ackState(controlPlane, version, &why);
        if (state == AckState::Waiting && *waited < timeoutMs) {
            *waited += timer->interval();
            return;
        }
        timer->stop();
        timer->deleteLater();
        if (state == AckState::Acked)
            done(true, {});
        else if (state == AckState::Nacked)
            done(false, why);
        else
            done(false,
                "a client did not acknowledge version " + std::to_string(version) + " within "
                    + std::to_string(timeoutMs / 1000) + " s");
    };
    QObject::connect(timer, &QTimer::timeout, context, check);
    timer->start();
}

}  // namespace meshscope::rollout
