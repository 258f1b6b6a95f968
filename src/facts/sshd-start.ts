// When the running sshd last loaded its configuration, as the kernel and sshd's own pidfile tell it: no log line can move it.

/**
 * Shell that prints the running listener (`listener=PID`), when it started by the kernel's count (`listener_started=`,
 * epoch seconds: /proc/PID/stat's start in clock ticks since boot, plus /proc/stat's btime) and, when sshd's pidfile
 * names it, when that was last written (`pidfile_written=`, its ctime): sshd writes it once it has loaded its
 * configuration, at start and again when it re-executes itself on SIGHUP (a reload), and only root can write /run.
 * The listener is systemd's MainPID of ssh.service or sshd.service, else the pidfile's PID; either counts only when
 * its /proc/PID/exe is the sshd binary and it runs as root (a stale pidfile's PID may be anyone's process now).
 */
export const SSHD_START_FACTS = `ff_lp=; ff_pf=; ff_pfpid=
if command -v systemctl >/dev/null 2>&1; then
  for ff_u in ssh.service sshd.service; do ff_p=$(systemctl show -P MainPID "$ff_u" 2>/dev/null); if [ -n "$ff_p" ] && [ "$ff_p" != 0 ]; then ff_lp=$ff_p; break; fi; done
fi
for ff_f in /run/sshd.pid /var/run/sshd.pid; do if [ -f "$ff_f" ]; then ff_pf=$ff_f; ff_pfpid=$(head -n 1 "$ff_f" 2>/dev/null); break; fi; done
[ -n "$ff_lp" ] || ff_lp=$ff_pfpid
case $ff_lp in '' | *[!0-9]*) ff_lp= ;; esac
ff_sshd_exe=$(readlink -f "$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)")
if [ -n "$ff_lp" ] && [ "$(readlink "/proc/$ff_lp/exe" 2>/dev/null)" = "$ff_sshd_exe" ] && [ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$ff_lp/status" 2>/dev/null)" = 0 ]; then
  echo "listener=$ff_lp"
  LC_ALL=C awk -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" '$1 == "btime" { boot = $2 } FNR != NR { sub(/^.*\\) /, ""); printf "listener_started=%.2f\\n", boot + $20 / hz }' /proc/stat "/proc/$ff_lp/stat"
  if [ "$ff_pfpid" = "$ff_lp" ]; then printf 'pidfile_written=%s\\n' "$(stat -c %Z "$ff_pf")"; fi
fi`;

/** What sshd logs while it loads its configuration (host keys, binds) comes before it writes its pidfile, by at most this. */
export const LOAD_S = 10;

/** The last change a line is judged against: what it was, when (shown), and from when a line counts as after it. */
export interface Reference {
  what: string;
  at: number;
  from: number;
}

/**
 * When the running sshd last loaded its configuration: its start, or a reload its pidfile shows after it (less what
 * it logged while loading). Undefined when no listener is known: then nothing ends the window.
 */
export function sshdStart(started: string | undefined, pidfileWritten: string | undefined): Reference | undefined {
  const seconds = (text: string | undefined) => (/^\d+(?:\.\d+)?$/.test(text ?? '') ? Number(text) : undefined);
  const start = seconds(started);
  const written = seconds(pidfileWritten);
  if (start === undefined) return undefined;
  if (written !== undefined && written - LOAD_S > start) return { what: 'sshd reloaded', at: written, from: written - LOAD_S };
  return { what: 'sshd started', at: start, from: start };
}
