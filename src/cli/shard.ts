// --shard I/N: a stable partition of the hosts by a hash of their names, so N controllers together cover the fleet once.
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/errors.js';

export interface Shard {
  /** 1-based, as in "--shard 2/4". */
  index: number;
  count: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index < 1 || shard.index > shard.count) throw new ConfigError(`--shard: expected I/N with 1 <= I <= N (such as 2/4), got "${value}"`);
  return shard;
}

/**
 * The shard (1..count) a host name falls in: the first 32 bits of its SHA-256, modulo count. It depends on the name
 * alone, not on the inventory's order or the other hosts, so every controller agrees without talking to the others.
 */
export function shardOf(name: string, count: number): number {
  return (createHash('sha256').update(name).digest().readUInt32BE(0) % count) + 1;
}

export function inShard<T extends { name: string }>(hosts: T[], shard: Shard | undefined): T[] {
  return shard ? hosts.filter((h) => shardOf(h.name, shard.count) === shard.index) : hosts;
}
