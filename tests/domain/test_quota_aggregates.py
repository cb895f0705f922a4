"""QuotaSet and ProjectUsage: limits, reservations, releases and Nova's refusals."""

import pytest

from cloud.domain import quota
from cloud.domain.errors import Invalid, QuotaExceeded
from cloud.domain.events import (
    FlavorSpec,
    QuotaSetReset,
    QuotaSetUpdated,
    UsageChanged,
    UsageReleased,
    UsageReserved,
)
from cloud.domain.flavor import DEFAULT_FLAVORS

DEFAULTS = quota.DEFAULT_LIMITS


def quota_set(*events):
    state = None
    for event in events:
        state = quota.evolve_quota_set(state, "p1", event)
    return state or quota.QuotaSet(project_id="p1")


def usage(*events):
    state = None
    for event in events:
        state = quota.evolve_usage(state, "p1", event)
    return state or quota.ProjectUsage(project_id="p1")


def reserved(instance_id, cores=1, ram=512):
    return UsageReserved(project_id="p1", instance_id=instance_id, cores=cores, ram=ram)


# --- QuotaSet -------------------------------------------------------------------------


def test_defaults_are_novas():
    assert quota_set().limits() == DEFAULTS
    assert (DEFAULTS["instances"], DEFAULTS["cores"], DEFAULTS["ram"]) == (10, 20, 51200)
    assert DEFAULTS["key_pairs"] == 100 and DEFAULTS["metadata_items"] == 128


def test_updates_accumulate_and_reset_restores_the_defaults():
    first = QuotaSetUpdated(project_id="p1", limits={"instances": 5})
    second = QuotaSetUpdated(project_id="p1", limits={"cores": -1})
    limits = quota_set(first, second).limits()
    assert (limits["instances"], limits["cores"], limits["ram"]) == (5, -1, 51200)
    assert quota_set(first, second, QuotaSetReset(project_id="p1")).limits() == DEFAULTS


def test_update_records_only_what_changes():
    assert quota.update(quota_set(), {"instances": 3}, in_use={}) == [
        QuotaSetUpdated(project_id="p1", limits={"instances": 3})]
    assert quota.update(quota_set(), {}, in_use={}) == []


def test_a_limit_below_the_usage_needs_force():
    with pytest.raises(Invalid, match="Quota limit 2 for instances must be greater than or"
                                      " equal to already used and reserved 3."):
        quota.update(quota_set(), {"instances": 2}, in_use={"instances": 3})
    assert quota.update(quota_set(), {"instances": 2}, in_use={"instances": 3}, force=True)
    assert quota.update(quota_set(), {"instances": -1}, in_use={"instances": 3})


@pytest.mark.parametrize("changes", [{"bogus": 1}, {"instances": -2}])
def test_unknown_resources_and_negative_limits_are_refused(changes):
    with pytest.raises(Invalid):
        quota.update(quota_set(), changes, in_use={})


def test_reset_records_nothing_without_overrides():
    assert quota.reset(quota_set()) == []
    updated = quota_set(QuotaSetUpdated(project_id="p1", limits={"ram": 1}))
    assert quota.reset(updated) == [QuotaSetReset(project_id="p1")]


# --- ProjectUsage ---------------------------------------------------------------------


def test_reservations_add_up_and_releases_give_back():
    state = usage(reserved("a"), reserved("b", cores=2, ram=1024))
    assert state.in_use() == {"instances": 2, "cores": 3, "ram": 1536}
    assert usage(reserved("a"), reserved("b"), UsageReleased(project_id="p1",
                 instance_id="a")).in_use() == {"instances": 1, "cores": 1, "ram": 512}


def test_reserve_is_idempotent_per_instance_and_release_too():
    state = usage(reserved("a"))
    assert quota.reserve(state, DEFAULTS, instance_id="a", cores=1, ram=512) == []
    assert quota.release(state, instance_id="a") == [
        UsageReleased(project_id="p1", instance_id="a")]
    assert quota.release(usage(), instance_id="a") == []


def test_the_last_free_instance_is_reserved_then_refused_with_novas_message():
    limits = {**DEFAULTS, "instances": 2}
    state = usage(reserved("a"))
    assert quota.reserve(state, limits, instance_id="b", cores=1, ram=512) == [reserved("b")]
    with pytest.raises(QuotaExceeded) as refused:
        quota.reserve(usage(reserved("a"), reserved("b")), limits, instance_id="c",
                      cores=1, ram=512)
    assert str(refused.value) == ("Quota exceeded for instances: Requested 1, but already"
                                  " used 2 of 2 instances")


