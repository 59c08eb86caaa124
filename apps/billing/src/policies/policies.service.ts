import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { regionWithin } from '@yiyang/geo';
import { isDuplicateKeyError } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { forbidden } from '../shared/scope';
import { IsoDateRegex } from '../shared/dates';
import { PolicyInputSchema, policyInForce, type Policy } from './domain/policy';

type PolicyListener = (policy: Policy, change: 'created' | 'withdrawn') => Promise<void>;

const WithdrawInput = z.object({ effectiveTo: z.string().regex(IsoDateRegex, 'must be a date yyyy-mm-dd') }).strict();

/**
 * Subsidy policies as data. A policy is identified by its code; every change is a new version
 * (`<code>@<n>`) with its own effective dates, and an earlier version is closed the day before a
 * newer one starts — so the rules in force on any past date stay reproducible for settlement.
 * The set is small (tens to hundreds of versions), so it is cached in memory and refreshed.
 */
@Injectable()
export class PoliciesService implements OnModuleInit {
  readonly policies: Collection<Policy>;
  private cache: { at: number; all: Policy[] } | null = null;
  private readonly listeners: PolicyListener[] = [];

  constructor(@InjectConnection() connection: Connection) {
    this.policies = connection.collection('policies') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.policies.createIndex({ code: 1, version: 1 }, { unique: true });
  }

  onPolicyChanged(listener: PolicyListener): void {
    this.listeners.push(listener);
  }

  async all(): Promise<Policy[]> {
    if (this.cache && Date.now() - this.cache.at < 2_000) return this.cache.all;
    const all = await this.policies.find({}).sort({ _id: 1 }).toArray();
    this.cache = { at: Date.now(), all };
    return all;
  }

  /** Every policy version in force on `date` (any kind). */
  async inForce(date: string): Promise<Policy[]> {
    return (await this.all()).filter((p) => policyInForce(p, date));
  }

  /** Creates a policy, or a new version of an existing code (the previous open version is closed the day before). */
  async create(principal: Principal, body: unknown): Promise<Policy> {
    const input = parseInput(PolicyInputSchema, body);
    this.assertScope(principal, input.regionCode);
    const versions = await this.policies.find({ code: input.code }).sort({ version: -1 }).toArray();
    const latest = versions[0];
    if (latest && latest.regionCode !== input.regionCode) {
      throw new AppError('BILLING.POLICY_REGION_FIXED', 422, 'A policy code keeps its region; create a new code for another region', {
        field: 'regionCode',
        messageZh: '政策编码的适用区域不可更改，请为其他区域新建政策',
      });
    }
    if (latest && input.effectiveFrom <= latest.effectiveFrom) {
      throw new AppError('BILLING.POLICY_VERSION_DATE', 422, `A new version must start after ${latest.effectiveFrom}`, {
        field: 'effectiveFrom',
        messageZh: `新版本的生效日期须晚于 ${latest.effectiveFrom}`,
      });
    }
    const version = (latest?.version ?? 0) + 1;
    const policy: Policy = { ...input, _id: `${input.code}@${version}`, version, status: 'ACTIVE', createdAt: new Date(), createdBy: principal.userId };
    try {
      await this.policies.insertOne(policy);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new AppError('BILLING.CONCURRENT_UPDATE', 409, 'Policy changed meanwhile; retry', { messageZh: '政策已被修改，请重试' });
      throw error;
    }
    if (latest && (latest.effectiveTo === null || latest.effectiveTo >= input.effectiveFrom)) {
      const dayBefore = new Date(Date.parse(`${input.effectiveFrom}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      await this.policies.updateOne({ _id: latest._id }, { $set: { effectiveTo: dayBefore } });
    }
    this.cache = null;
    for (const l of this.listeners) await l(policy, 'created');
    return policy;
  }

  /** Ends a policy on a date (inclusive). Charges for services on or before it are still paid. */
  async withdraw(principal: Principal, code: string, body: unknown): Promise<Policy> {
    const { effectiveTo } = parseInput(WithdrawInput, body);
    const latest = (await this.policies.find({ code }).sort({ version: -1 }).limit(1).toArray())[0];
    if (!latest) throw new AppError('BILLING.POLICY_NOT_FOUND', 404, 'Policy not found', { messageZh: '未找到该政策' });
    this.assertScope(principal, latest.regionCode);
    if (effectiveTo < latest.effectiveFrom) {
      throw new AppError('BILLING.POLICY_VERSION_DATE', 422, 'Cannot end before the version starts', { field: 'effectiveTo', messageZh: '结束日期不能早于生效日期' });
    }
    await this.policies.updateOne({ _id: latest._id }, { $set: { effectiveTo } });
    this.cache = null;
    const updated = { ...latest, effectiveTo };
    for (const l of this.listeners) await l(updated, 'withdrawn');
    return updated;
  }

  async list(principal: Principal, on?: string): Promise<Policy[]> {
    const visible = (await this.all()).filter((p) => this.visibleTo(principal, p));
    return on ? visible.filter((p) => policyInForce(p, on)) : visible;
  }

  async get(principal: Principal, code: string): Promise<Policy[]> {
    const versions = (await this.all()).filter((p) => p.code === code && this.visibleTo(principal, p));
    if (versions.length === 0) throw new AppError('BILLING.POLICY_NOT_FOUND', 404, 'Policy not found', { messageZh: '未找到该政策' });
    return versions.sort((a, b) => a.version - b.version);
  }

  /** Bureau staff see policies covering or inside their region; everyone else sees every policy (policies are public rules). */
  private visibleTo(principal: Principal, p: Policy): boolean {
    if (!REGION_ROLES.includes(principal.role) || !principal.regionCode) return true;
    return regionWithin(principal.regionCode, p.regionCode) || regionWithin(p.regionCode, principal.regionCode);
  }

  private assertScope(principal: Principal, regionCode: string): void {
    if (principal.role !== 'civil_affairs_admin' || !principal.regionCode || !regionWithin(regionCode, principal.regionCode)) throw forbidden();
  }
}
