"""Opening libvirt connections: the event loop QEMU needs, and the embedded QEMU driver.

``qemu:///embed?root=DIR`` runs libvirt's QEMU driver inside this process, keeping its
state under DIR: no libvirtd, no system configuration, one directory per agent. It needs
an event loop in the process (libvirt watches the QEMU monitor sockets with it), and, to
run as root, the ``libvirt-qemu`` user that Debian's libvirt-daemon-system creates.
"""

import os
import threading
from pathlib import Path
from urllib.parse import quote

import libvirt

_loop_lock = threading.Lock()
_loop_started = False

# Guests run as the agent's own user: no relabelling of disks, no second account to grant
# access to the instances directory. Console files are written by QEMU itself (there is
# no virtlogd in an embedded driver).
EMBEDDED_QEMU_CONF = """\
user = "+{uid}"
group = "+{gid}"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
security_driver = "none"
"""


def _run_event_loop() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def ensure_event_loop() -> None:
    """Register libvirt's default event loop once per process and run it in a thread."""
    global _loop_started
    with _loop_lock:
        if not _loop_started:
            libvirt.virEventRegisterDefaultImpl()
            threading.Thread(target=_run_event_loop, name="libvirt-events",
                             daemon=True).start()
            _loop_started = True


def open_connection(uri: str) -> libvirt.virConnect:
    """A connection to ``uri``; QEMU ones get the event loop first (the test driver
    needs none and stays free of threads)."""
    if not uri.startswith("test:"):
        ensure_event_loop()
    return libvirt.open(uri)


# QEMU's monitor socket lives at <root>/lib/qemu/domain-<n>-<name>/monitor.sock and a
# UNIX socket path has at most 107 bytes: the root must leave room for ~60 of them.
MAX_ROOT_LENGTH = 45


def embedded_qemu_uri(root: Path) -> str:
    """The URI of an embedded QEMU driver keeping its state under ``root``, configured on
    first use to run guests as this process's user."""
    root = root.resolve()
    if len(str(root)) > MAX_ROOT_LENGTH:
        raise ValueError(f"embedded libvirt root {root} is longer than {MAX_ROOT_LENGTH} "
                         "characters: QEMU's monitor socket path would not fit")
    conf = root / "etc" / "qemu.conf"
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(EMBEDDED_QEMU_CONF.format(uid=os.getuid(), gid=os.getgid()))
    return f"qemu:///embed?root={quote(str(root), safe='/')}"