def test_several_resources_over_are_named_in_alphabetical_order():
    limits = {**DEFAULTS, "cores": 4, "ram": 2048}
    state = usage(reserved("a", cores=3, ram=1024))
    with pytest.raises(QuotaExceeded) as refused:
        quota.reserve(state, limits, instance_id="b", cores=2, ram=2048)
    assert str(refused.value) == ("Quota exceeded for cores, ram: Requested 2, 2048, but"
                                  " already used 3, 1024 of 4, 2048 cores, ram")


def test_unlimited_resources_never_refuse():
    limits = {**DEFAULTS, "instances": -1, "cores": -1, "ram": -1}
    state = usage(*(reserved(str(n), cores=8, ram=10**5) for n in range(50)))
    assert quota.reserve(state, limits, instance_id="x", cores=8, ram=10**5)


def test_metadata_items_are_limited():
    quota.check_metadata(DEFAULTS, 128)
    with pytest.raises(QuotaExceeded, match="^Maximum number of metadata items exceeds 2$"):
        quota.check_metadata({**DEFAULTS, "metadata_items": 2}, 3)


# --- resizes --------------------------------------------------------------------------

TINY, MEDIUM, LARGE = (next(f for f in DEFAULT_FLAVORS if f.name == name)
                       for name in ("m1.tiny", "m1.medium", "m1.large"))


def changed(instance_id, cores, ram):
    return UsageChanged(project_id="p1", instance_id=instance_id, cores=cores, ram=ram)


def test_a_resizing_instance_holds_the_larger_of_each_resource():
    more_cores = FlavorSpec(flavorid="x", name="x", vcpus=4, ram=256, disk=1)
    assert quota.held(TINY) == quota.Reservation(cores=1, ram=512)
    assert quota.held(TINY, None, MEDIUM) == quota.Reservation(cores=2, ram=4096)
    assert quota.held(more_cores, MEDIUM) == quota.Reservation(cores=4, ram=4096)


def test_recount_records_the_change_once_and_only_for_a_counted_instance():
    state = usage(reserved("a"))
    both = quota.held(TINY, MEDIUM)
    assert quota.recount(state, instance_id="a", counts=both, limits=DEFAULTS) == [
        changed("a", 2, 4096)]
    resized = usage(reserved("a"), changed("a", 2, 4096))
    assert resized.in_use() == {"instances": 1, "cores": 2, "ram": 4096}
    assert quota.recount(resized, instance_id="a", counts=both) == []
    assert quota.recount(usage(), instance_id="a", counts=both) == []
    assert quota.recount(resized, instance_id="a", counts=quota.held(TINY)) == [
        changed("a", 1, 512)]


def test_a_change_after_the_release_counts_nothing():
    released = usage(reserved("a"), UsageReleased(project_id="p1", instance_id="a"),
                     changed("a", 2, 4096))
    assert released.in_use() == {"instances": 0, "cores": 0, "ram": 0}


def test_only_the_increase_must_fit_and_is_what_nova_names():
    limits = {**DEFAULTS, "cores": 6, "ram": 8000}
    state = usage(reserved("a", cores=2, ram=4096), reserved("b"), reserved("c"))
    with pytest.raises(QuotaExceeded) as refused:
        quota.recount(state, instance_id="b", counts=quota.held(TINY, LARGE), limits=limits)
    assert str(refused.value) == ("Quota exceeded for cores, ram: Requested 3, 7680, but"
                                  " already used 4, 5120 of 6, 8000 cores, ram")
    with pytest.raises(QuotaExceeded, match="^Quota exceeded for ram: Requested 3584,"):
        quota.recount(state, instance_id="b", counts=quota.held(TINY, MEDIUM),
                      limits=limits)
    full = {**DEFAULTS, "cores": 4, "ram": 5120}
    # Giving back never needs room, even past the limits.
    assert quota.recount(usage(reserved("a", cores=4, ram=8192)), instance_id="a",
                         counts=quota.held(MEDIUM), limits=full) == [changed("a", 2, 4096)]
