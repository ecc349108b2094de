// meshscope-test-xdsclient: a real proxyless gRPC client (gRPC's own xDS client in
// libgrpc) for the xDS control plane tests. It dials the target given on the command
// line (xds:///echo.test) with the bootstrap in GRPC_XDS_BOOTSTRAP_CONFIG, then reads
// commands on stdin, one a line:
//   call N [KEY=VALUE]   N unary Echo/Call RPCs, with KEY: VALUE metadata if given;
//                        prints "result <backend>=<count>... errors=<n> last_error=<msg>"
//   quit
// A separate process per scenario gives every scenario a fresh XdsClient (gRPC keeps
// one per process, and reads the bootstrap once).

#include "echo.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: meshscope-test-xdsclient TARGET\n");
        return 2;
    }
    auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
    auto stub = meshscope::test::Echo::NewStub(channel);
    std::printf("ready\n");
    std::fflush(stdout);

    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string command;
        in >> command;
        if (command == "quit")
            break;
        if (command != "call") {
            std::printf("error unknown command '%s'\n", command.c_str());
            std::fflush(stdout);
            continue;
        }
        int n = 0;
        std::string header;
        in >> n >> header;
        std::map<std::string, int> counts;
        int errors = 0;
        std::string lastError;
        for (int i = 0; i < n; ++i) {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            if (const auto eq = header.find('='); eq != std::string::npos)
                context.AddMetadata(header.substr(0, eq), header.substr(eq + 1));
            meshscope::test::EchoRequest request;
            request.set_text("hello");
            meshscope::test::EchoReply reply;
            const grpc::Status status = stub->Call(&context, request, &reply);
            if (status.ok()) {
                counts[reply.backend()]++;
            } else {
                errors++;
                lastError = std::to_string(int(status.error_code())) + " " + status.error_message();
            }
        }
        std::string out = "result";
        for (const auto &[backend, count] : counts)
            out += " " + backend + "=" + std::to_string(count);
        out += " errors=" + std::to_string(errors) + " last_error=" + lastError;
        std::printf("%s\n", out.c_str());
        std::fflush(stdout);
    }
    return 0;
}
