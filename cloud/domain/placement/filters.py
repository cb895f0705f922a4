"""Filters: small pure predicates over (request, host, config). A host failing one is out."""

from collections.abc import Callable

from cloud.domain.placement.model import HostView, RequestSpec, SchedulerConfig

Filter = Callable[[RequestSpec, HostView, SchedulerConfig], bool]
EXTRA_SPEC_SCOPE = "aggregate_instance_extra_specs:"
TENANT_KEY = "filter_tenant_id"


def retry(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """Not a host this instance already failed to build on."""
    return host.name not in spec.ignore_hosts


def compute(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """The host's compute agent is alive and the service is enabled."""
    return host.up and host.enabled


def availability_zone(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return spec.availability_zone is None or spec.availability_zone == host.availability_zone


def ram(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return host.free.memory_mb >= spec.want.memory_mb


def vcpu(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return host.free.vcpus >= spec.want.vcpus


def disk(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return host.free.disk_gb >= spec.want.disk_gb


def aggregate_extra_specs(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """Scoped flavor extra specs must each match some aggregate's metadata value."""
    for key, wanted in spec.flavor_extra_specs.items():
        if not key.startswith(EXTRA_SPEC_SCOPE):
            continue
        name = key[len(EXTRA_SPEC_SCOPE):]
        offered = {value.strip() for a in host.aggregates
                   for value in a.metadata.get(name, "").split(",") if name in a.metadata}
        if wanted not in offered:
            return False
    return True


def multi_tenancy_isolation(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """Aggregates naming tenants take only those tenants."""
    allowed = {tenant.strip() for a in host.aggregates for key, value in a.metadata.items()
               if key.startswith(TENANT_KEY) for tenant in value.split(",")}
    return not allowed or spec.project_id in allowed


def image_properties(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """The image's architecture and hypervisor type, when it names them, match the host."""
    arch = spec.image_properties.get("hw_architecture") or spec.image_properties.get(
        "architecture")
    hv_type = spec.image_properties.get("img_hv_type") or spec.image_properties.get(
        "hypervisor_type")
    return ((arch is None or arch.lower() == host.cpu_arch.lower())
            and (hv_type is None or hv_type.lower() == host.hypervisor_type.lower()))


def group_affinity(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """Strict affinity: once members are placed, only their host."""
    group = spec.group
    if group is None or group.policy != "affinity" or not group.members_per_host:
        return True
    return host.name in group.members_per_host


def group_anti_affinity(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """Strict anti-affinity: fewer than max_server_per_host members on this host."""
    group = spec.group
    if group is None or group.policy != "anti-affinity":
        return True
    return group.members_per_host.get(host.name, 0) < group.max_server_per_host


def same_host(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return not spec.same_host or bool(spec.same_host & host.instances)


def different_host(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return not (spec.different_host & host.instances)


def num_instances(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    return len(host.instances) < config.max_instances_per_host


def isolated_hosts(spec: RequestSpec, host: HostView, config: SchedulerConfig) -> bool:
    """Isolated images only on isolated hosts; other images kept off them if so configured."""
    image_isolated = spec.image_id in config.isolated_images
    host_isolated = host.name in config.isolated_hosts
    if image_isolated:
        return host_isolated
    return not (host_isolated and config.restrict_isolated_hosts_to_isolated_images)


FILTERS: dict[str, Filter] = {
    "Retry": retry,
    "Compute": compute,
    "AvailabilityZone": availability_zone,
    "RAM": ram,
    "VCPU": vcpu,
    "Disk": disk,
    "AggregateInstanceExtraSpecs": aggregate_extra_specs,
    "AggregateMultiTenancyIsolation": multi_tenancy_isolation,
    "ImageProperties": image_properties,
    "ServerGroupAffinity": group_affinity,
    "ServerGroupAntiAffinity": group_anti_affinity,
    "SameHost": same_host,
    "DifferentHost": different_host,
    "NumInstances": num_instances,
    "IsolatedHosts": isolated_hosts,
}


def _scoped_extra_specs(spec: RequestSpec) -> bool:
    return any(key.startswith(EXTRA_SPEC_SCOPE) for key in spec.flavor_extra_specs)


def _names_image_properties(spec: RequestSpec) -> bool:
    return any(key in spec.image_properties for key in
               ("hw_architecture", "architecture", "img_hv_type", "hypervisor_type"))


def _group_policy(spec: RequestSpec) -> str | None:
    return spec.group.policy if spec.group is not None else None


# When a request gives a filter nothing to check, the filter keeps every host: it is not
# run, which spares a call per host (thousands per decision in a large fleet). Each
# entry must agree with its filter; tests/domain/test_placement.py checks them.
UNNEEDED: dict[str, Callable[[RequestSpec, SchedulerConfig], bool]] = {
    "Retry": lambda spec, config: not spec.ignore_hosts,
    "AvailabilityZone": lambda spec, config: spec.availability_zone is None,
    "AggregateInstanceExtraSpecs": lambda spec, config: not _scoped_extra_specs(spec),
    "ImageProperties": lambda spec, config: not _names_image_properties(spec),
    "ServerGroupAffinity": lambda spec, config: _group_policy(spec) != "affinity"
    or not spec.group.members_per_host,  # type: ignore[union-attr]
    "ServerGroupAntiAffinity": lambda spec, config: _group_policy(spec) != "anti-affinity",
    "SameHost": lambda spec, config: not spec.same_host,
    "DifferentHost": lambda spec, config: not spec.different_host,
    "IsolatedHosts": lambda spec, config: not config.isolated_hosts
    and spec.image_id not in config.isolated_images,
}
