#include "routing/xds/xdstranslator.h"

#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace meshscope::routing {

namespace {

namespace core = envoy::config::core::v3;
namespace route = envoy::config::route::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace fault = envoy::extensions::filters::http::fault::v3;

void setDurationMs(google::protobuf::Duration *d, int64_t ms)
{
    d->set_seconds(ms / 1000);
    d->set_nanos(int32_t(ms % 1000) * 1'000'000);
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

void setRegex(envoy::type::matcher::v3::RegexMatcher *m, const std::string &regex)
{
    m->mutable_google_re2();
    m->set_regex(regex);
}

// Where a rule came from, for notes: "HTTPRoute shop/reviews rules[1]".
std::string ruleLabel(const HttpRoute &r, const RouteRule &rule, size_t index)
{
    std::string label = "HTTPRoute " + r.ns + "/" + r.name + " ";
    label += rule.name.empty() ? "rules[" + std::to_string(index) + "]" : rule.name;
    return label;
}

void addHeaderOptions(google::protobuf::RepeatedPtrField<core::HeaderValueOption> *out,
    const std::vector<std::pair<std::string, std::string>> &headers, core::HeaderValueOption::HeaderAppendAction action)
{
    for (const auto &[key, value] : headers) {
        core::HeaderValueOption *o = out->Add();
        o->mutable_header()->set_key(lower(key));
        o->mutable_header()->set_value(value);
        o->set_append_action(action);
    }
}

class Translator {
public:
    Translator(const RouteSet &set, const XdsTranslatorOptions &options)
        : m_set(set)
        , m_options(options)
        , m_grpc(options.target == DataPlane::XdsGrpc)
    {
    }

    XdsResourceSet run()
    {
        // Listener names in first-seen order; several routes may share a hostname.
        std::vector<std::string> order;
        std::map<std::string, std::vector<const HttpRoute *>> byListener;
        for (const HttpRoute &r : m_set.routes) {
            for (const std::string &name : xdsListenerNames(r)) {
                auto &routes = byListener[name];
                if (routes.empty())
                    order.push_back(name);
                if (std::find(routes.begin(), routes.end(), &r) == routes.end())
                    routes.push_back(&r);
            }
        }
        for (const std::string &name : order) {
            const auto &routes = byListener[name];
            const bool faults = std::any_of(routes.begin(), routes.end(), [](const HttpRoute *r) {
                return std::any_of(
                    r->rules.begin(), r->rules.end(), [](const RouteRule &rule) { return rule.fault.has_value(); });
            });
            m_out.listeners.push_back(listener(name, faults));
            m_out.routeConfigurations.push_back(routeConfiguration(name, routes));
        }
        for (const auto &[name, backend] : m_clusters) {
            m_out.clusters.push_back(cluster(name));
            m_out.loadAssignments.push_back(loadAssignment(name, backend.first, backend.second));
        }
        return std::move(m_out);
    }

private:
    envoy::config::listener::v3::Listener listener(const std::string &name, bool faults) const
    {
        hcm::HttpConnectionManager manager;
        manager.set_codec_type(hcm::HttpConnectionManager::AUTO);
        manager.set_stat_prefix(name);
        hcm::Rds *rds = manager.mutable_rds();
        // gRFC A27: the route configuration must come over the same ADS stream.
        rds->mutable_config_source()->mutable_ads();
        rds->mutable_config_source()->set_resource_api_version(core::V3);
        rds->set_route_config_name(name);
        // The fault filter must run before the router (Envoy's docs; gRFC A39 keeps
        // the order). Sent empty: each route with a fault overrides it with its own
        // HTTPFault, and routes without one inject nothing.
        if (faults) {
            hcm::HttpFilter *f = manager.add_http_filters();
            f->set_name(std::string(kXdsFaultFilterName));
            f->mutable_typed_config()->PackFrom(fault::HTTPFault());
        }
        // gRPC 1.51 NACKs an empty filter list; router must be present and last.
        hcm::HttpFilter *router = manager.add_http_filters();
        router->set_name(std::string(kXdsRouterFilterName));
        router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());

        envoy::config::listener::v3::Listener l;
        l.set_name(name);
        l.mutable_api_listener()->mutable_api_listener()->PackFrom(manager);
        return l;
    }

    route::RouteConfiguration routeConfiguration(const std::string &name, const std::vector<const HttpRoute *> &routes)
    {
        route::RouteConfiguration rc;
        rc.set_name(name);
        route::VirtualHost *vh = rc.add_virtual_hosts();
        vh->set_name(name);
        // Served under "<name>.<namespace>" only by routes without hostnames: those
        // match any authority (Gateway API).
        const bool catchAll
            = std::all_of(routes.begin(), routes.end(), [](const HttpRoute *r) { return r->hostnames.empty(); });
        if (catchAll) {
            vh->add_domains("*");
        } else {
            vh->add_domains(name);
            // Envoy sees "host:port" in the authority; a wildcard domain may hold only
            // one '*', so "*.example.com" stays as it is.
            if (name.find('*') == std::string::npos)
                vh->add_domains(name + ":*");
        }
        for (const HttpRoute *r : routes) {
            for (size_t i = 0; i < r->rules.size(); ++i)
                addRule(vh, *r, r->rules[i], i);
        }
        return rc;
    }

    void addRule(route::VirtualHost *vh, const HttpRoute &r, const RouteRule &rule, size_t index)
    {
        const std::string label = ruleLabel(r, rule, index);
        noteUnexpressed(rule, label);
        // Gateway API: a rule without matches matches every request (PathPrefix "/").
        static const RouteMatch matchAll;
        const size_t n = std::max<size_t>(1, rule.matches.size());
        for (size_t j = 0; j < n; ++j) {
            const RouteMatch &m = rule.matches.empty() ? matchAll : rule.matches[j];
            route::Route *out = vh->add_routes();
            std::string name
                = r.ns + "/" + r.name + "/" + (rule.name.empty() ? "rules[" + std::to_string(index) + "]" : rule.name);
            if (rule.matches.size() > 1)
                name += "/matches[" + std::to_string(j) + "]";
            out->set_name(name);
            fillMatch(out->mutable_match(), m, label);
            fillAction(out, r, rule, label);
            fillFault(out, rule, label);
            fillHeaderChanges(out, rule);
        }
    }

    void fillMatch(route::RouteMatch *out, const RouteMatch &m, const std::string &label)
    {
        const PathMatch path = m.path.value_or(PathMatch {});
        switch (path.type) {
        case PathMatchType::Exact: out->set_path(path.value); break;
        case PathMatchType::PathPrefix: {
            std::string value = path.value;
            while (value.size() > 1 && value.back() == '/')
                value.pop_back();
            // Gateway API prefixes match whole segments ("/foo" is not "/foobar"):
            // Envoy says so with path_separated_prefix. gRPC 1.51 lacks it, and its
            // paths ("/pkg.Service/Method") are matched by plain prefix as written.
            if (m_grpc || value == "/" || value.empty())
                out->set_prefix(path.value.empty() ? std::string("/") : path.value);
            else
                out->set_path_separated_prefix(value);
            break;
        }
        case PathMatchType::RegularExpression: setRegex(out->mutable_safe_regex(), path.value); break;
        }
        for (const HeaderMatch &h : m.headers) {
            route::HeaderMatcher *hm = out->add_headers();
            hm->set_name(lower(h.name));
            // exact_match / safe_regex_match: deprecated in Envoy, but gRPC 1.51
            // refuses string_match ("Invalid route header matcher specified").
            if (h.type == StringMatchType::Exact)
                hm->set_exact_match(h.value);
            else
                setRegex(hm->mutable_safe_regex_match(), h.value);
        }
        // Every gRPC call is a POST, and gRPC's router does not see ":method" (it is
        // added below the client channel): the match is implied, so it is left out.
        if (!m.method.empty() && !(m_grpc && m.method == "POST")) {
            route::HeaderMatcher *hm = out->add_headers();
            hm->set_name(":method");
            hm->set_exact_match(m.method);
        }
        for (const QueryParamMatch &q : m.queryParams) {
            route::QueryParameterMatcher *qm = out->add_query_parameters();
            qm->set_name(q.name);
            if (q.type == StringMatchType::Exact)
                qm->mutable_string_match()->set_exact(q.value);
            else
                setRegex(qm->mutable_string_match()->mutable_safe_regex(), q.value);
        }
        if (m_grpc && !m.queryParams.empty())
            note(label + ": gRPC 1.51 skips routes that match query parameters");
    }

    void fillAction(route::Route *out, const HttpRoute &r, const RouteRule &rule, const std::string &label)
    {
        uint64_t total = 0;
        for (const BackendRef &b : rule.backends)
            total += uint64_t(std::max(0, b.weight));
        // Gateway API: no backends, or all weights 0, is answered with a 500.
        if (rule.backends.empty() || total == 0) {
            out->mutable_direct_response()->set_status(500);
            return;
        }
        route::RouteAction *action = out->mutable_route();
        if (rule.backends.size() == 1) {
            action->set_cluster(useCluster(rule.backends.front(), r.ns));
        } else {
            route::WeightedCluster *wc = action->mutable_weighted_clusters();
            for (const BackendRef &b : rule.backends) {
                route::WeightedCluster::ClusterWeight *cw = wc->add_clusters();
                cw->set_name(useCluster(b, r.ns));
                cw->mutable_weight()->set_value(uint32_t(std::max(0, b.weight)));
            }
            // gRPC 1.51 assumes 100 when absent and NACKs any other sum.
            wc->mutable_total_weight()->set_value(uint32_t(total));
        }

        const bool retries = rule.retry && rule.retry->attempts > 0;
        std::optional<int64_t> timeout = rule.timeoutMs;
        if (!retries && rule.backendTimeoutMs)
            // One attempt: the backend request timeout bounds the whole request too.
            timeout = timeout ? std::min(*timeout, *rule.backendTimeoutMs) : *rule.backendTimeoutMs;
        if (timeout) {
            setDurationMs(action->mutable_timeout(), *timeout);
            // gRPC takes its call deadline from here (gRFC A31), not from timeout.
            setDurationMs(action->mutable_max_stream_duration()->mutable_max_stream_duration(), *timeout);
        }
        if (retries)
            fillRetry(action->mutable_retry_policy(), *rule.retry, rule.backendTimeoutMs);
        if (rule.mirror) {
            if (m_grpc) {
                // gRPC 1.51 ignores request_mirror_policies (gRFC A33 brought faults to
                // proxyless clients, not mirroring): sending it would only cost a cluster.
                note(label
                    + ": proxyless gRPC does not mirror requests (its xDS support covers fault injection, gRFC A33, "
                      "not request_mirror_policies); mirror not sent");
            } else {
                route::RouteAction::RequestMirrorPolicy *policy = action->add_request_mirror_policies();
                policy->set_cluster(useCluster(rule.mirror->backend, r.ns));
                // Without runtime_fraction every request is mirrored.
                if (rule.mirror->percent < 100)
                    *policy->mutable_runtime_fraction()->mutable_default_value()
                        = xdsFractionalPercent(rule.mirror->percent);
            }
        }
    }

    // The rule's faults as the route's own HTTPFault, which replaces the listener's
    // empty one for requests on this route (Envoy and gRFC A33 alike).
    void fillFault(route::Route *out, const RouteRule &rule, const std::string &label)
    {
        if (!rule.fault)
            return;
        const FaultInjection &f = *rule.fault;
        fault::HTTPFault config;
        if (f.delayMs && *f.delayMs > 0) {
            setDurationMs(config.mutable_delay()->mutable_fixed_delay(), *f.delayMs);
            *config.mutable_delay()->mutable_percentage() = xdsFractionalPercent(f.delayPercent);
        } else if (f.delayMs) {
            // Envoy refuses a fixed_delay that is not positive.
            note(label + ": a fault delay of 0 ms delays nothing; delay not sent");
        }
        if (f.abortHttpStatus) {
            // gRPC clients turn the HTTP status into a gRPC status by gRPC's HTTP
            // mapping (503 -> UNAVAILABLE, 404 -> UNIMPLEMENTED, ...), as an Envoy in
            // front of a gRPC client would.
            config.mutable_abort()->set_http_status(uint32_t(*f.abortHttpStatus));
            *config.mutable_abort()->mutable_percentage() = xdsFractionalPercent(f.abortPercent);
        }
        if (!config.has_delay() && !config.has_abort())
            return;
        (*out->mutable_typed_per_filter_config())[std::string(kXdsFaultFilterName)].PackFrom(config);
    }

    void fillRetry(
        route::RetryPolicy *out, const RetryPolicy &retry, const std::optional<int64_t> &backendTimeoutMs) const
    {
        std::vector<std::string> on = retry.retryOn;
        if (!retry.codes.empty()) {
            on.push_back("retriable-status-codes");
            for (int code : retry.codes)
                out->add_retriable_status_codes(uint32_t(code));
        }
        if (on.empty()) {
            // Nothing named: retry what is safe to retry on each data plane. gRPC
            // ignores the conditions it does not know.
            if (m_grpc)
                on = {"unavailable"};
            else
                on = {"5xx", "connect-failure", "refused-stream", "unavailable"};
        }
        std::string joined;
        for (const std::string &c : on)
            joined += (joined.empty() ? "" : ",") + c;
        out->set_retry_on(joined);
        out->mutable_num_retries()->set_value(uint32_t(retry.attempts));
        if (const auto perTry = retry.perTryTimeoutMs ? retry.perTryTimeoutMs : backendTimeoutMs)
            setDurationMs(out->mutable_per_try_timeout(), *perTry);
        if (retry.backoffMs && *retry.backoffMs > 0) {
            setDurationMs(out->mutable_retry_back_off()->mutable_base_interval(), *retry.backoffMs);
            setDurationMs(out->mutable_retry_back_off()->mutable_max_interval(), *retry.backoffMs * 10);
        }
    }

    void fillHeaderChanges(route::Route *out, const RouteRule &rule) const
    {
        using Action = core::HeaderValueOption;
        addHeaderOptions(
            out->mutable_request_headers_to_add(), rule.requestHeaders.set, Action::OVERWRITE_IF_EXISTS_OR_ADD);
        addHeaderOptions(
            out->mutable_request_headers_to_add(), rule.requestHeaders.add, Action::APPEND_IF_EXISTS_OR_ADD);
        for (const std::string &h : rule.requestHeaders.remove)
            out->add_request_headers_to_remove(lower(h));
        addHeaderOptions(
            out->mutable_response_headers_to_add(), rule.responseHeaders.set, Action::OVERWRITE_IF_EXISTS_OR_ADD);
        addHeaderOptions(
            out->mutable_response_headers_to_add(), rule.responseHeaders.add, Action::APPEND_IF_EXISTS_OR_ADD);
        for (const std::string &h : rule.responseHeaders.remove)
            out->add_response_headers_to_remove(lower(h));
    }

    void noteUnexpressed(const RouteRule &rule, const std::string &label)
    {
        if (m_grpc && (!rule.requestHeaders.empty() || !rule.responseHeaders.empty()))
            note(label + ": proxyless gRPC ignores route header changes");
    }

    // Registers the backend's cluster and returns its name.
    std::string useCluster(const BackendRef &b, const std::string &routeNs)
    {
        const std::string name = xdsClusterName(b, routeNs);
        m_clusters.emplace(name, std::make_pair(b, routeNs));
        return name;
    }

    envoy::config::cluster::v3::Cluster cluster(const std::string &name) const
    {
        envoy::config::cluster::v3::Cluster c;
        c.set_name(name);
        c.set_type(envoy::config::cluster::v3::Cluster::EDS);
        auto *eds = c.mutable_eds_cluster_config();
        eds->mutable_eds_config()->mutable_ads();
        eds->mutable_eds_config()->set_resource_api_version(core::V3);
        eds->set_service_name(name);
        setDurationMs(c.mutable_connect_timeout(), m_options.connectTimeoutMs);
        c.set_lb_policy(envoy::config::cluster::v3::Cluster::ROUND_ROBIN);
        return c;
    }

    envoy::config::endpoint::v3::ClusterLoadAssignment loadAssignment(
        const std::string &name, const BackendRef &b, const std::string &routeNs)
    {
        envoy::config::endpoint::v3::ClusterLoadAssignment cla;
        cla.set_cluster_name(name);
        auto *locality = cla.add_endpoints();
        // gRPC 1.51 requires a locality and drops one without a weight.
        locality->mutable_locality();
        locality->mutable_load_balancing_weight()->set_value(1);
        const std::vector<const EndpointSlice *> slices = m_set.slicesFor(b, routeNs);
        if (slices.empty())
            note("backend " + name + ": no EndpointSlice; its cluster has no endpoints");
        std::set<std::pair<std::string, int>> seen;
        for (const EndpointSlice *slice : slices) {
            const int port = dialPort(b, *slice);
            if (port <= 0) {
                note("EndpointSlice " + slice->ns + "/" + slice->name
                    + ": no port, and the backend reference names none; endpoints not sent");
                continue;
            }
            for (const Endpoint &e : slice->endpoints) {
                if (!seen.emplace(e.address, port).second)
                    continue;
                auto *lb = locality->add_lb_endpoints();
                auto *sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
                sa->set_address(e.address);
                sa->set_port_value(uint32_t(port));
                lb->set_health_status(e.ready ? core::HEALTHY : core::UNHEALTHY);
            }
        }
        return cla;
    }

    void note(std::string line)
    {
        if (std::find(m_out.notes.begin(), m_out.notes.end(), line) == m_out.notes.end())
            m_out.notes.push_back(std::move(line));
    }

    const RouteSet &m_set;
    const XdsTranslatorOptions &m_options;
    const bool m_grpc;
    XdsResourceSet m_out;
    std::map<std::string, std::pair<BackendRef, std::string>> m_clusters;  // name -> (backend, route namespace)
};

}  // namespace

