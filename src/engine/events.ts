// Progress as an event stream: the engine reports phases and finished hosts; reporters subscribe.
import type { HostResult } from '../report/model.js';

export type Phase = 'connecting' | 'checking' | 'applying' | 'handlers' | 'verifying' | 'settling';

export interface ProgressSink {
  start(total: number, label: string): void;
  phase(host: string, phase: Phase): void;
  done(result: HostResult): void;
  /** Resolves once the renderer has drawn its last frame. */
  end(): Promise<void> | void;
}
