#pragma once
// The route file the xDS, rollout and what-if tests serve: HTTPRoute default/echo for
// echo.test between the backends echo-a and echo-b on loopback ports.

#include <QString>

#include <utility>

namespace meshscope::test {

// A route file: HTTPRoute default/echo for echo.test splitting between echo-a (on
// portA) and echo-b (portB), each one address, 127.0.0.1, its port named portName; with a path regex, a canary rule
// before the split sends matching calls to echo-b.
inline QString echoRouteYaml(int portA, int portB, int weightA, int weightB, const QString &pathRegex = {},
    const QString &portName = QStringLiteral("grpc"))
{
    QString rules;
    if (!pathRegex.isEmpty()) {
        rules += QStringLiteral("  - name: canary\n"
                                "    matches:\n"
                                "    - path:\n"
                                "        type: RegularExpression\n"
                                "        value: \"%1\"\n"
                                "    backendRefs:\n"
                                "    - name: echo-b\n")
                     .arg(pathRegex);
    }
    rules += QStringLiteral("  - name: main\n"
                            "    backendRefs:\n"
                            "    - name: echo-a\n"
                            "      weight: %1\n"
                            "    - name: echo-b\n"
                            "      weight: %2\n")
                 .arg(weightA)
                 .arg(weightB);
    QString slices;
    for (const auto &[service, port] : {std::pair {"echo-a", portA}, std::pair {"echo-b", portB}}) {
        slices += QStringLiteral("---\n"
                                 "apiVersion: discovery.k8s.io/v1\n"
                                 "kind: EndpointSlice\n"
                                 "metadata:\n"
                                 "  name: %1-1\n"
                                 "  namespace: default\n"
                                 "  labels:\n"
                                 "    kubernetes.io/service-name: %1\n"
                                 "addressType: IPv4\n"
                                 "ports:\n"
                                 "- name: %3\n"
                                 "  port: %2\n"
                                 "  protocol: TCP\n"
                                 "endpoints:\n"
                                 "- addresses: [\"127.0.0.1\"]\n"
                                 "  conditions:\n"
                                 "    ready: true\n")
                      .arg(QLatin1String(service))
                      .arg(port)
                      .arg(portName);
    }
    return QStringLiteral("apiVersion: gateway.networking.k8s.io/v1\n"
                          "kind: HTTPRoute\n"
                          "metadata:\n"
                          "  name: echo\n"
                          "  namespace: default\n"
                          "spec:\n"
                          "  hostnames: [\"echo.test\"]\n"
                          "  rules:\n")
        + rules + slices;
}

}  // namespace meshscope::test
