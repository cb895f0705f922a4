"""Filtering and weighing hosts, and explaining a NoValidHost."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.domain.host import Claim
from cloud.domain.placement.filters import FILTERS, UNNEEDED
from cloud.domain.placement import (
    AggregateView,
    GroupView,
    HostView,
    RequestSpec,
    SchedulerConfig,
    place,
)

NONE_USED = Claim(vcpus=0, memory_mb=0, disk_gb=0)
SMALL = Claim(vcpus=1, memory_mb=512, disk_gb=1)


def view(name, *, memory_mb=4096, used=NONE_USED, **fields):
    return HostView(name=name, vcpus=4, memory_mb=memory_mb, disk_gb=100, used=used, **fields)


def spec(want=SMALL, **fields):
    return RequestSpec(instance_id="i-new", want=want, project_id="p1", **fields)


def test_spreads_onto_the_host_with_most_free_resources():
    hosts = [view("a", used=Claim(vcpus=1, memory_mb=2048, disk_gb=1)), view("b")]
    assert place(spec(), hosts).hosts == ["b", "a"]


def test_packing_fills_the_fullest_host_first():
    hosts = [view("a", used=Claim(vcpus=1, memory_mb=2048, disk_gb=1)), view("b")]
    assert place(spec(), hosts, SchedulerConfig.packing()).hosts == ["a", "b"]


def test_weights_are_normalised_multiplied_and_summed():
    hosts = [view("a", used=Claim(vcpus=2, memory_mb=1024, disk_gb=10)), view("b")]
    plan = place(spec(), hosts)
    # b has the most free RAM, vCPU and disk: 1.0 from each of the three weighers.
    assert plan.hosts == ["b", "a"] and plan.weights == [3.0, 0.0]
    no_disk = place(spec(), [view("a", used=Claim(vcpus=2, memory_mb=1024, disk_gb=0)),
                             view("b")])
    assert no_disk.weights == [2.0, 0.0]  # equal disk: that weigher prefers neither


def test_each_filter_counts_the_hosts_it_removed():
    hosts = [view("down", up=False), view("small", memory_mb=256), view("ok")]
    plan = place(spec(), hosts)
    assert plan.hosts == ["ok"]
    assert plan.removed["Compute"] == 1 and plan.removed["RAM"] == 1
    assert sum(plan.removed.values()) == 2


def test_no_valid_host_says_why():
    plan = place(spec(Claim(vcpus=1, memory_mb=10**6, disk_gb=1)), [view("a"), view("b")])
    assert plan.hosts == []
    assert plan.explain() == "No valid host was found. RAM: 2 of 2 hosts removed"
    assert place(spec(), []).explain().endswith("There are no compute hosts.")


def test_availability_zone_comes_from_aggregates():
    zoned = view("z", aggregates=(AggregateView(name="agg", availability_zone="az1"),))
    assert place(spec(availability_zone="az1"), [view("n"), zoned]).hosts == ["z"]
    assert place(spec(availability_zone="nova"), [view("n"), zoned]).hosts == ["n"]


def test_aggregate_ratio_lowers_the_host_ratio():
    agg = AggregateView(name="strict", metadata={"cpu_allocation_ratio": "1.0"})
    busy = view("h", used=Claim(vcpus=4, memory_mb=0, disk_gb=0), aggregates=(agg,))
    assert place(spec(), [busy]).removed["VCPU"] == 1
    assert place(spec(), [view("h", used=Claim(vcpus=4, memory_mb=0, disk_gb=0))]).hosts == ["h"]


def test_extra_specs_and_tenant_isolation_follow_aggregate_metadata():
    ssd = view("ssd", aggregates=(AggregateView(name="a", metadata={"disk": "ssd"}),))
    mine = view("mine", aggregates=(AggregateView(name="b",
                                                  metadata={"filter_tenant_id": "p2"}),))
    wants_ssd = spec(flavor_extra_specs={"aggregate_instance_extra_specs:disk": "ssd"})
    assert place(wants_ssd, [view("plain"), ssd, mine]).hosts == ["ssd"]
    assert place(spec(), [view("plain"), mine]).hosts == ["plain"]


def test_strict_group_policies():
    anti = GroupView(policy="anti-affinity", members_per_host={"a": 1})
    assert place(spec(group=anti), [view("a"), view("b")]).hosts == ["b"]
    two = GroupView(policy="anti-affinity", members_per_host={"a": 1}, max_server_per_host=2)
    assert sorted(place(spec(group=two), [view("a"), view("b")]).hosts) == ["a", "b"]
    affinity = GroupView(policy="affinity", members_per_host={"b": 2})
    assert place(spec(group=affinity), [view("a"), view("b")]).hosts == ["b"]


def test_soft_policies_only_reorder():
    soft = GroupView(policy="soft-affinity", members_per_host={"a": 3})
    only = {"SoftAffinity": 1.0}
    assert place(spec(group=soft), [view("a"), view("b")],
                 SchedulerConfig(multipliers=only)).hosts == ["a", "b"]
    anti = GroupView(policy="soft-anti-affinity", members_per_host={"a": 3})
    assert place(spec(group=anti), [view("a"), view("b")],
                 SchedulerConfig(multipliers={"SoftAntiAffinity": 1.0})).hosts == ["b", "a"]


def test_hints_isolation_retries_and_build_failures():
    a, b = view("a", instances=frozenset({"i1"})), view("b", instances=frozenset({"i2"}))
    assert place(spec(same_host=frozenset({"i1"})), [a, b]).hosts == ["a"]
    assert place(spec(different_host=frozenset({"i1"})), [a, b]).hosts == ["b"]
    assert place(spec(ignore_hosts=frozenset({"a"})), [a, b]).hosts == ["b"]
    isolated = SchedulerConfig(isolated_hosts=frozenset({"a"}),
                               isolated_images=frozenset({"special"}))
    assert place(spec(image_id="special"), [a, b], isolated).hosts == ["a"]
    assert place(spec(image_id="other"), [a, b], isolated).hosts == ["b"]
    failing = view("a", failed_builds=3)
    assert place(spec(), [failing, view("b")]).hosts == ["b", "a"]
    assert place(spec(), [view("full", instances=frozenset(map(str, range(50))))]
                 ).removed["NumInstances"] == 1


def test_image_properties_match_the_host():
    arm = spec(image_properties={"hw_architecture": "aarch64"})
    assert place(arm, [view("x86")]).hosts == []
    assert place(arm, [view("arm", cpu_arch="aarch64")]).hosts == ["arm"]


def test_scheduler_config_from_the_environment():
    from cloud.agents.scheduler import config_from_env
    config = config_from_env({"CLOUD_SCHEDULER_FILTERS": "Compute, RAM",
                              "CLOUD_SCHEDULER_WEIGHERS": "RAM=-1,CPU=-1"})
    assert config.filters == ("Compute", "RAM")
    assert config.multipliers["RAM"] == -1.0 and config.multipliers["Disk"] == 1.0
    assert config_from_env({}) == SchedulerConfig()
    import pytest
    with pytest.raises(SystemExit, match="unknown scheduler filters: Nope"):
        config_from_env({"CLOUD_SCHEDULER_FILTERS": "Nope"})


def test_an_aggregate_ratio_overrides_the_hosts_own_either_way():
    from cloud.domain.host import Ratios
    loose = AggregateView(name="loose", metadata={"cpu_allocation_ratio": "8.0"})
    strict = AggregateView(name="strict", metadata={"cpu_allocation_ratio": "2.0"})
    own = Ratios(cpu=1.0)
    assert view("h", ratios=own).effective_ratios.cpu == 1.0
    assert view("h", ratios=own, aggregates=(loose,)).effective_ratios.cpu == 8.0
    assert view("h", ratios=own, aggregates=(loose, strict)).effective_ratios.cpu == 2.0
    busy = view("h", ratios=own, used=Claim(vcpus=4, memory_mb=0, disk_gb=0))
    assert place(spec(), [busy]).removed["VCPU"] == 1
    assert place(spec(), [view("h", ratios=own, aggregates=(loose,),
                               used=Claim(vcpus=4, memory_mb=0, disk_gb=0))]).hosts == ["h"]


# --- filters skipped when the request gives them nothing to check --------------------

NAMES = st.sampled_from(["a", "b", "c", "d"])
aggregate_views = st.builds(
    AggregateView, name=NAMES,
    metadata=st.dictionaries(st.sampled_from(["availability_zone", "ssd", "filter_tenant_id"]),
                             st.sampled_from(["az1", "true", "p1", "p2"]), max_size=2),
    availability_zone=st.sampled_from([None, "az1", "az2"]))
host_views = st.builds(
    view, NAMES, aggregates=st.lists(aggregate_views, max_size=2).map(tuple),
    instances=st.frozensets(st.sampled_from(["i1", "i2", "i3"]), max_size=2),
    hypervisor_type=st.sampled_from(["QEMU", "ironic"]),
    cpu_arch=st.sampled_from(["x86_64", "aarch64"]))
groups = st.one_of(st.none(), st.builds(
    GroupView, policy=st.sampled_from(["affinity", "anti-affinity", "soft-affinity",
                                       "soft-anti-affinity"]),
    members_per_host=st.dictionaries(NAMES, st.integers(1, 3), max_size=2)))
requests = st.builds(
    spec, availability_zone=st.sampled_from([None, "az1", "nova"]),
    flavor_extra_specs=st.dictionaries(
        st.sampled_from(["aggregate_instance_extra_specs:ssd", "hw:cpu_policy", "ssd"]),
        st.sampled_from(["true", "dedicated"]), max_size=2),
    image_properties=st.dictionaries(
        st.sampled_from(["hw_architecture", "img_hv_type", "os_distro"]),
        st.sampled_from(["x86_64", "aarch64", "qemu", "debian"]), max_size=2),
    image_id=st.sampled_from(["img-1", "img-iso"]), group=groups,
    same_host=st.frozensets(st.sampled_from(["i1", "i9"]), max_size=1),
    different_host=st.frozensets(st.sampled_from(["i2", "i9"]), max_size=1),
    ignore_hosts=st.frozensets(NAMES, max_size=1))
scheduler_configs = st.builds(
    SchedulerConfig, isolated_hosts=st.frozensets(NAMES, max_size=1),
    isolated_images=st.frozensets(st.just("img-iso"), max_size=1),
    restrict_isolated_hosts_to_isolated_images=st.booleans())


@settings(max_examples=400, deadline=None)
@given(request=requests, hosts=st.lists(host_views, max_size=6), config=scheduler_configs)
def test_a_filter_skipped_as_unneeded_would_have_kept_every_host(request, hosts, config):
    for name, unneeded in UNNEEDED.items():
        if unneeded(request, config):
            assert all(FILTERS[name](request, host, config) for host in hosts), name
