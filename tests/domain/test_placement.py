"""Filtering and weighing hosts, and explaining a NoValidHost."""

from cloud.domain.host import Claim
from cloud.domain.placement import HostView, place

NONE_USED = Claim(vcpus=0, memory_mb=0, disk_gb=0)


def view(name, *, memory_mb=4096, used=NONE_USED, up=True):
    return HostView(name=name, up=up, vcpus=4, memory_mb=memory_mb, disk_gb=100, used=used)


def test_spreads_onto_the_host_with_most_free_ram():
    hosts = [view("a", used=Claim(vcpus=1, memory_mb=2048, disk_gb=1)), view("b")]
    assert place(Claim(vcpus=1, memory_mb=512, disk_gb=1), hosts).hosts == ["b", "a"]


def test_each_filter_counts_the_hosts_it_removed():
    hosts = [view("down", up=False), view("small", memory_mb=256), view("ok")]
    plan = place(Claim(vcpus=1, memory_mb=512, disk_gb=1), hosts)
    assert plan.hosts == ["ok"]
    assert plan.removed == {"Compute": 1, "RAM": 1, "VCPU": 0, "Disk": 0}


def test_no_valid_host_says_why():
    plan = place(Claim(vcpus=1, memory_mb=10**6, disk_gb=1), [view("a"), view("b")])
    assert plan.hosts == []
    assert plan.explain() == "No valid host was found. RAM: 2 of 2 hosts removed"
    assert place(Claim(vcpus=1, memory_mb=1, disk_gb=1), []).explain().endswith(
        "There are no compute hosts.")
