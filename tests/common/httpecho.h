#pragma once
// Real HTTP/1.1 peers for the Caddy tests, on plain POSIX sockets and threads of their
// own (a test thread blocked on a child process must not starve them):
//  - HttpEcho: an upstream on a loopback port answering every request 200 with its own
//    name as the body, or 503 (same body) for a chosen share of requests spread evenly.
//    Keep-alive as Caddy's reverse_proxy uses it. Instrumented on request (exportTo):
//    every request is a SERVER span of service <name> exported over OTLP, child of the
//    span named in the request's "traceparent" header when there is one.
//  - HttpTraffic: a steady stream of GETs to a proxy with one Host header, on its own
//    thread, counting the answers by body and by status.
//  - httpGet: one GET, for checks after the stream has stopped.
// Header-only: every test executable includes it on its own.

#include "common/otlpexport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace meshscope::test {

namespace httpdetail {

inline std::string lowerCase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

inline std::string trimmed(const std::string &s)
{
    const size_t b = s.find_first_not_of(" \t");
    const size_t e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A request or response head: the first line and the headers (names in lower case).
struct Head {
    std::string firstLine;
    std::map<std::string, std::string> headers;
    std::string header(const std::string &name) const
    {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

inline Head parseHead(const std::string &text)
{
    Head h;
    size_t at = 0;
    bool first = true;
    while (at < text.size()) {
        size_t end = text.find("\r\n", at);
        if (end == std::string::npos)
            end = text.size();
        const std::string line = text.substr(at, end - at);
        at = end + 2;
        if (first) {
            h.firstLine = line;
            first = false;
            continue;
        }
        const size_t colon = line.find(':');
        if (colon != std::string::npos)
            h.headers[lowerCase(trimmed(line.substr(0, colon)))] = trimmed(line.substr(colon + 1));
    }
    return h;
}

constexpr ssize_t kTimedOut = -1;
constexpr ssize_t kFailed = -2;

// Waits up to timeoutMs for fd to be readable, then appends what is there to buf: the
// bytes read, 0 when the peer closed, kTimedOut or kFailed.
inline ssize_t readSome(int fd, std::string &buf, int timeoutMs)
{
    pollfd p {fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeoutMs);
    if (ready == 0)
        return kTimedOut;
    if (ready < 0)
        return errno == EINTR ? kTimedOut : kFailed;
    char chunk[8192];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0)
        buf.append(chunk, size_t(n));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? kTimedOut : kFailed;
    return n;
}

inline bool writeAll(int fd, const std::string &data)
{
    size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        sent += size_t(n);
    }
    return true;
}

inline int64_t steadyMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace httpdetail

// The attributes of an HTTP server span (OpenTelemetry semantic conventions).
inline void describeHttpRequest(ExportedSpan &span, const std::string &method, const std::string &path, int status)
{
    span.kind = opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER;
    span.name = method;
    span.attributes = {{"http.request.method", method}, {"url.path", path}};
    span.intAttributes = {{"http.response.status_code", status}};
    span.error = status >= 500;
}

class HttpEcho {
public:
    explicit HttpEcho(std::string name)
        : m_name(std::move(name))
    {
    }
    ~HttpEcho() { stop(); }
    HttpEcho(const HttpEcho &) = delete;
    HttpEcho &operator=(const HttpEcho &) = delete;

    // Before start(): export a span per request to the OTLP receiver at `endpoint`.
    void exportTo(const std::string &endpoint) { m_exporter = std::make_unique<OtlpSpanExporter>(endpoint, m_name); }
    // Answers `fraction` of the requests 503, spread evenly (0.3: 3 in every 10).
    void setFailureFraction(double fraction) { m_failureFraction = fraction; }

    // Listens on a free loopback port.
    bool start()
    {
        m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (m_listen < 0)
            return false;
        const int one = 1;
        ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr {};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        if (::bind(m_listen, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(m_listen, 128) != 0
            || ::getsockname(m_listen, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
            ::close(m_listen);
            m_listen = -1;
            return false;
        }
        m_port = ntohs(addr.sin_port);
        m_acceptor = std::thread([this] { acceptLoop(); });
        return true;
    }

    void stop()
    {
        if (m_stop.exchange(true))
            return;
        if (m_acceptor.joinable())
            m_acceptor.join();
        if (m_listen >= 0)
            ::close(m_listen);
        m_listen = -1;
        {
            std::lock_guard lock(m_mutex);
            for (const auto &c : m_connections) {
                if (c->fd >= 0)
                    ::shutdown(c->fd, SHUT_RDWR);
            }
        }
        // No new connection is added once the acceptor is gone.
        for (const auto &c : m_connections)
            c->thread.join();
        m_connections.clear();
        m_exporter.reset();  // flushes what is queued
    }

    int port() const { return m_port; }
    const std::string &name() const { return m_name; }
    // Requests that reached this upstream (answered 200 or 503).
    int requests() const { return m_requests.load(); }
    int failed() const { return m_failed.load(); }

private:
    struct Connection {
        int fd = -1;  // -1 once closed (under m_mutex)
        std::atomic<bool> done {false};
        std::thread thread;
    };

    void acceptLoop()
    {
        while (!m_stop) {
            pollfd p {m_listen, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0)
                continue;
            const int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::lock_guard lock(m_mutex);
            // Reap the connections that ended.
            for (auto it = m_connections.begin(); it != m_connections.end();) {
                if ((*it)->done) {
                    (*it)->thread.join();
                    it = m_connections.erase(it);
                } else {
                    ++it;
                }
            }
            auto c = std::make_unique<Connection>();
            c->fd = fd;
            Connection *raw = c.get();
            c->thread = std::thread([this, raw] { serve(raw); });
            m_connections.push_back(std::move(c));
        }
    }

    // Requests on one connection until the peer closes, asks to close, or stop().
    void serve(Connection *c)
    {
        const int fd = c->fd;
        std::string buf;
        bool open = true;
        while (open && !m_stop) {
            size_t headEnd = buf.find("\r\n\r\n");
            if (headEnd == std::string::npos) {
                if (buf.size() > 65536)
                    break;
                const ssize_t n = httpdetail::readSome(fd, buf, 100);
                if (n == 0 || n == httpdetail::kFailed)
                    break;
                continue;
            }
            const uint64_t startNs = nowNs();
            const httpdetail::Head head = httpdetail::parseHead(buf.substr(0, headEnd));
            buf.erase(0, headEnd + 4);
            const size_t sp1 = head.firstLine.find(' ');
            const size_t sp2 = head.firstLine.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
            if (sp1 == std::string::npos || sp2 == std::string::npos)
                break;
            const std::string method = head.firstLine.substr(0, sp1);
            const std::string target = head.firstLine.substr(sp1 + 1, sp2 - sp1 - 1);
            const std::string version = head.firstLine.substr(sp2 + 1);
            const std::string path = target.substr(0, target.find('?'));
            // A body (none from a GET) is read and dropped; a chunked one ends the connection.
            const std::string connection = httpdetail::lowerCase(head.header("connection"));
            bool keepAlive = version == "HTTP/1.1" ? connection.find("close") == std::string::npos
                                                   : connection.find("keep-alive") != std::string::npos;
            if (!head.header("transfer-encoding").empty())
                keepAlive = false;
            const size_t length = size_t(std::strtoull(head.header("content-length").c_str(), nullptr, 10));
            while (buf.size() < length && !m_stop) {
                const ssize_t n = httpdetail::readSome(fd, buf, 100);
                if (n == 0 || n == httpdetail::kFailed)
                    break;
            }
            buf.erase(0, std::min(length, buf.size()));

            const int n = ++m_requests;
            const double f = m_failureFraction.load();
            const bool fail = int(n * f) > int((n - 1) * f);
            if (fail)
                ++m_failed;
            const int status = fail ? 503 : 200;
            std::string response = "HTTP/1.1 " + std::string(fail ? "503 Service Unavailable" : "200 OK")
                + "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(m_name.size()) + "\r\n";
            if (!keepAlive)
                response += "Connection: close\r\n";
            response += "\r\n";
            if (method != "HEAD")
                response += m_name;
            open = httpdetail::writeAll(fd, response) && keepAlive;
            if (m_exporter) {
                ExportedSpan span;
                const TraceContext parent = parseTraceparent(head.header("traceparent"));
                span.context = m_exporter->newContext(parent);
                span.parentSpanId = parent.spanId;
                span.startNs = startNs;
                span.endNs = nowNs();
                describeHttpRequest(span, method, path, status);
                m_exporter->add(std::move(span));
            }
        }
        std::lock_guard lock(m_mutex);
        ::close(fd);
        c->fd = -1;
        c->done = true;
    }

    std::string m_name;
    std::unique_ptr<OtlpSpanExporter> m_exporter;
    std::atomic<double> m_failureFraction {0};
    std::atomic<int> m_requests {0};
    std::atomic<int> m_failed {0};
    std::atomic<bool> m_stop {false};
    int m_listen = -1;
    int m_port = 0;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<Connection>> m_connections;
    std::thread m_acceptor;
};

struct HttpAnswer {
    int status = 0;  // 0: no answer (connection refused or reset, timeout, garbage)
    std::string body;
};

// One GET to 127.0.0.1:port with this Host header, on a connection of its own.
inline HttpAnswer httpGet(int port, const std::string &host, const std::string &path = "/", int timeoutMs = 5000)
{
    HttpAnswer answer;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return answer;
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(uint16_t(port));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int64_t deadline = httpdetail::steadyMs() + timeoutMs;
    std::string buf;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0
        && httpdetail::writeAll(fd,
            "GET " + path + " HTTP/1.1\r\nHost: " + host
                + "\r\nUser-Agent: meshscope-test\r\nConnection: close\r\n\r\n")) {
        // Connection: close: the answer ends where the server closes.
        while (true) {
            const int64_t left = deadline - httpdetail::steadyMs();
            if (left <= 0 || httpdetail::readSome(fd, buf, int(left)) <= 0)
                break;
        }
    }
    ::close(fd);
    const size_t headEnd = buf.find("\r\n\r\n");
    if (headEnd == std::string::npos)
        return answer;
    const httpdetail::Head head = httpdetail::parseHead(buf.substr(0, headEnd));
    if (head.firstLine.rfind("HTTP/1.", 0) != 0 || head.firstLine.size() < 12)
        return answer;
    std::string body = buf.substr(headEnd + 4);
    if (httpdetail::lowerCase(head.header("transfer-encoding")).find("chunked") != std::string::npos) {
        std::string decoded;
        size_t at = 0;
        while (at < body.size()) {
            const size_t lineEnd = body.find("\r\n", at);
            if (lineEnd == std::string::npos)
                return answer;
            const size_t size = size_t(std::strtoull(body.substr(at, lineEnd - at).c_str(), nullptr, 16));
            if (size == 0)
                break;
            if (lineEnd + 2 + size > body.size())
                return answer;
            decoded += body.substr(lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        body = decoded;
    } else if (!head.header("content-length").empty()) {
        const size_t length = size_t(std::strtoull(head.header("content-length").c_str(), nullptr, 10));
        if (body.size() < length)
            return answer;
        body.resize(length);
    }
    answer.status = std::atoi(head.firstLine.c_str() + 9);
    answer.body = body;
    return answer;
}

// What a stream of requests got: answers by body and by status, and requests that got
// no answer at all (a connection reset while the proxy reloads its config, say).
struct HttpCounts {
    std::map<std::string, int> bodies;
    std::map<int, int> statuses;
    int unanswered = 0;
    int total = 0;
    int count(const std::string &body) const
    {
        const auto it = bodies.find(body);
        return it == bodies.end() ? 0 : it->second;
    }
    std::string line() const
    {
        std::string out = "total=" + std::to_string(total);
        for (const auto &[body, n] : bodies)
            out += " " + body + "=" + std::to_string(n);
        for (const auto &[status, n] : statuses)
            out += " status" + std::to_string(status) + "=" + std::to_string(n);
        return out + " unanswered=" + std::to_string(unanswered);
    }
};

// GETs to 127.0.0.1:port with one Host header, about `rate` a second (one at a time,
// each on a new connection), until stop().
class HttpTraffic {
public:
    HttpTraffic(int port, std::string host, double rate)
        : m_port(port)
        , m_host(std::move(host))
        , m_intervalUs(int64_t(1e6 / std::max(rate, 0.1)))
    {
    }
    ~HttpTraffic() { stop(); }
    HttpTraffic(const HttpTraffic &) = delete;
    HttpTraffic &operator=(const HttpTraffic &) = delete;

    void start()
    {
        if (m_thread.joinable())
            return;
        m_stop = false;
        m_thread = std::thread([this] { run(); });
    }
    // Stops, and returns what every request since start() got.
    HttpCounts stop()
    {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
        return counts();
    }
    HttpCounts counts() const
    {
        std::lock_guard lock(m_mutex);
        return m_counts;
    }

private:
    void run()
    {
        using clock = std::chrono::steady_clock;
        auto next = clock::now();
        while (!m_stop) {
            const HttpAnswer a = httpGet(m_port, m_host);
            {
                std::lock_guard lock(m_mutex);
                m_counts.total++;
                if (a.status == 0) {
                    m_counts.unanswered++;
                } else {
                    m_counts.bodies[a.body]++;
                    m_counts.statuses[a.status]++;
                }
            }
            next += std::chrono::microseconds(m_intervalUs);
            const auto now = clock::now();
            if (next < now - std::chrono::seconds(1))
                next = now;  // fell far behind: do not burst to catch up
            std::this_thread::sleep_until(next);
        }
    }

    int m_port;
    std::string m_host;
    int64_t m_intervalUs;
    std::atomic<bool> m_stop {false};
    mutable std::mutex m_mutex;
    HttpCounts m_counts;
    std::thread m_thread;
};

}  // namespace meshscope::test
