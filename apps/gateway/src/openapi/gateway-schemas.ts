import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ROLES } from '@yiyang/service-kit';
import { z } from 'zod';
import { ChangePasswordInput, LoginInput, RefreshInput } from '../accounts/accounts.service';
import { CreateUserInput, ResetPasswordInput, UpdateUserInput } from '../accounts/users.service';
import { AuditActions } from '../audit/audit.service';

/** Request bodies are documented from the very zod schemas that validate them, so the two cannot drift. */
function fromZod(schema: z.ZodType): SchemaObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete json['$schema'];
  return json as SchemaObject;
}

export const LoginSchema = fromZod(LoginInput);
export const RefreshSchema = fromZod(RefreshInput);
export const ChangePasswordSchema = fromZod(ChangePasswordInput);
export const CreateUserSchema = fromZod(CreateUserInput);
export const UpdateUserSchema = fromZod(UpdateUserInput);
export const ResetPasswordSchema = fromZod(ResetPasswordInput);

const str = { type: 'string' } as const;
export const UserSchema: SchemaObject = {
  type: 'object',
  required: ['id', 'username', 'displayName', 'role', 'active', 'locked', 'createdAt', 'lastLoginAt'],
  properties: {
    id: str,
    username: str,
    displayName: str,
    role: { type: 'string', enum: [...ROLES] },
    regionCode: str,
    providerId: str,
    caregiverId: str,
    elderIds: { type: 'array', items: str },
    active: { type: 'boolean' },
    locked: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    lastLoginAt: { type: 'string', format: 'date-time', nullable: true },
  },
};

export const TokenResponseSchema: SchemaObject = {
  type: 'object',
  required: ['accessToken', 'refreshToken', 'tokenType', 'expiresIn', 'user'],
  properties: { accessToken: str, refreshToken: str, tokenType: { type: 'string', enum: ['Bearer'] }, expiresIn: { type: 'integer' }, user: UserSchema },
};

const page = (items: SchemaObject): SchemaObject => ({
  type: 'object',
  required: ['items', 'page', 'pageSize', 'total'],
  properties: { items: { type: 'array', items }, page: { type: 'integer' }, pageSize: { type: 'integer' }, total: { type: 'integer' } },
});

export const UserListSchema = page(UserSchema);

export const AuditListSchema = page({
  type: 'object',
  required: ['id', 'at', 'action', 'actionZh', 'actor', 'correlationId', 'ip'],
  properties: {
    id: str,
    at: { type: 'string', format: 'date-time' },
    action: { type: 'string', enum: Object.keys(AuditActions) },
    actionZh: str,
    actor: { type: 'object', properties: { userId: str, role: str } },
    method: { type: 'string', nullable: true },
    path: { type: 'string', nullable: true },
    status: { type: 'integer', nullable: true },
    correlationId: { type: 'string', nullable: true },
    ip: { type: 'string', nullable: true },
    userAgent: { type: 'string', nullable: true },
    details: { type: 'object', nullable: true },
  },
});

/** The one error shape every /api/v1 response uses. */
export const ErrorSchema: SchemaObject = {
  type: 'object',
  required: ['code', 'message', 'correlationId'],
  properties: {
    code: { type: 'string', example: 'REGISTRY.ELDER_NOT_FOUND' },
    message: { type: 'string', description: 'In the language chosen by Accept-Language (zh-CN default, en)' },
    field: { type: 'string' },
    details: { type: 'object' },
    correlationId: str,
  },
};
