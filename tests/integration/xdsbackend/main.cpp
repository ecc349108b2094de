// meshscope-test-xdsclient: a real proxyless gRPC client (gRPC's own xDS client in
// libgrpc) for the xDS control plane tests. It dials the target given on the command
// line (xds:///echo.test) with the bootstrap in GRPC_XDS_BOOTSTRAP_CONFIG, then reads
// commands on stdin, one a line:
//   call N [KEY=VALUE]   N unary Echo/Call RPCs, with KEY: VALUE metadata if given;
//                        prints "result <backend>=<count>... errors=<n> last_error=<msg>"
//   spin RATE            calls in the background at about RATE calls a second until
//   stop                 stop, which prints the spun calls' "result ..." line
//   quit
// With MESHSCOPE_OTLP_ENDPOINT set (host:port of an OTLP/gRPC receiver) the client is
// instrumented as an OpenTelemetry SDK would instrument it: every call is a CLIENT span
// of service "echo-client" exported over OTLP (server.address: the target's host, the
// metadata sent as rpc.grpc.request.metadata.<key>), and its trace context travels to
// the backend in the "traceparent" metadata.
// A separate process per scenario gives every scenario a fresh XdsClient (gRPC keeps
// one per process, and reads the bootstrap once).

#include "common/otlpexport.h"
#include "echo.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

using meshscope::test::ExportedSpan;
using meshscope::test::OtlpSpanExporter;

struct Tally {
    std::map<std::string, int> counts;
    int errors = 0;
    std::string lastError;

    std::string line() const
    {
        std::string out = "result";
        for (const auto &[backend, count] : counts)
            out += " " + backend + "=" + std::to_string(count);
        return out + " errors=" + std::to_string(errors) + " last_error=" + lastError;
    }
};

class Caller {
public:
    explicit Caller(const std::string &target)
        : m_stub(meshscope::test::Echo::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())))
        , m_host(target.substr(target.rfind('/') + 1))  // xds:///echo.test -> echo.test
    {
        if (const char *endpoint = std::getenv("MESHSCOPE_OTLP_ENDPOINT"); endpoint && *endpoint)
            m_exporter = std::make_unique<OtlpSpanExporter>(endpoint, "echo-client");
    }

    void call(const std::string &header, Tally &tally)
    {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        std::string key;
        std::string value;
        if (const auto eq = header.find('='); eq != std::string::npos) {
            key = header.substr(0, eq);
            value = header.substr(eq + 1);
            context.AddMetadata(key, value);
        }
        ExportedSpan span;
        if (m_exporter) {
            span.context = m_exporter->newContext();
            span.kind = opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT;
            context.AddMetadata("traceparent", meshscope::test::traceparent(span.context));
            span.startNs = meshscope::test::nowNs();
        }
        meshscope::test::EchoRequest request;
        request.set_text("hello");
        meshscope::test::EchoReply reply;
        const grpc::Status status = m_stub->Call(&context, request, &reply);
        if (status.ok()) {
            tally.counts[reply.backend()]++;
        } else {
            tally.errors++;
            tally.lastError = std::to_string(int(status.error_code())) + " " + status.error_message();
        }
        if (m_exporter) {
            span.endNs = meshscope::test::nowNs();
            meshscope::test::describeGrpcCall(span, "meshscope.test.Echo", "Call", int(status.error_code()));
            span.attributes.emplace_back("server.address", m_host);
            if (!key.empty())
                span.attributes.emplace_back("rpc.grpc.request.metadata." + key, value);
            m_exporter->add(std::move(span));
        }
    }

private:
    std::unique_ptr<meshscope::test::Echo::Stub> m_stub;
    std::string m_host;
    std::unique_ptr<OtlpSpanExporter> m_exporter;
};

// Calls in the background at a steady rate until stopped.
class Spinner {
public:
    Spinner(Caller &caller, double rate)
        : m_thread([this, &caller, rate] { run(caller, rate); })
    {
    }
    Tally stop()
    {
        m_stop = true;
        m_thread.join();
        return m_tally;
    }

private:
    void run(Caller &caller, double rate)
    {
        const auto interval = std::chrono::duration<double>(1.0 / rate);
        auto next = std::chrono::steady_clock::now();
        while (!m_stop) {
            caller.call({}, m_tally);
            next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
            std::this_thread::sleep_until(next);
        }
    }

    std::atomic<bool> m_stop {false};
    Tally m_tally;
    std::thread m_thread;
};

void say(const std::string &line)
{
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: meshscope-test-xdsclient TARGET\n");
        return 2;
    }
    Caller caller(argv[1]);
    say("ready");
    std::unique_ptr<Spinner> spinner;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string command;
        in >> command;
        if (command == "quit")
            break;
        if (command == "call") {
            int n = 0;
            std::string header;
            in >> n >> header;
            Tally tally;
            for (int i = 0; i < n; ++i)
                caller.call(header, tally);
            say(tally.line());
        } else if (command == "spin" && !spinner) {
            double rate = 0;
            in >> rate;
            spinner = std::make_unique<Spinner>(caller, rate > 0 ? rate : 50);
            say("spinning");
        } else if (command == "stop" && spinner) {
            say(spinner->stop().line());
            spinner.reset();
        } else {
            say("error unknown command '" + command + "'");
        }
    }
    if (spinner)
        spinner->stop();
    return 0;
}
