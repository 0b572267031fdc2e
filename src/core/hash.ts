// SHA-256 of a string in one call. crypto.hash (Node ≥ 20.12, and every VS Code extension host
// since 1.90) skips the Hash object createHash() builds; the difference shows on the request path,
// which hashes a cache key for every request.
import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'hex' | 'base64url') => string;

const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

export function sha256(text: string, encoding: 'hex' | 'base64url' = 'base64url'): string {
  return oneShot ? oneShot('sha256', text, encoding) : crypto.createHash('sha256').update(text).digest(encoding);
}

/** A key's fingerprint for tests and diagnostics: one-way, short, never the key itself. */
export function keyFingerprint(key: string): string {
  return `fp:${sha256(`maof-key-fingerprint|${key}`, 'hex').slice(0, 16)}`;
}

/** SHA-256 of bytes (an image in a cache key). */
export function sha256Bytes(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('base64url');
}
