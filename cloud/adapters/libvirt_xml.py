"""Domain XML for a guest: a pure function of the guest spec and where its files live."""

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import msgspec

from cloud.agents.hypervisor import GuestSpec


class GuestFiles(msgspec.Struct, frozen=True, kw_only=True):
    """A guest's files on the host: its root disk (None: diskless) and console log."""

    disk: Path | None
    console_log: Path


def domain_name(instance_id: str) -> str:
    """Nova-style libvirt name: ``instance-`` and the first 8 hex digits of the id."""
    return f"instance-{instance_id.replace('-', '')[:8]}"


def _disk(path: Path | None) -> str:
    if path is None:
        return ""
    # The overlay's backing file is read from its qcow2 header; libvirt follows it.
    return f"""
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file={quoteattr(str(path))}/>
      <target dev='vda' bus='virtio'/>
    </disk>"""


def _console(log: Path) -> str:
    # A file, appended to across restarts, so console_output can read every boot; the
    # serial port is the guest's console (console=ttyS0), the <console> its alias.
    source = f"<source path={quoteattr(str(log))} append='on'/>"
    return f"""
    <serial type='file'>{source}<target port='0'/></serial>
    <console type='file'>{source}<target type='serial' port='0'/></console>"""


def render(guest: GuestSpec, *, domain_type: str = "qemu",
           files: GuestFiles | None = None) -> str:
    """The libvirt domain definition (TCG ``qemu`` unless told otherwise)."""
    # KVM runs the host's CPU model; TCG emulates QEMU's default one.
    cpu = "\n  <cpu mode='host-passthrough'/>" if domain_type == "kvm" else ""
    devices = "" if files is None else _disk(files.disk) + _console(files.console_log)
    return f"""<domain type='{domain_type}'>
  <name>{domain_name(guest.instance_id)}</name>
  <uuid>{guest.instance_id}</uuid>
  <title>{escape(guest.name)}</title>
  <memory unit='MiB'>{guest.memory_mb}</memory>
  <vcpu>{guest.vcpus}</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>{cpu}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>{devices}
    <memballoon model='virtio'/>
  </devices>
</domain>"""
