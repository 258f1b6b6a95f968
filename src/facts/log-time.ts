// When a log line was written, by its own timestamp (traditional syslog, RFC 3339, the journal's), and how a time is shown.

/** The host's clock when the facts were read: epoch seconds, and its UTC offset then (`date +%s`, `date +%z`). */
export interface HostClock {
  now: number;
  offsetMinutes: number;
}

/** A time known to a resolution: it lies in [at, at + within), epoch seconds. */
export interface Moment {
  at: number;
  within: number;
}

/** How far past the host's clock a traditional time may lie and still be this year's (a clock stepped back, say). */
const FUTURE_SLACK_S = 24 * 3600;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TRADITIONAL = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)$/;
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)$/;

/** The host's clock from `date +%s` and `date +%z`; undefined unless both are whole. */
export function hostClock(now: string | undefined, zone: string | undefined): HostClock | undefined {
  const offsetMinutes = zoneMinutes(zone ?? '');
  if (!/^\d+$/.test(now ?? '') || offsetMinutes === undefined) return undefined;
  return { now: Number(now), offsetMinutes };
}

/**
 * A syslog line's time: RFC 3339 (its own zone), or traditional (`Dec  8 04:16:30`: the host's local time, no year,
 * read with the host's offset now and the latest year that does not put it in the future). Undefined when the text is
 * no valid time, or a traditional one without the host's clock.
 */
export function syslogTime(stamp: string, clock: HostClock | undefined): Moment | undefined {
  const rfc = RFC3339.exec(stamp);
  if (rfc) {
    const [, y, mo, d, h, mi, s, fraction, zone] = rfc;
    const at = utcSeconds(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    const offset = zoneMinutes(zone!);
    if (at === undefined || offset === undefined) return undefined;
    return { at: at + Number(fraction ?? 0) - offset * 60, within: fraction ? 10 ** -(fraction.length - 1) : 1 };
  }
  const old = TRADITIONAL.exec(stamp);
  if (!old || !clock) return undefined;
  const [, month, d, h, mi, s] = old;
  const local = (year: number) => utcSeconds(year, MONTHS.indexOf(month!), Number(d), Number(h), Number(mi), Number(s));
  const thisYear = new Date((clock.now + clock.offsetMinutes * 60) * 1000).getUTCFullYear();
  for (const year of [thisYear, thisYear - 1]) {
    const at = local(year);
    if (at !== undefined && at - clock.offsetMinutes * 60 <= clock.now + FUTURE_SLACK_S) return { at: at - clock.offsetMinutes * 60, within: 1 };
  }
  return undefined;
}

/** A journal record's __REALTIME_TIMESTAMP (microseconds, set by journald when it received the record). */
export function journalTime(micros: string | undefined): Moment | undefined {
  return /^\d{1,19}$/.test(micros ?? '') ? { at: Number(micros) / 1e6, within: 1e-6 } : undefined;
}

/** A time as the host's clock shows it, to the second, with the host's offset: `2026-12-08T04:16:30+01:00`. */
export function showTime(at: number, clock: HostClock | undefined): string {
  const offset = clock?.offsetMinutes ?? 0;
  const local = new Date((Math.floor(at) + offset * 60) * 1000).toISOString().slice(0, 19);
  const abs = Math.abs(offset);
  return `${local}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** `Z`, `+0100` or `-05:30` as minutes east of UTC. */
function zoneMinutes(zone: string): number | undefined {
  if (zone === 'Z') return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (!m || Number(m[3]) > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Epoch seconds of a calendar time read as UTC; undefined when a field is out of range (Feb 30, 24:00:00). */
function utcSeconds(year: number, month: number, day: number, hour: number, minute: number, second: number): number | undefined {
  const ms = Date.UTC(year, month, day, hour, minute, second);
  const back = new Date(ms);
  const same = month >= 0 && back.getUTCFullYear() === year && back.getUTCMonth() === month && back.getUTCDate() === day && back.getUTCHours() === hour && back.getUTCMinutes() === minute && back.getUTCSeconds() === second;
  return same ? ms / 1000 : undefined;
}
