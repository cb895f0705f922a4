"""Domain XML for a guest: a pure function of the guest spec."""

from xml.sax.saxutils import escape

from cloud.agents.hypervisor import GuestSpec


def domain_name(instance_id: str) -> str:
    """Nova-style libvirt name: ``instance-`` and the first 8 hex digits of the id."""
    return f"instance-{instance_id.replace('-', '')[:8]}"


def render(guest: GuestSpec, *, domain_type: str = "qemu") -> str:
    """The libvirt domain definition (TCG ``qemu`` unless told otherwise)."""
    return f"""<domain type='{domain_type}'>
  <name>{domain_name(guest.instance_id)}</name>
  <uuid>{guest.instance_id}</uuid>
  <title>{escape(guest.name)}</title>
  <memory unit='MiB'>{guest.memory_mb}</memory>
  <vcpu>{guest.vcpus}</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>"""
