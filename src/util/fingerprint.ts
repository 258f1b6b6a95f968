// SSH key fingerprints as ssh-keygen -l prints them: SHA256:base64, unpadded.
import { createHash } from 'node:crypto';

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}
