"""Choosing a host: filters remove hosts, weighers order the rest. Pure functions."""

from collections.abc import Sequence

import msgspec

from cloud.domain.placement.filters import FILTERS, UNNEEDED
from cloud.domain.placement.model import (
    AggregateView,
    GroupView,
    HostView,
    RequestSpec,
    SchedulerConfig,
)
from cloud.domain.placement.weighers import weigh

__all__ = ["AggregateView", "GroupView", "HostView", "Placement", "RequestSpec",
           "SchedulerConfig", "place"]


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """Hosts that passed, best first, and how many hosts each filter removed."""

    hosts: list[str]
    weights: list[float]
    removed: dict[str, int]
    considered: int

    def explain(self) -> str:
        """Nova's NoValidHost, with the reason Nova never gives."""
        counts = "; ".join(f"{name}: {n} of {self.considered} hosts removed"
                           for name, n in self.removed.items() if n)
        return f"No valid host was found. {counts or 'There are no compute hosts.'}"


def place(spec: RequestSpec, hosts: Sequence[HostView],
          config: SchedulerConfig = SchedulerConfig()) -> Placement:
    """Run the enabled filters in order, then weigh the survivors."""
    removed: dict[str, int] = {}
    remaining = [host for host in hosts
                 if spec.requested_host is None or host.name == spec.requested_host]
    for name in config.filters:
        unneeded = UNNEEDED.get(name)
        if unneeded is not None and unneeded(spec, config):
            removed[name] = 0
            continue
        keep = FILTERS[name]
        passed = [host for host in remaining if keep(spec, host, config)]
        removed[name] = len(remaining) - len(passed)
        remaining = passed
    weights = weigh(spec, remaining, config.multipliers)
    ranked = sorted(zip(weights, remaining), key=lambda pair: (-pair[0], pair[1].name))
    return Placement(hosts=[host.name for _, host in ranked],
                     weights=[weight for weight, _ in ranked],
                     removed=removed, considered=len(hosts))
