// A probe as the result model's diagnosis.
import type { Diagnosis } from '../report/model.js';
import type { Probe } from './probe.js';

export function asDiagnosis(probe: Probe): Diagnosis {
  return { cause: probe.cause, detail: probe.detail };
}
