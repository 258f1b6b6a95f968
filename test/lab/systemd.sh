#!/usr/bin/env bash
# Lab hosts of the systemd kind: systemd as PID 1 under systemd-nspawn, booted from a cached Debian base with a
# copy-on-write overlay per host, on the lab bridge, with its console (a real getty) on 127.0.0.1 over TCP.
#
#   systemd.sh base                       print the cached base's path, building it first when its recipe changed
#   systemd.sh host-up SLOT IDX NAME DIR CONSOLE_PORT OPERATOR_PUBKEY_FILE ROOT_PASSWORD_FILE service|socket BASE [journal|rsyslog]
#   systemd.sh host-down DIR
#   systemd.sh host-sh DIR                a script on stdin runs inside the host, as root: the lab's own access
#   systemd.sh reboot DIR                 `systemctl reboot` inside, then wait until the new boot is running
#   systemd.sh memory DIR                 the host's processes' proportional set size, KiB
#
# Each host is a cgroup of its own (systemd in a pure cgroup2 hierarchy), and a supervisor loop boots it again when
# it reboots (systemd-nspawn exits 133). `socket` hosts run sshd the Ubuntu way: ssh.socket (Ubuntu's unit) with
# a stand-in for Ubuntu's sshd-socket-generator (test/lab/ubuntu/), ssh.service disabled. `rsyslog` hosts also run
# Debian's rsyslog (installed into the host's overlay), which writes auth.log with its own times, as Debian 11 did.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BASE_CACHE=/var/tmp/fleetfix-systemd-base
RSYSLOG_CACHE=/var/tmp/fleetfix-rsyslog-debs
BOOT_TIMEOUT=120

# shellcheck source=common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
[ "$(id -u)" = 0 ] || die "the lab fleet needs root; run as root"

cgroup_root() {
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then echo /sys/fs/cgroup
  elif [ -d /sys/fs/cgroup/unified ] && [ "$(stat -fc %T /sys/fs/cgroup/unified)" = cgroup2fs ]; then echo /sys/fs/cgroup/unified
  else die "no cgroup2 hierarchy on this machine"; fi
}

host_env() { # DIR -> sets MACHINE CG ROOTFS NAME
  [ -f "$1/host.env" ] || die "no lab host at $1"
  # shellcheck disable=SC1091
  . "$1/host.env"
}

leader() { # the host's PID 1, as this machine numbers it
  local p
  for p in $(cat "$CG/payload/init.scope/cgroup.procs" 2>/dev/null); do
    awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$p/status" 2>/dev/null && { echo "$p"; return 0; }
  done
  return 1
}

in_host() { # DIR CMD...
  local dir=$1 pid; shift
  host_env "$dir"
  pid=$(leader) || die "$NAME is not running"
  nsenter --target "$pid" --mount --uts --ipc --net --pid --root --wd -- "$@"
}

wait_running() { # DIR [OLD_LEADER]: bounded wait for a (new) PID 1 whose boot has finished
  local dir=$1 old=${2:-} pid state
  host_env "$dir"
  for _ in $(seq $((BOOT_TIMEOUT * 10))); do
    if pid=$(leader) && [ "$pid" != "$old" ]; then
      state=$(timeout 60 nsenter --target "$pid" --mount --uts --ipc --net --pid --root --wd -- systemctl is-system-running --wait 2>/dev/null) || true
      [ "$state" = running ] && return 0
      if [ "$state" = degraded ]; then
        die "$NAME booted degraded: $(nsenter --target "$pid" --mount --pid --root --wd -- systemctl --failed --no-legend --plain | tr '\n' ' ')"
      fi
    fi
    sleep 0.1
  done
  die "$NAME did not finish booting within ${BOOT_TIMEOUT}s"
}

