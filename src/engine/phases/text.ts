// How the engine quotes a host's answer in a message: its first lines, on one line.

export function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' | ');
}

/** Why a script failed, from its answer (or its absence). */
export function why(answer: { code: number; stdout: string; stderr: string } | undefined): string {
  if (!answer) return 'no answer';
  return firstLines(answer.stderr || answer.stdout) || `exit ${answer.code}`;
}
