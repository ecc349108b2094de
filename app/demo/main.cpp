// meshscope-demo: plays a believable service mesh into an OTLP/gRPC receiver, so
// meshscope (or any OpenTelemetry collector) has live traffic to show.

#include "demoscenario.h"
#include "demosender.h"

#include "commandline.h"
#include "net/grpclogging.h"

#include <QStringList>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>

namespace {

using namespace meshscope::demo;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_signals = 0;

extern "C" void onSignal(int) { g_signals = g_signals + 1; }

struct Options {
    std::string target;
    double rate = 50.0;
    std::optional<double> durationS;  // none: until killed
    uint64_t seed = 1;
};

[[noreturn]] void fail(const std::string &reason)
{
    std::fprintf(stderr, "meshscope-demo: %s\n", reason.c_str());
    std::exit(2);
}

double positiveNumber(const std::string &option, const std::string &text, double max)
{
    errno = 0;
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v) || v <= 0 || v > max)
        fail(option + " expects a positive number up to " + std::to_string(int64_t(max)) + ", got '" + text + "'");
    return v;
}

uint64_t unsignedNumber(const std::string &option, const std::string &text)
{
    errno = 0;
    char *end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || text[0] == '+' || end != text.c_str() + text.size() || errno != 0)
        fail(option + " expects an unsigned integer, got '" + text + "'");
    return uint64_t(v);
}

// gRPC accepts almost any string and only fails later; catch the common slips here
// (a missing port, an http:// URL, stray spaces) while keeping gRPC's own schemes.
std::string checkedTarget(std::string target)
{
    for (const char *prefix : {"http://", "grpc://"}) {
        if (target.rfind(prefix, 0) == 0) {
            target.erase(0, std::strlen(prefix));
            if (!target.empty() && target.back() == '/')
                target.pop_back();
        }
    }
    if (target.empty())
        fail("--target needs an address such as 127.0.0.1:4317");
    if (target.find_first_of(" \t\r\n") != std::string::npos)
        fail("--target '" + target + "' contains whitespace");
    for (const char *scheme : {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:"}) {
        if (target.rfind(scheme, 0) == 0)
            return target;
    }
    if (target.rfind("https://", 0) == 0)
        fail("--target: TLS is not supported; give HOST:PORT of a plaintext OTLP/gRPC receiver");
    const auto colon = target.rfind(':');
    const std::string port = colon == std::string::npos ? std::string() : target.substr(colon + 1);
    char *end = nullptr;
    const long p = port.empty() ? 0 : std::strtol(port.c_str(), &end, 10);
    if (colon == 0 || port.empty() || end != port.c_str() + port.size() || p < 1 || p > 65535)
        fail("--target '" + target + "' needs HOST:PORT (the OTLP/gRPC port is usually 4317)");
    return target;
}

Options parse(int argc, char **argv)
{
    meshscope::CommandLine commandLine(QStringLiteral("meshscope-demo"),
        QStringLiteral("usage: meshscope-demo --target HOST:PORT [--rate RPS] [--duration SECONDS] [--seed N]"),
        QStringLiteral("Sends OTLP trace exports over gRPC describing a demo service mesh."));
    commandLine.addGroup(QStringLiteral("Traffic"),
        {
            {{QStringLiteral("target")}, QStringLiteral("HOST:PORT"),
                QStringLiteral("the plaintext OTLP/gRPC receiver to send to (required)"),
                QStringLiteral("--target needs an address such as 127.0.0.1:4317")},
            {{QStringLiteral("rate")}, QStringLiteral("RPS"),
                QStringLiteral("requests per second entering at the ingress gateway (default 50)"), {}},
            {{QStringLiteral("duration")}, QStringLiteral("SECONDS"),
                QStringLiteral("stop after this many seconds (default: run until interrupted)"), {}},
            {{QStringLiteral("seed")}, QStringLiteral("N"),
                QStringLiteral("random seed; one seed gives runs of the same shape (default 1)"), {}},
        });
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    if (!commandLine.parse(args))
        fail(commandLine.error().toStdString());
    if (commandLine.helpRequested()) {
        std::fputs(qPrintable(commandLine.helpText()), stdout);
        std::exit(0);
    }
    if (commandLine.versionRequested()) {
        std::printf("%s\n", qPrintable(commandLine.versionText()));
        std::exit(0);
    }
    auto value = [&commandLine](const char *name) { return commandLine.value(QLatin1String(name)).toStdString(); };
    auto given = [&commandLine](const char *name) { return commandLine.isSet(QLatin1String(name)); };
    if (!given("target"))
        fail("--target HOST:PORT is required (see --help)");
    Options o;
    o.target = checkedTarget(value("target"));
    if (given("rate"))
        o.rate = positiveNumber("--rate", value("rate"), 1e6);
    if (given("duration"))
        o.durationS = positiveNumber("--duration", value("duration"), 1e8);
    if (given("seed"))
        o.seed = unsignedNumber("--seed", value("seed"));
    return o;
}

uint64_t wallNowNs()
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

}  // namespace

