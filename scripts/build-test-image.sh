#!/usr/bin/env bash
# Builds the test guest image: a tiny bootable disk (qcow2) made only of Debian packages.
#
#   scripts/build-test-image.sh [OUTPUT_DIR]      (default: .cloud/test-image)
#
# Writes OUTPUT_DIR/cloud-test-guest.qcow2 and its .sha512; does nothing when they exist.
# The guest boots on SeaBIOS like any cloud image (boot from disk, no kernel on the host):
# the disk is one FAT filesystem holding SYSLINUX, Debian's kernel and a busybox initramfs
# whose /init prints "CLOUD-TEST-GUEST READY" on ttyS0 and powers off on the ACPI power
# button. Packages are fetched with `apt-get download` and unpacked with dpkg-deb into a
# scratch directory: nothing is installed on this machine, root is not needed. Needs
# qemu-img (qemu-utils), gzip and the apt package lists (apt-get update).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.cloud/test-image}
IMAGE="$OUT/cloud-test-guest.qcow2"
if [ -f "$IMAGE" ] && [ -f "$IMAGE.sha512" ]; then
  echo "$IMAGE"
  exit 0
fi
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# --- packages: the kernel the linux-image-amd64 meta package points at, busybox, syslinux
apt-get download -q linux-image-amd64 busybox-static syslinux syslinux-common mtools \
  >/dev/null 2>download.log || { cat download.log >&2; echo "apt-get update first?" >&2; exit 1; }
KERNEL_PKG=$(dpkg-deb -f linux-image-amd64_*.deb Depends | sed 's/[ ,(].*//')
apt-get download -q "$KERNEL_PKG" >/dev/null 2>>download.log
for deb in ./*.deb; do dpkg-deb -x "$deb" root; done
export PATH="$WORK/root/usr/bin:$PATH"
MODULES=$(echo root/lib/modules/*)

# --- initramfs: busybox, two modules for the power button, /init
mkdir -p initrd/bin initrd/proc initrd/sys initrd/dev initrd/lib/modules
cp root/bin/busybox initrd/bin/busybox
cp "$MODULES/kernel/drivers/acpi/button.ko" "$MODULES/kernel/drivers/input/evdev.ko" \
  initrd/lib/modules/
cat > initrd/init <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /lib/modules/button.ko
insmod /lib/modules/evdev.ko
# The ACPI power button is an input device: its first event means "power off".
buttons=""
for tries in 1 2 3 4 5 6 7 8 9 10; do
  for event in /sys/class/input/event*; do
    [ "$(cat "$event/device/name" 2>/dev/null)" = "Power Button" ] \
      && [ -e "/dev/input/${event##*/}" ] && buttons="$buttons /dev/input/${event##*/}"
  done
  [ -n "$buttons" ] && break
  sleep 0.2
done
# Each button is opened here, before READY, so that a press which comes right after READY
# is queued for us; a background cat opening it later would miss it. Held read-write, the
# fifo never blocks its writers.
mkfifo /pressed
exec 3<>/pressed
fd=4
for button in $buttons; do
  eval "exec $fd<$button"
  eval "cat <&$fd >&3 &"
  fd=$((fd + 1))
done
echo "CLOUD-TEST-GUEST power button:${buttons:- none}" > /dev/ttyS0
echo "CLOUD-TEST-GUEST READY" > /dev/ttyS0
head -c 1 <&3 > /dev/null
echo "CLOUD-TEST-GUEST POWER BUTTON" > /dev/ttyS0
poweroff -f
INIT
chmod +x initrd/init
(cd initrd && find . | ../root/bin/busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -9) \
  > initrd.gz

# --- the disk: a FAT filesystem (no partition table) with SYSLINUX in its boot sector
cat > syslinux.cfg <<'CFG'
DEFAULT guest
PROMPT 0
TIMEOUT 0
LABEL guest
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 quiet loglevel=3 panic=0
CFG
truncate -s 32M disk.raw
mformat -i disk.raw -v CLOUDTEST -t 32 -h 64 -s 32 ::  # 32 MiB: 32 x 64 x 32 sectors
syslinux --install disk.raw
cp root/boot/vmlinuz-* vmlinuz
mcopy -i disk.raw vmlinuz initrd.gz syslinux.cfg ::/
qemu-img convert -q -c -f raw -O qcow2 disk.raw guest.qcow2

cd - >/dev/null
mv "$WORK/guest.qcow2" "$IMAGE.part"
sha512sum "$IMAGE.part" | cut -d' ' -f1 > "$IMAGE.sha512"
mv "$IMAGE.part" "$IMAGE"
echo "$IMAGE"
