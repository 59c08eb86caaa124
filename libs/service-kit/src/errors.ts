import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/**
 * An error that crosses process boundaries: a stable code (`REGISTRY.ELDER_NOT_FOUND`), the HTTP
 * status, the offending field and a message in both languages people here read.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly options: { field?: string; messageZh?: string; details?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  messageZh?: string;
  field?: string;
  details?: Record<string, unknown>;
  correlationId?: string;
}

/** Parses untrusted input with a zod schema; the first problem becomes a 400 naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error);
}

export function validationError(error: z.ZodError): AppError {
  const issue = error.issues[0];
  const field = issue.path.join('.') || undefined;
  return new AppError('VALIDATION.INVALID_INPUT', HttpStatus.BAD_REQUEST, field ? `${field}: ${issue.message}` : issue.message, {
    field,
    messageZh: field ? `字段 ${field} 无效：${issue.message}` : `输入无效：${issue.message}`,
  });
}

/** Every error leaves the service in one shape; an unexpected one is logged and becomes a bare 500. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = String(request.id ?? '');
    const { status, body } = this.toBody(exception);
    if (status >= 500) this.log.error({ err: exception, correlationId }, 'unhandled error');
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send({ ...body, correlationId });
  }

  private toBody(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof AppError) {
      const { field, messageZh, details } = exception.options;
      return { status: exception.status, body: { code: exception.code, message: exception.message, messageZh, field, details } };
    }
    if (exception instanceof z.ZodError) return this.toBody(validationError(exception));
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? exception.message);
      return { status, body: { code: `HTTP.${status}`, message: Array.isArray(message) ? message.join('; ') : String(message) } };
    }
    const status = (exception as { statusCode?: number })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own rejections (malformed JSON, body too large, unsupported media type).
      return { status, body: { code: `HTTP.${status}`, message: (exception as Error).message } };
    }
    return { status: 500, body: { code: 'INTERNAL', message: 'Internal error', messageZh: '服务器内部错误' } };
  }
}
