// Probes that may draw ICMP errors run together; the measurement of what refused a connection runs with none of them in flight.

let probes = 0;
let measurementsPending = 0;
let measurements: Promise<unknown> = Promise.resolve();
let wake: (() => void)[] = [];

const wakeAll = () => {
  const waiting = wake;
  wake = [];
  waiting.forEach((w) => w());
};
const changed = () => new Promise<void>((resolve) => wake.push(resolve));

/** Run a probe (a connect, a ping): beside other probes, never beside a measurement, which waits for it to end. */
export async function asProbe<T>(probe: () => Promise<T>): Promise<T> {
  while (measurementsPending > 0) await changed();
  probes++;
  try {
    return await probe();
  } finally {
    probes--;
    wakeAll();
  }
}

/**
 * Run `measure` alone among this process's probes: it waits until those in flight end, one measurement at a time, and
 * probes wait for it. An ICMP error one of them draws cannot be counted as the measured connection's.
 */
export function alone<T>(measure: () => Promise<T>): Promise<T> {
  measurementsPending++;
  const turn = measurements.then(async () => {
    while (probes > 0) await changed();
    try {
      return await measure();
    } finally {
      measurementsPending--;
      wakeAll();
    }
  });
  measurements = turn.catch(() => undefined);
  return turn;
}
