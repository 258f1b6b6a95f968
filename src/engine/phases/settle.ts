// Settle: a host the run was told to stop on (Ctrl-C) before a fresh login proved it: its safety net fired at once
// (each change under it undone, newest first, and sshd restarted) and the lease given back, in one round trip. A fix
// that carries no undo cannot cut access, and is kept.
import { fireNowScript, parseFired } from '../safety-net.js';
import type { HostSession } from '../session.js';
import { endHold } from './confirm.js';
import { expectAnswers } from './gather.js';
import { why } from './text.js';

const STOPPED = 'interrupted (Ctrl-C) before a fresh login verified the host';

export async function settle(session: HostSession): Promise<void> {
  const net = session.net;
  const scripts = net ? [fireNowScript(net, STOPPED)] : [];
  const held = session.lease !== undefined;
  const [answer] = expectAnswers(await endHold(session, scripts), scripts.length + (held ? 1 : 0));
  session.host.status = 'failed';
  const kept = session.checks.filter((c) => c.fix === 'made' && !c.netSteps?.length).length;
  const keptNote = `${kept ? `; ${kept} fix${kept === 1 ? '' : 'es'} with no undo kept` : ''}${held ? '; the lease was given back' : ''}`;
  if (!net || !answer) {
    session.host.error = `${STOPPED}: no safety net was armed here${keptNote}`;
    return;
  }
  session.net = undefined;
  const underNet = session.checks.filter((c) => c.fix === 'made' && c.netSteps?.length);
  if (answer.code === 4) {
    for (const c of underNet) c.fix = 'undone';
    session.host.error = `${STOPPED}: ${why(answer)}${keptNote}`;
    return;
  }
  if (answer.code !== 0) {
    session.host.error = `${STOPPED}: firing its safety net failed (${why(answer)}), so its changes may stand: fleetfix status shows what is left${keptNote}`;
    return;
  }
  const fired = parseFired(answer.stdout);
  for (const c of underNet) {
    if (c.netSteps!.some((s) => fired.undoFailed.has(s))) c.fix = 'undo-failed';
    else if (c.netSteps!.every((s) => fired.undone.has(s))) c.fix = 'undone';
  }
  const failed = fired.undoFailed.size ? `, ${fired.undoFailed.size} not (see /var/log/fleetfix.log)` : '';
  session.host.error = `${STOPPED}: its safety net was fired at once: ${fired.undone.size} change${fired.undone.size === 1 ? '' : 's'} undone${failed}, ${fired.restarted ? 'sshd restarted' : 'sshd RESTART FAILED'}${keptNote}`;
}
