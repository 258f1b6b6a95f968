# Shell functions both kinds of lab host share (sourced by lab.sh and systemd.sh).

die() { echo "lab: $*" >&2; exit 1; }

# wait_console NAME PORT: bounded wait (50 x 0.1 s) for a host's console to listen on 127.0.0.1:PORT.
wait_console() {
  for _ in $(seq 50); do
    socat -u OPEN:/dev/null "TCP:127.0.0.1:$2" 2>/dev/null && return 0
    sleep 0.1
  done
  die "console of $1 did not listen on 127.0.0.1:$2"
}
