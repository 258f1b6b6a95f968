// fleetfix --version: the version in package.json, which sits two directories up from src/cli and from dist/bundle alike.
import { readFileSync } from 'node:fs';

export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
