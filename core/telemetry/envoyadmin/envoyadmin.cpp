#include "telemetry/envoyadmin/envoyadmin.h"

#include <cmath>

namespace meshscope {

uint64_t EnvoyHostStatus::stat(const char *name) const
{
    auto it = stats.find(name);
    return it == stats.end() ? 0 : it->second;
}

std::optional<uint64_t> EnvoyStats::value(const std::string &name) const
{
    auto it = values.find(name);
    if (it == values.end())
        return std::nullopt;
    return it->second;
}

std::optional<double> EnvoyStats::quantile(const std::string &name, double q) const
{
    auto it = histograms.find(name);
    if (it == histograms.end())
        return std::nullopt;
    for (size_t i = 0; i < supportedQuantiles.size(); ++i) {
        if (std::abs(supportedQuantiles[i] - q) > 1e-9)
            continue;
        if (i < it->second.interval.size() && it->second.interval[i])
            return it->second.interval[i];
        if (i < it->second.cumulative.size() && it->second.cumulative[i])
            return it->second.cumulative[i];
        return std::nullopt;
    }
    return std::nullopt;
}

const char *envoyHostStateName(EnvoyHostState s)
{
    switch (s) {
    case EnvoyHostState::Healthy: return "healthy";
    case EnvoyHostState::Degraded: return "degraded";
    case EnvoyHostState::Unhealthy: return "unhealthy";
    }
    return "healthy";
}

}  // namespace meshscope
