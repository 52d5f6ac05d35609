#!/bin/busybox sh
# /init of the kernel-matrix initramfs (busybox-static): loads the virtio/9p/overlay modules listed in
# /modules/order, mounts the host's / read-only over 9p under a tmpfs overlay, mounts the kernel filesystems the
# helper needs, runs /cmd once inside that root, leaves its exit code in the shared results dir and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

say() { echo "kmatrix-init: $*" >/dev/console; }
finish() {
  sync
  say "powering off"
  poweroff -f
}

for m in $(cat /modules/order); do
  insmod "/modules/$m" || say "insmod $m failed"
done

mkdir -p /lower /upper /newroot
# cache=loose: the host tree is only read; msize: fewer round trips per read under TCG.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower || {
  say "cannot mount the host root over 9p"
  finish
}
mount -t tmpfs -o size=1g tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot || {
  say "overlay failed"
  finish
}

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm && mount -t devpts devpts $R/dev/pts && mount -t tmpfs tmpfs $R/dev/shm
# No tmpfs over /tmp: the overlay's upper layer already makes it writable, and a checkout under /tmp (where CI may
# clone) would be hidden from the check suite.
mount -t tmpfs tmpfs $R/run
# A pure cgroup2 tree (the helper reads cgroup paths and memory.max from it), bpffs, tracefs, debugfs.
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup
mount -t bpf bpf $R/sys/fs/bpf
mount -t tracefs tracefs $R/sys/kernel/tracing
mount -t debugfs debugfs $R/sys/kernel/debug
# The scratch disk (virtio-blk, ext4 made by the matrix on the host): the one real block device, for the checks of
# time blocked on I/O (9p and tmpfs never wait for a disk).
mkdir -p $R/scratch
mount -t ext4 /dev/vda $R/scratch || say "no scratch disk"
mkdir -p $R/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results $R/results || say "no results share"

cp /cmd $R/run/kmatrix-cmd
chroot $R /bin/sh /run/kmatrix-cmd
code=$?
echo "$code" >$R/results/exit-code
say "check suite exited with $code"
umount $R/results
umount $R/scratch
finish
