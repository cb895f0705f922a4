"""Host capacity and claims."""

import pytest

from cloud.domain import host
from cloud.domain.errors import HostFull
from cloud.domain.events import HostRegistered, ResourcesClaimed, ResourcesReleased

RATIOS = host.Ratios()


def registered(vcpus=2, memory_mb=1024, disk_gb=10):
    return HostRegistered(host="h1", hypervisor_type="QEMU", hypervisor_hostname="h1",
                          vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)


def given(*events):
    state = None
    for event in events:
        state = host.evolve(state, "h1", event)
    return state


def claim(instance_id, *, vcpus=1, memory_mb=512, disk_gb=1):
    return host.Claim(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)


def test_registering_the_same_capacity_again_records_nothing():
    state = given(registered())
    assert host.register(state, hypervisor_type="QEMU", hypervisor_hostname="h1",
                         vcpus=2, memory_mb=1024, disk_gb=10) == []
    assert host.register(state, hypervisor_type="QEMU", hypervisor_hostname="h1",
                         vcpus=4, memory_mb=1024, disk_gb=10) == [registered(vcpus=4)]


def test_claims_fill_the_host_then_refuse_with_the_missing_resource():
    state = given(registered())
    first = host.claim(state, instance_id="a", resources=claim("a"), ratios=RATIOS)
    state = given(registered(), *first)
    second = host.claim(state, instance_id="b", resources=claim("b"), ratios=RATIOS)
    state = given(registered(), *first, *second)
    assert state.used() == host.Claim(vcpus=2, memory_mb=1024, disk_gb=2)
    with pytest.raises(HostFull) as refused:
        host.claim(state, instance_id="c", resources=claim("c"), ratios=RATIOS)
    assert refused.value.resource == "memory_mb"


def test_cpu_is_overcommitted_four_times_by_default():
    state = given(registered(vcpus=1, memory_mb=10**6, disk_gb=100))
    events = []
    for n in range(4):
        events += host.claim(given(registered(vcpus=1, memory_mb=10**6, disk_gb=100), *events),
                             instance_id=str(n), resources=claim(str(n)), ratios=RATIOS)
    assert len(events) == 4
    with pytest.raises(HostFull, match="vcpus"):
        host.claim(given(registered(vcpus=1, memory_mb=10**6, disk_gb=100), *events),
                   instance_id="5", resources=claim("5"), ratios=RATIOS)
    assert state.vcpus == 1


def test_claiming_twice_for_one_instance_is_one_claim_and_release_is_idempotent():
    claimed = ResourcesClaimed(host="h1", instance_id="a", vcpus=1, memory_mb=512, disk_gb=1)
    state = given(registered(), claimed)
    assert host.claim(state, instance_id="a", resources=claim("a"), ratios=RATIOS) == []
    assert host.release(state, instance_id="a") == [ResourcesReleased(host="h1", instance_id="a")]
    released = given(registered(), claimed, ResourcesReleased(host="h1", instance_id="a"))
    assert host.release(released, instance_id="a") == []
    assert released.used() == host.Claim(vcpus=0, memory_mb=0, disk_gb=0)


def test_an_operators_ratios_are_recorded_and_checked_by_claims_without_ratios():
    state = given(registered(vcpus=2, memory_mb=4096, disk_gb=40))
    events = host.register(state, hypervisor_type="QEMU", hypervisor_hostname="h1", vcpus=2,
                           memory_mb=4096, disk_gb=40, cpu_allocation_ratio=1.0)
    assert [e.cpu_allocation_ratio for e in events] == [1.0]
    state = given(registered(vcpus=2, memory_mb=4096, disk_gb=40), *events)
    assert state.ratios() == host.Ratios(cpu=1.0, ram=1.0, disk=1.0)
    assert host.register(state, hypervisor_type="QEMU", hypervisor_hostname="h1", vcpus=2,
                         memory_mb=4096, disk_gb=40, cpu_allocation_ratio=1.0) == []
    for n in range(2):
        state = host.evolve(state, "h1", *host.claim(state, instance_id=f"i{n}",
                                                     resources=claim(f"i{n}")))
    with pytest.raises(HostFull):  # 2 vCPUs × 1.0, not Nova's default 4.0
        host.claim(state, instance_id="i2", resources=claim("i2"))
    # A caller that worked the ratios out itself (the scheduler, from aggregates) wins.
    assert host.claim(state, instance_id="i2", resources=claim("i2"),
                      ratios=host.Ratios(cpu=2.0))


def test_a_ratio_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="ram_allocation_ratio must be a positive number"):
        host.register(given(registered()), hypervisor_type="QEMU", hypervisor_hostname="h1",
                      vcpus=2, memory_mb=1024, disk_gb=10, ram_allocation_ratio=0.0)
