import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AppError, parseInput, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { notFound } from '../shared/scope';
import { Vendor } from './vendor.schema';

export const VendorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'lower-case letters, digits and dashes, 2–40 characters');
const VendorInput = z.object({ vendorId: VendorIdSchema, name: z.string().trim().min(1).max(100) });
const VendorPatch = z.object({ active: z.boolean() });

export interface VendorView {
  vendorId: string;
  name: string;
  keyHint: string;
  keyIssuedAt: string;
  active: boolean;
}

const KEY_PREFIX = 'yyv';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function unauthorised(): AppError {
  return new AppError('MONITORING.VENDOR_KEY_INVALID', 401, 'Missing or invalid vendor API key (header x-api-key)', {
    messageZh: '厂商接入密钥缺失或无效（请求头 x-api-key）',
  });
}

/**
 * Vendor platforms authenticate each delivery with `x-api-key: yyv.<vendorId>.<secret>`. The
 * vendor id in the key finds the record by `_id`; the secret is compared by hash in constant time.
 * Verified vendors are cached for a short while so a busy ingestion path does not read per batch.
 */
@Injectable()
export class VendorsService {
  private readonly cache = new Map<string, { keyHash: string; active: boolean; until: number }>();

  constructor(@InjectModel(Vendor.name) private readonly vendors: Model<Vendor>) {}

  async create(principal: Principal, body: unknown): Promise<VendorView & { apiKey: string }> {
    const input = parseInput(VendorInput, body);
    const { apiKey, keyHash, keyHint } = this.newKey(input.vendorId);
    try {
      const now = new Date();
      await this.vendors.create({ _id: input.vendorId, name: input.name, keyHash, keyHint, keyIssuedAt: now, active: true, createdBy: principal.userId, createdAt: now });
    } catch (error) {
      if ((error as { code?: number }).code === 11000) {
        throw new AppError('MONITORING.VENDOR_EXISTS', 409, `vendorId: vendor ${input.vendorId} already exists`, { field: 'vendorId', messageZh: `厂商 ${input.vendorId} 已存在` });
      }
      throw error;
    }
    return { ...(await this.get(input.vendorId)), apiKey };
  }

  /** Issues a new key; the old one stops working at once (on every replica within the cache time). */
  async rotateKey(vendorId: string): Promise<VendorView & { apiKey: string }> {
    const { apiKey, keyHash, keyHint } = this.newKey(vendorId);
    const result = await this.vendors.updateOne({ _id: vendorId }, { $set: { keyHash, keyHint, keyIssuedAt: new Date() } });
    if (result.matchedCount === 0) throw notFound('MONITORING.VENDOR_NOT_FOUND', 'Vendor', '设备厂商');
    this.cache.delete(vendorId);
    return { ...(await this.get(vendorId)), apiKey };
  }

  async setActive(vendorId: string, body: unknown): Promise<VendorView> {
    const { active } = parseInput(VendorPatch, body);
    const result = await this.vendors.updateOne({ _id: vendorId }, { $set: { active } });
    if (result.matchedCount === 0) throw notFound('MONITORING.VENDOR_NOT_FOUND', 'Vendor', '设备厂商');
    this.cache.delete(vendorId);
    return this.get(vendorId);
  }

  async list(): Promise<VendorView[]> {
    return (await this.vendors.find().sort({ _id: 1 }).lean()).map(toView);
  }

  async get(vendorId: string): Promise<VendorView> {
    const v = await this.vendors.findById(vendorId).lean();
    if (!v) throw notFound('MONITORING.VENDOR_NOT_FOUND', 'Vendor', '设备厂商');
    return toView(v);
  }

  async exists(vendorId: string): Promise<boolean> {
    return (await this.vendors.countDocuments({ _id: vendorId })) > 0;
  }

  /** Returns the vendor id the key belongs to, or throws 401. */
  async authenticate(header: string | string[] | undefined): Promise<string> {
    const key = Array.isArray(header) ? header[0] : header;
    const parts = key?.split('.');
    if (!parts || parts.length !== 3 || parts[0] !== KEY_PREFIX) throw unauthorised();
    const [, vendorId, secret] = parts;
    let entry = this.cache.get(vendorId);
    if (!entry || entry.until < Date.now()) {
      const v = await this.vendors.findById(vendorId, { keyHash: 1, active: 1 }).lean();
      if (!v) throw unauthorised();
      entry = { keyHash: v.keyHash, active: v.active, until: Date.now() + 30_000 };
      this.cache.set(vendorId, entry);
    }
    const given = Buffer.from(sha256(secret), 'hex');
    const stored = Buffer.from(entry.keyHash, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) throw unauthorised();
    if (!entry.active) {
      throw new AppError('MONITORING.VENDOR_DISABLED', 403, `Vendor ${vendorId} is disabled`, { messageZh: `厂商 ${vendorId} 已停用` });
    }
    return vendorId;
  }

  private newKey(vendorId: string) {
    const secret = randomBytes(32).toString('base64url');
    const apiKey = `${KEY_PREFIX}.${vendorId}.${secret}`;
    return { apiKey, keyHash: sha256(secret), keyHint: apiKey.slice(0, KEY_PREFIX.length + vendorId.length + 6) };
  }
}

function toView(v: Vendor): VendorView {
  return { vendorId: v._id, name: v.name, keyHint: v.keyHint, keyIssuedAt: new Date(v.keyIssuedAt).toISOString(), active: v.active };
}