base() {
  local hash dest
  hash=$(cat "$HERE/systemd-base.sh" | sha256sum | cut -c1-16)
  dest=$BASE_CACHE/$hash
  mkdir -p "$BASE_CACHE"
  exec 9>"$BASE_CACHE/.lock"
  flock 9
  if [ ! -f "$dest/.complete" ]; then
    # An older recipe's build (or a half-built one) is of no further use, unless a running host still stands on it.
    for old in "$BASE_CACHE"/*/; do
      old=${old%/}
      [ -d "$old" ] && ! grep -qF "lowerdir=$old," /proc/self/mountinfo && rm -rf "$old"
    done
    echo "lab: building the systemd base (mmdebstrap, once per recipe) into $dest" >&2
    "$HERE/systemd-base.sh" "$dest.tmp" >&2
    mv "$dest.tmp" "$dest"
    touch "$dest/.complete"
  fi
  echo "$dest"
}

rsyslog_debs() { # print the directory of rsyslog's packages and those it needs beyond the base, downloaded once
  mkdir -p "$RSYSLOG_CACHE"
  exec 8>"$RSYSLOG_CACHE/.lock"
  flock 8
  if [ ! -f "$RSYSLOG_CACHE/.complete" ]; then
    (cd "$RSYSLOG_CACHE" && apt-get download -qq rsyslog libestr0 libfastjson4 liblognorm5 >/dev/null 2>&1) || die "apt-get download rsyslog failed"
    touch "$RSYSLOG_CACHE/.complete"
  fi
  exec 8>&-
  echo "$RSYSLOG_CACHE"
}

host_up() {
  local slot=$1 idx=$2 name=$3 dir=$4 port=$5 pubkey=$6 pwfile=$7 mode=$8 base=$9 log=${10:-journal}
  local machine="ffl${slot}h$idx" cg; cg=$(cgroup_root)/fleetfix-lab/$machine
  local addr4="198.18.$slot.$((10 + idx))" addr6="fd00:ff:$slot::$((10 + idx))" r=$dir/rootfs
  # Every host's systemd watches paths with inotify, all as this machine's root: the default of 128 instances runs out
  # at about a dozen hosts, and path units then fail (the host boots "degraded").
  [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -ge 8192 ] || sysctl -qw fs.inotify.max_user_instances=8192
  mkdir -p "$dir/ov" "$dir/ovwork" "$r"
  printf 'KIND=systemd\nMACHINE=%q\nCG=%q\nROOTFS=%q\nNAME=%q\n' "$machine" "$cg" "$r" "$name" > "$dir/host.env"
  # The overlay's upper directory is $dir/ov: every write the host makes lands there, as with the other kind.
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$dir/ov,workdir=$dir/ovwork" "$r"

  echo "$name" > "$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$name" > "$r/etc/hosts"
  printf 'ip link set lo up\nip addr add %s/24 dev host0\nip -6 addr add %s/64 dev host0 nodad\nip link set host0 up\nip route add default via 198.18.%s.1\n' \
    "$addr4" "$addr6" "$slot" > "$r/etc/lab-net.sh"
  ssh-keygen -q -A -f "$r"
  chroot "$r" sh -eu -c '
    pw=$1
    echo "root:$pw" | chpasswd
    useradd -m -s /bin/bash deploy
    echo "deploy:$pw" | chpasswd
  ' sh "$(cat "$pwfile")"
  for home in root home/deploy; do
    mkdir -p "$r/$home/.ssh"
    cp "$pubkey" "$r/$home/.ssh/authorized_keys"
    chmod 0700 "$r/$home/.ssh"; chmod 0600 "$r/$home/.ssh/authorized_keys"
    chroot "$r" chown -R "$(stat -c %u:%g "$r/$home")" "/$home/.ssh"
  done
  if [ "$mode" = socket ]; then
    install -m 0644 "$HERE/ubuntu/ssh.socket" "$r/lib/systemd/system/ssh.socket"
    install -m 0755 "$HERE/ubuntu/sshd-socket-generator" "$r/lib/systemd/system-generators/sshd-socket-generator"
    chroot "$r" systemctl disable --quiet ssh.service
    chroot "$r" systemctl enable --quiet ssh.socket
  fi
  if [ "$log" = rsyslog ]; then
    local debs; debs=$(rsyslog_debs)
    mkdir -p "$r/tmp/rsyslog-debs" && cp "$debs"/*.deb "$r/tmp/rsyslog-debs/"
    chroot "$r" sh -c 'dpkg -i /tmp/rsyslog-debs/*.deb >/dev/null && rm -rf /tmp/rsyslog-debs'
  fi

  mkdir -p "$cg"
  cat > "$dir/boot.sh" <<EOF
#!/bin/sh
# The host's supervisor: in the host's own cgroup, boot it again each time it reboots (nspawn exits 133).
echo \$\$ > '$cg/cgroup.procs'
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
while :; do
  systemd-nspawn --quiet --boot --directory='$r' --machine='$machine' --hostname='$name' --register=no --keep-unit \\
    --network-bridge='ffbr$slot' --resolv-conf=off --timezone=off --link-journal=no --console=interactive \\
    systemd.show_status=false
  rc=\$?
  [ "\$rc" = 133 ] || exit "\$rc"
done
EOF
  chmod +x "$dir/boot.sh"
  # The console: nspawn's own terminal is a pty that socat keeps at $dir/console across reboots; a second socat
  # serves it on 127.0.0.1:PORT. The getty behind it is the container's console-getty.service.
  setsid socat -lf "$dir/console.log" "PTY,link=$dir/console,rawer" "EXEC:$dir/boot.sh,pty,setsid,ctty,rawer" </dev/null >/dev/null 2>&1 &
  echo $! > "$dir/supervisor.pid"
  for _ in $(seq 50); do [ -e "$dir/console" ] && break; sleep 0.1; done
  setsid socat -lf "$dir/console.log" "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "FILE:$dir/console,rawer" </dev/null >/dev/null 2>&1 &
  echo $! > "$dir/console.pid"
  wait_running "$dir"
  wait_console "$name" "$port"
}

host_down() {
  local dir=$1
  [ -f "$dir/host.env" ] || return 0
  host_env "$dir"
  # The supervisor loop, nspawn and everything the host runs share the host's cgroup: one write ends them all.
  if [ -d "$CG" ]; then
    echo 1 > "$CG/cgroup.kill" 2>/dev/null || true
    for _ in $(seq 50); do grep -q 'populated 0' "$CG/cgroup.events" && break; sleep 0.1; done
    find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
  for f in console.pid supervisor.pid; do [ -f "$dir/$f" ] && kill "$(cat "$dir/$f")" 2>/dev/null || true; done
  umount "$ROOTFS" 2>/dev/null || umount -l "$ROOTFS" 2>/dev/null || true
  ip link del "vb-$MACHINE" 2>/dev/null || true
  rm -rf "$dir"
}

host_reboot() {
  local dir=$1 old
  host_env "$dir"
  old=$(leader) || die "$NAME is not running"
  in_host "$dir" systemctl reboot
  wait_running "$dir" "$old"
}

memory() {
  host_env "$1"
  find "$CG" -name cgroup.procs -exec cat {} + | while read -r p; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

cmd=${1:-}; shift || true
case "$cmd" in
  base) base ;;
  host-up) host_up "$@" ;;
  host-down) host_down "$@" ;;
  host-sh) in_host "$1" sh -s ;;
  reboot) host_reboot "$@" ;;
  memory) memory "$@" ;;
  *) die "usage: systemd.sh base|host-up|host-down|host-sh|reboot|memory ..." ;;
esac
