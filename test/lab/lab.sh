#!/usr/bin/env bash
# Lab fleet plumbing: real hosts made of network, mount and UTS namespaces, each with its own sshd and a TCP console.
#
#   lab.sh net-up   SLOT                      bridge ffbrSLOT, 198.18.SLOT.1/24 and fd00:ff:SLOT::1/64
#   lab.sh net-down SLOT
#   lab.sh host-up  SLOT IDX NAME DIR CONSOLE_PORT OPERATOR_PUBKEY_FILE ROOT_PASSWORD_FILE
#   lab.sh host-down DIR
#   lab.sh host-sh  DIR   (a script on stdin runs inside the host, as root: the lab's own access)
#
# host-down and host-sh also serve hosts of the systemd kind (systemd.sh), by their host.env.
#
# Each host: its own netns (own iptables/nftables), private copy-on-write /etc /root /home /var/log
# (overlayfs) and a private /run, its own host keys, sshd started by /etc/init.d/ssh, and a `login`
# console on 127.0.0.1:CONSOLE_PORT (socat + nsenter).
set -euo pipefail

# shellcheck source=common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
[ "$(id -u)" = 0 ] || die "the lab fleet needs root (network and mount namespaces); run as root"

host_env() { # DIR -> sets NS, MNT, UTS
  [ -f "$1/host.env" ] || die "no lab host at $1"
  # shellcheck disable=SC1091
  . "$1/host.env"
}

in_host() { # DIR CMD... : run a command inside the host's namespaces
  local dir=$1; shift
  host_env "$dir"
  nsenter --net="/run/netns/$NS" --mount="$dir/mnt" --uts="$dir/uts" -- "$@"
}

net_up() {
  local slot=$1 br="ffbr$1"
  ip link show "$br" >/dev/null 2>&1 && return 0
  ip link add "$br" type bridge
  ip addr add "198.18.$slot.1/24" dev "$br"
  ip -6 addr add "fd00:ff:$slot::1/64" dev "$br" nodad
  ip link set "$br" up
}

net_down() {
  ip link del "ffbr$1" 2>/dev/null || true
}

host_up() {
  local slot=$1 idx=$2 name=$3 dir=$4 port=$5 pubkey=$6 pwfile=$7
  local ns="fflab$slot-$name" veth="ffv${slot}h$idx"
  local addr4="198.18.$slot.$((10 + idx))" addr6="fd00:ff:$slot::$((10 + idx))"
  mkdir -p "$dir"
  printf 'NS=%q\nADDR4=%q\nADDR6=%q\nVETH=%q\nNAME=%q\n' "$ns" "$addr4" "$addr6" "$veth" "$name" > "$dir/host.env"

  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "ffbr$slot" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr4/24" dev eth0
  ip -n "$ns" -6 addr add "$addr6/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "198.18.$slot.1"

  # The namespace files must live on a private mount so that they can be bound.
  local lab_root; lab_root=$(dirname "$dir")
  touch "$dir/mnt" "$dir/uts"
  for d in etc root home var/log; do mkdir -p "$dir/ov/$d/upper" "$dir/ov/$d/work"; done
  # /root and /home start from a fresh skeleton, not from this machine's own home directories.
  mkdir -p "$dir/ov/root/lower" "$dir/ov/home/lower"
  cp -a /etc/skel/. "$dir/ov/root/lower/"
  chmod 0700 "$dir/ov/root/lower" "$dir/ov/root/upper"
  unshare --mount="$dir/mnt" --uts="$dir/uts" --propagation private sh -eu -c '
    dir=$1; name=$2; lab_root=$3
    for d in etc root home var/log; do
      lower=/$d
      [ -d "$dir/ov/$d/lower" ] && lower=$dir/ov/$d/lower
      mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/ov/$d/upper,workdir=$dir/ov/$d/work" "/$d"
    done
    mount -t tmpfs -o mode=0755 tmpfs /run
    mkdir -p /run/lock /run/sshd
    # Forget the other hosts namespace bindings seen through the lab root: no reference cycles.
    umount -l "$lab_root" 2>/dev/null || true
    hostname "$name"
  ' sh "$dir" "$name" "$lab_root"

  in_host "$dir" sh -eu -c '
    name=$1; pubkey=$2; pw=$3
    echo "$name" > /etc/hostname
    printf "127.0.0.1 localhost\n127.0.1.1 %s\n" "$name" > /etc/hosts
    rm -f /etc/ssh/ssh_host_*
    ssh-keygen -q -A
    echo "SSHD_OPTS=\"-E /var/log/auth.log\"" > /etc/default/ssh
    : > /var/log/auth.log
    chmod 0640 /var/log/auth.log
    echo "root:$pw" | chpasswd
    id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy
    echo "deploy:$pw" | chpasswd
    for home in /root /home/deploy; do
      owner=$(stat -c %U "$home")
      mkdir -p "$home/.ssh"
      cp "$pubkey" "$home/.ssh/authorized_keys"
      chmod 0700 "$home/.ssh"; chmod 0600 "$home/.ssh/authorized_keys"
      chown -R "$owner:" "$home/.ssh"
    done
    /etc/init.d/ssh start >/dev/null
  ' sh "$name" "$pubkey" "$(cat "$pwfile")"

  local login_cmd="/usr/bin/nsenter --net=/run/netns/$ns --mount=$dir/mnt --uts=$dir/uts -- /bin/login"
  setsid socat -lf "$dir/console.log" \
    "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:$login_cmd,pty,setsid,ctty,stderr,sane" </dev/null >/dev/null 2>&1 &
  echo $! > "$dir/console.pid"
  wait_console "$name" "$port"
}

host_down() {
  local dir=$1
  [ -f "$dir/host.env" ] || return 0
  host_env "$dir"
  if [ -f "$dir/console.pid" ]; then
    pkill -P "$(cat "$dir/console.pid")" 2>/dev/null || true
    kill "$(cat "$dir/console.pid")" 2>/dev/null || true
  fi
  # Every process in the host's network namespace: sshd, its sessions, console logins.
  local pids; pids=$(ip netns pids "$NS" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    kill $pids 2>/dev/null || true
    for _ in $(seq 30); do
      pids=$(ip netns pids "$NS" 2>/dev/null || true)
      [ -z "$pids" ] && break
      sleep 0.1
    done
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  fi
  umount "$dir/mnt" 2>/dev/null || umount -l "$dir/mnt" 2>/dev/null || true
  umount "$dir/uts" 2>/dev/null || umount -l "$dir/uts" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$VETH" 2>/dev/null || true
  rm -rf "$dir"
}

cmd=${1:-}; shift || true
case "$cmd" in host-down|host-sh)
  if [ -f "${1:-}/host.env" ] && grep -q '^KIND=systemd$' "$1/host.env"; then exec "$(dirname "$0")/systemd.sh" "$cmd" "$@"; fi ;;
esac
case "$cmd" in
  net-up) net_up "$@" ;;
  net-down) net_down "$@" ;;
  host-up) host_up "$@" ;;
  host-down) host_down "$@" ;;
  host-sh) in_host "$1" sh -s ;;
  *) die "usage: lab.sh net-up|net-down|host-up|host-down|host-sh ..." ;;
esac
