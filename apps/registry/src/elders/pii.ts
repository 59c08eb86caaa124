import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

const IV_BYTES = 12;
const IV_POOL_BYTES = 4_092; // 341 IVs

/**
 * Identifiers people are sensitive about (PIPL): stored encrypted (AES-256-GCM, fresh IV per value)
 * with a keyed hash beside them for exact lookup and uniqueness. A plain SHA-256 of an ID number
 * could be reversed by enumerating the ~10⁹ plausible numbers; an HMAC needs the key.
 */
@Injectable()
export class PiiVault {
  private readonly key: Buffer;
  private readonly hashKey: Buffer;

  constructor(config: ConfigService) {
    this.key = Buffer.from(config.getOrThrow<string>('REGISTRY_PII_KEY'), 'base64');
    this.hashKey = Buffer.from(config.getOrThrow<string>('REGISTRY_PII_HASH_KEY'), 'base64');
  }

  /** Random bytes fetched 4 KB at a time: one CSPRNG call per ~340 IVs instead of one per value. */
  private ivPool = Buffer.alloc(0);
  private ivOffset = 0;

  /** A fresh 96-bit IV: never-reused bytes from the CSPRNG (pooled only to save a call per value). */
  private nextIv(): Buffer {
    if (this.ivOffset + IV_BYTES > this.ivPool.length) {
      this.ivPool = randomBytes(IV_POOL_BYTES);
      this.ivOffset = 0;
    }
    const iv = this.ivPool.subarray(this.ivOffset, this.ivOffset + IV_BYTES);
    this.ivOffset += IV_BYTES;
    return iv;
  }

  /** `v1.<iv>.<tag>.<ciphertext>` — the prefix leaves room to rotate keys without guessing. */
  encrypt(plain: string): string {
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64')}.${cipher.getAuthTag().toString('base64')}.${data.toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1') throw new Error(`Unknown PII cipher version ${version}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }

  hash(normalised: string): string {
    return createHmac('sha256', this.hashKey).update(normalised).digest('base64url');
  }
}

export function maskIdCard(number: string): string {
  return `${number.slice(0, 6)}********${number.slice(-4)}`;
}

export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}

/** One spelling per number, so the same phone always hashes the same: digits only. */
export function normalisePhone(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

export const PHONE_PATTERN = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;
