// Warnings on stderr: input that works, written in a form to change (a removed --limit syntax, say).
import { escapeControls } from '../report/escape.js';

export function warn(message: string): void {
  process.stderr.write(`fleetfix: warning: ${escapeControls(message)}\n`);
}
