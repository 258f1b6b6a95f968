#!/usr/bin/env bash
# The systemd lab hosts' read-only base: Debian 12 with systemd as PID 1, OpenSSH, iptables/nftables and their
# persistence, built with mmdebstrap from Debian's packages. This file is the recipe: its hash names the cached build.
#
#   systemd-base.sh DEST    build the base into DEST (which must not exist)
set -euo pipefail
dest=$1
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
mmdebstrap --variant=minbase --mode=root --components=main --quiet \
  --include=systemd,systemd-sysv,openssh-server,iptables,nftables,iproute2,procps,sudo,netfilter-persistent,iptables-persistent \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='rm -f "$1"/etc/machine-id && : > "$1"/etc/machine-id' \
  --customize-hook='chroot "$1" systemctl disable --quiet apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer e2scrub_reap.service' \
  --customize-hook='cat > "$1"/etc/systemd/system/lab-net.service <<UNIT
# Lab plumbing, not under test: the address the lab gave this host (/etc/lab-net.sh), before anything uses the network.
[Unit]
DefaultDependencies=no
Before=network-pre.target sysinit.target
Wants=network-pre.target
ConditionPathExists=/etc/lab-net.sh
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh /etc/lab-net.sh
[Install]
WantedBy=sysinit.target
UNIT
chroot "$1" systemctl enable --quiet lab-net.service' \
  bookworm "$dest" "$sources"
