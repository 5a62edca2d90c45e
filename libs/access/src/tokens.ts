import { createHmac, hash, randomBytes, timingSafeEqual } from 'crypto';

/** Claims of an access token. `sid` names the session, so revoking the session ends the token at once. */
export interface AccessClaims {
  sub: string;
  kind: 'USER' | 'CLIENT';
  sid: string;
  iat: number;
  exp: number;
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** A compact JWT signed with HMAC-SHA256. */
export function signAccessToken(claims: AccessClaims, secret: string): string {
  const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
  return `${body}.${b64(createHmac('sha256', secret).update(body).digest())}`;
}

/** Verifies signature, algorithm and expiry; returns null for anything not exactly right. */
export function verifyAccessToken(token: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): AccessClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return null;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as AccessClaims;
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return null;
    if ((claims.kind !== 'USER' && claims.kind !== 'CLIENT') || typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return null;
    return claims;
  } catch {
    return null;
  }
}

/** An opaque random secret (refresh tokens, client secrets). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 in hex, one shot (no Hash object). Refresh tokens are looked up by it (a fast hash suffices for 256-bit
 * random values), and the audit chain links rows with it.
 */
export function sha256(value: string): string {
  return hash('sha256', value, 'hex');
}