int main(int argc, char **argv)
{
    const Options opts = parse(argc, argv);
    meshscope::quietGrpcLogging();

    struct sigaction sa { };
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    // Span times are wall-clock, but they advance with the steady clock so that a
    // clock step cannot make spans end before they start.
    const uint64_t wallStart = wallNowNs();
    const Clock::time_point steadyStart = Clock::now();
    auto now = [&] {
        const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - steadyStart);
        return wallStart + uint64_t(elapsed.count());
    };
    const uint64_t endNs = opts.durationS ? wallStart + uint64_t(*opts.durationS * 1e9) : UINT64_MAX;

    DemoScenario scenario(opts.seed, wallStart);
    SenderOptions senderOptions;
    senderOptions.target = opts.target;
    DemoSender sender(scenario, senderOptions, opts.seed, wallStart);

    std::mt19937_64 rng(opts.seed);
    std::exponential_distribution<double> gapS(opts.rate);  // Poisson arrivals
    auto gapNs = [&] { return uint64_t(gapS(rng) * 1e9); };

    std::vector<DemoSpan> spans;
    uint64_t requests = 0;
    uint64_t nextArrival = wallStart + gapNs();
    constexpr uint64_t kMinSleepNs = 1000000;  // lets arrivals at high rates batch up
    constexpr uint64_t kMaxSleepNs = 20000000;  // how quickly a signal is noticed
    constexpr uint64_t kMaxBacklogNs = 1000000000;

    while (g_signals == 0) {
        uint64_t t = now();
        if (t >= endNs)
            break;
        // After a stall (a suspended machine, a starved CPU), do not replay the backlog
        // as one burst.
        if (t > nextArrival + kMaxBacklogNs)
            nextArrival = t;
        while (nextArrival <= t && nextArrival < endNs) {
            scenario.generateRequest(rng, nextArrival, spans);
            requests++;
            nextArrival += gapNs();
        }
        sender.add(spans);
        const uint64_t next = std::min({sender.poll(t), nextArrival, endNs});
        t = now();
        const uint64_t sleep = std::clamp<uint64_t>(next > t ? next - t : 0, kMinSleepNs, kMaxSleepNs);
        std::this_thread::sleep_for(std::chrono::nanoseconds(sleep));
    }

    // Let requests already under way end, so the last traces arrive whole; briefly
    // when interrupted, and a second signal skips even that.
    const bool interrupted = g_signals != 0;
    const uint64_t drainUntil = now() + (interrupted ? 200000000u : 1500000000u);
    const std::sig_atomic_t signalsAtStop = g_signals;
    while (sender.pendingSpans() > 0 && now() < drainUntil && g_signals == signalsAtStop) {
        sender.poll(now());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    sender.finish(now(), interrupted ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(3000));

    const SenderStats s = sender.stats();
    const double elapsedS = double(now() - wallStart) / 1e9;
    std::fprintf(stderr,
        "meshscope-demo: %" PRIu64 " requests in %.1f s: sent %" PRIu64 " spans in %" PRIu64 " exports, %" PRIu64
        " failed exports (%" PRIu64 " spans), %" PRIu64 " spans dropped, %" PRIu64 " rejected by the receiver\n",
        requests, elapsedS, s.spansSent, s.exports, s.failedExports, s.spansFailed, s.spansDropped, s.spansRejected);
    return 0;
}
