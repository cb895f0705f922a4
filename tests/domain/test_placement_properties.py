"""Properties of placement over random fleets and request sequences (hypothesis).

The scheduler's loop is replayed purely: place, claim on the Host aggregate (which may
refuse), record. Whatever the fleet and the requests, no host is ever overcommitted,
strict group policies always hold, and every request is either placed or explained.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.domain import host as host_domain
from cloud.domain.errors import HostFull
from cloud.domain.events import HostRegistered
from cloud.domain.host import Claim, Ratios
from cloud.domain.placement import GroupView, HostView, RequestSpec, SchedulerConfig, place

RATIOS = Ratios()

fleets = st.lists(st.tuples(st.integers(1, 16), st.integers(256, 16384), st.integers(1, 200),
                            st.booleans()), min_size=0, max_size=12)
requests = st.lists(st.tuples(st.integers(1, 8), st.integers(64, 8192), st.integers(0, 40),
                              st.sampled_from([None, "g-anti", "g-aff", "g-soft"])),
                    min_size=1, max_size=60)
configs = st.sampled_from([SchedulerConfig(), SchedulerConfig.packing()])
POLICIES = {"g-anti": "anti-affinity", "g-aff": "affinity", "g-soft": "soft-anti-affinity"}


def register(name, vcpus, memory_mb, disk_gb):
    return host_domain.evolve(None, name, HostRegistered(
        host=name, hypervisor_type="QEMU", hypervisor_hostname=name, vcpus=vcpus,
        memory_mb=memory_mb, disk_gb=disk_gb))


def views(hosts, up, placed):
    return [HostView(name=name, vcpus=h.vcpus, memory_mb=h.memory_mb, disk_gb=h.disk_gb,
                     used=h.used(), up=up[name], ratios=RATIOS,
                     instances=frozenset(i for i, where in placed.items() if where == name))
            for name, h in hosts.items()]


def group_view(group, members, placed):
    if group is None:
        return None
    per_host: dict[str, int] = {}
    for instance_id in members.get(group, []):
        per_host[placed[instance_id]] = per_host.get(placed[instance_id], 0) + 1
    return GroupView(policy=POLICIES[group], members_per_host=per_host)


@settings(max_examples=150, deadline=None)
@given(fleet=fleets, wanted=requests, config=configs)
def test_placement_never_overcommits_and_always_answers(fleet, wanted, config):
    hosts = {f"h{n}": register(f"h{n}", *spec[:3]) for n, spec in enumerate(fleet)}
    up = {f"h{n}": spec[3] for n, spec in enumerate(fleet)}
    placed: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for n, (vcpus, ram, disk, group) in enumerate(wanted):
        instance_id = f"i{n}"
        want = Claim(vcpus=vcpus, memory_mb=ram, disk_gb=disk)
        request = RequestSpec(instance_id=instance_id, want=want,
                              group=group_view(group, members, placed))
        plan = place(request, views(hosts, up, placed), config)
        chosen = None
        for name in plan.hosts:
            try:
                events = host_domain.claim(hosts[name], instance_id=instance_id,
                                           resources=want, ratios=RATIOS)
            except HostFull:
                continue
            for event in events:
                hosts[name] = host_domain.evolve(hosts[name], name, event)
            chosen = name
            break
        if chosen is None:
            assert plan.explain().startswith("No valid host was found.")
            assert plan.hosts == [] and (sum(plan.removed.values()) == len(hosts))
            continue
        assert up[chosen]
        placed[instance_id] = chosen
        if group:
            members.setdefault(group, []).append(instance_id)

    for name, state in hosts.items():
        used = state.used()
        assert used.vcpus <= state.vcpus * RATIOS.cpu
        assert used.memory_mb <= state.memory_mb * RATIOS.ram
        assert used.disk_gb <= state.disk_gb * RATIOS.disk
    anti_hosts = [placed[i] for i in members.get("g-anti", [])]
    assert len(anti_hosts) == len(set(anti_hosts))
    assert len({placed[i] for i in members.get("g-aff", [])}) <= 1
