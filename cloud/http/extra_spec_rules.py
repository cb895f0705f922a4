"""Flavor extra spec validation, microversion 2.86: known keys get their values checked,
unknown keys in a namespace we know are refused, everything else passes untouched.

The rules follow Nova's registered validators for the namespaces this cloud knows
(``hw``, ``quota``, ``resources[GROUP]``, ``trait[GROUP]`` and the namespace-less
``hide_hypervisor_id``/``group_policy``). Other namespaces (``os``, ``hw_rng``,
``aggregate_instance_extra_specs``, ``capabilities``, ...) are not validated, as Nova does
for namespaces it has no validators for. Traits are checked by shape only: we do not
carry os-traits' catalogue, so any upper-case trait name is accepted.
"""

import re
from collections.abc import Callable, Mapping

from cloud.http.faults import BadRequest

Check = Callable[[str, str], None]
_TRUE_FALSE = {"1", "0", "t", "f", "true", "false", "on", "off", "y", "n", "yes", "no"}
_CPU_MAP = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"
_GROUP = r"([a-zA-Z0-9_-]{1,64})?"
# The standard resource classes (os-resource-classes); CUSTOM_* ones are matched apart.
_RESOURCE_CLASSES = (
    "VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "NUMA_SOCKET",
    "NUMA_CORE", "NUMA_THREAD", "NUMA_MEMORY_MB", "IPV4_ADDRESS", "VGPU",
    "VGPU_DISPLAY_HEAD", "NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU", "MEM_ENCRYPTION_CONTEXT", "FPGA", "PGPU", "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC", "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC")
# Namespaces whose unknown keys are refused (the part before the first ``:``).
_NAMESPACES = (re.compile(r"hw"), re.compile(r"quota"), re.compile(f"resources{_GROUP}"),
               re.compile(f"trait{_GROUP}"))


def _fail(name: str, value: str, reason: str) -> BadRequest:
    return BadRequest(f"Validation failed; extra spec '{name}' has an invalid value"
                      f" '{value}': {reason}.")


def boolean() -> Check:
    def check(name: str, value: str) -> None:
        if value.strip().lower() not in _TRUE_FALSE:
            raise _fail(name, value, "expected a boolean")
    return check


def integer(minimum: int | None = None) -> Check:
    def check(name: str, value: str) -> None:
        try:
            number = int(value)
        except ValueError:
            raise _fail(name, value, "expected an integer") from None
        if minimum is not None and number < minimum:
            raise _fail(name, value, f"must be at least {minimum}")
    return check


def one_of(*choices: str) -> Check:
    def check(name: str, value: str) -> None:
        if value not in choices:
            raise _fail(name, value, f"must be one of {', '.join(choices)}")
    return check


def matching(pattern: str) -> Check:
    def check(name: str, value: str) -> None:
        if not re.fullmatch(pattern, value):
            raise _fail(name, value, f"must match '{pattern}'")
    return check


def anything() -> Check:
    return lambda name, value: None


def _quota_rules() -> dict[str, Check]:
    rules: dict[str, Check] = {}
    for resource in ("cpu", "memory", "disk_io", "vif"):  # VMware's
        rules.update({f"quota:{resource}_limit": integer(),
                      f"quota:{resource}_reservation": integer(),
                      f"quota:{resource}_shares_level": anything(),
                      f"quota:{resource}_shares_share": integer()})
    rules.update({f"quota:cpu_{key}": integer(0) for key in ("shares", "period", "quota")})
    rules.update({f"quota:disk_{stat}_{metric}_sec": integer(0)
                  for stat in ("read", "write", "total") for metric in ("bytes", "iops")})
    rules.update({f"quota:vif_{stat}_{metric}": integer(0) for stat in ("inbound", "outbound")
                  for metric in ("average", "peak", "burst")})
    return rules


_HW: dict[str, Check] = {
    "hw:cpu_realtime": boolean(), "hw:cpu_realtime_mask": matching(_CPU_MAP),
    "hw:hide_hypervisor_id": boolean(),
    "hw:cpu_policy": one_of("dedicated", "shared", "mixed"),
    "hw:cpu_thread_policy": one_of("prefer", "isolate", "require"),
    "hw:emulator_threads_policy": one_of("isolate", "share"),
    "hw:cpu_dedicated_mask": matching(_CPU_MAP),
    "hw:mem_page_size": matching(r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"),
    "hw:numa_nodes": integer(1),
    "hw:pci_numa_affinity_policy": one_of("required", "preferred", "legacy", "socket"),
    **{f"hw:{prefix}cpu_{unit}": integer(1) for prefix in ("", "max_")
       for unit in ("sockets", "cores", "threads")},
    "hw:boot_menu": boolean(), "hw:mem_encryption": boolean(),
    "hw:pmem": matching(r"([a-zA-Z0-9_]+(,)?)+"), "hw:pmu": boolean(),
    "hw:serial_port_count": integer(0), "hw:tpm_model": one_of("tpm-tis", "tpm-crb"),
    "hw:tpm_version": one_of("1.2", "2.0"),
    "hw:watchdog_action": one_of("none", "pause", "poweroff", "reset", "disabled"),
    # Keys of later Nova releases, accepted with their values unchecked.
    **{f"hw:{key}": anything() for key in (
        "locked_memory", "virtio_packed_ring", "viommu_model", "ephemeral_encryption",
        "ephemeral_encryption_format", "maxphysaddr_mode", "maxphysaddr_bits",
        "vif_multiqueue_enabled", "mem_encryption_model", "tpm_secret_security",
        "sound_model", "usb_model", "cpu_max_frequency", "cpu_min_frequency")},
}
_EXACT: dict[str, Check] = {
    **_HW, **_quota_rules(),
    "hide_hypervisor_id": boolean(), "group_policy": one_of("isolate", "none"),
}
_PATTERNS: tuple[tuple[re.Pattern[str], Check], ...] = (
    (re.compile(r"hw:numa_cpus\.\d+"), matching(_CPU_MAP)),
    (re.compile(r"hw:numa_mem\.\d+"), integer(1)),
    (re.compile(f"resources{_GROUP}:(CUSTOM_[A-Z0-9_]+|{'|'.join(_RESOURCE_CLASSES)})"),
     integer()),
    (re.compile(f"trait{_GROUP}:[A-Z][A-Z0-9_]*"), one_of("required", "forbidden")),
)


def validate(name: str, value: str) -> None:
    """Check one extra spec; 400 with the reason when it is known to be wrong."""
    if name in _EXACT:
        _EXACT[name](name, value)
        return
    for pattern, check in _PATTERNS:
        if pattern.fullmatch(name):
            check(name, value)
            return
    namespace, colon, _ = name.partition(":")
    if colon and any(known.fullmatch(namespace) for known in _NAMESPACES):
        raise BadRequest(f"Validation failed; extra spec '{name}' does not appear to be"
                         " a valid extra spec.")


def validate_all(specs: Mapping[str, str]) -> None:
    for name, value in specs.items():
        validate(name, value)