std::string xdsTypeShortName(std::string_view typeUrl)
{
    if (typeUrl == kXdsListenerType)
        return "LDS";
    if (typeUrl == kXdsRouteConfigurationType)
        return "RDS";
    if (typeUrl == kXdsClusterType)
        return "CDS";
    if (typeUrl == kXdsClusterLoadAssignmentType)
        return "EDS";
    return std::string(typeUrl);
}

std::string xdsClusterName(const BackendRef &backend, const std::string &routeNs)
{
    std::string name = backendNamespace(backend, routeNs) + "/" + backend.name;
    if (backend.port > 0)
        name += ":" + std::to_string(backend.port);
    return name;
}

std::vector<std::string> xdsListenerNames(const HttpRoute &route)
{
    if (route.hostnames.empty())
        return {route.name + "." + route.ns};
    return route.hostnames;
}

envoy::type::v3::FractionalPercent xdsFractionalPercent(double percent)
{
    envoy::type::v3::FractionalPercent out;
    percent = std::clamp(std::isfinite(percent) ? percent : 0.0, 0.0, 100.0);
    const double whole = std::round(percent);
    if (std::abs(percent - whole) < 1e-9) {
        out.set_numerator(uint32_t(whole));
        out.set_denominator(envoy::type::v3::FractionalPercent::HUNDRED);
    } else {
        out.set_numerator(uint32_t(std::llround(percent * 10000)));
        out.set_denominator(envoy::type::v3::FractionalPercent::MILLION);
    }
    return out;
}

XdsResourceSet translateToXds(const RouteSet &set, const XdsTranslatorOptions &options)
{
    return Translator(set, options).run();
}

}  // namespace meshscope::routing
