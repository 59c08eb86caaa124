import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Public, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { originOf, SignedInOnly } from '../access/request-context';
import { AccountsService } from './accounts.service';
import { UsersService } from './users.service';
import { LOGIN_RATE_LIMIT } from '../http/limits';
import { ChangePasswordSchema, CreateUserSchema, LoginSchema, RefreshSchema, ResetPasswordSchema, TokenResponseSchema, UpdateUserSchema, UserListSchema, UserSchema } from '../openapi/gateway-schemas';

@ApiTags('auth 登录认证')
@Controller('api/v1/auth')
@Public()
export class AuthController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('login')
  @HttpCode(200)
  @RouteConfig({ rateLimit: LOGIN_RATE_LIMIT })
  @ApiOperation({ summary: 'Sign in with username and password', operationId: 'gateway_login' })
  @ApiBody({ schema: LoginSchema })
  @ApiResponse({ status: 200, schema: TokenResponseSchema })
  login(@Body() body: unknown, @Req() req: FastifyRequest) {
    return this.accounts.login(body, originOf(req));
  }

  @Post('refresh')
  @HttpCode(200)
  @RouteConfig({ rateLimit: LOGIN_RATE_LIMIT })
  @ApiOperation({ summary: 'Exchange a refresh token for new tokens (rotation; reuse ends the session)', operationId: 'gateway_refresh' })
  @ApiBody({ schema: RefreshSchema })
  @ApiResponse({ status: 200, schema: TokenResponseSchema })
  refresh(@Body() body: unknown, @Req() req: FastifyRequest) {
    return this.accounts.refresh(body, originOf(req));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session the refresh token belongs to', operationId: 'gateway_logout' })
  @ApiBody({ schema: RefreshSchema })
  @ApiResponse({ status: 204 })
  async logout(@Body() body: unknown, @Req() req: FastifyRequest): Promise<void> {
    await this.accounts.logout(body, originOf(req));
  }
}

@ApiTags('auth 登录认证')
@Controller('api/v1/me')
export class MeController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @SignedInOnly()
  @ApiOperation({ summary: 'The signed-in user', operationId: 'gateway_me' })
  @ApiResponse({ status: 200, schema: UserSchema })
  me(@Req() req: FastifyRequest) {
    return this.accounts.me(req.signedIn!);
  }

  @Post('password')
  @HttpCode(204)
  @SignedInOnly()
  @ApiOperation({ summary: 'Change one\'s own password (ends one\'s other sessions)', operationId: 'gateway_changePassword' })
  @ApiBody({ schema: ChangePasswordSchema })
  @ApiResponse({ status: 204 })
  async changePassword(@Body() body: unknown, @Req() req: FastifyRequest): Promise<void> {
    await this.accounts.changePassword(req.signedIn!, body, originOf(req));
  }
}

@ApiTags('users 用户管理')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @SignedInOnly('civil_affairs_admin')
  @ApiOperation({ summary: 'Create a user bound to a role and scope inside your region', operationId: 'gateway_createUser' })
  @ApiBody({ schema: CreateUserSchema })
  @ApiResponse({ status: 201, schema: UserSchema })
  create(@CurrentPrincipal() admin: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.users.create(admin, body, originOf(req));
  }

  @Get()
  @SignedInOnly('civil_affairs_admin')
  @ApiOperation({ summary: 'Users inside your region', operationId: 'gateway_listUsers' })
  @ApiResponse({ status: 200, schema: UserListSchema })
  list(@CurrentPrincipal() admin: Principal, @Query() query: Record<string, string>) {
    return this.users.list(admin, query);
  }

  @Get(':id')
  @SignedInOnly('civil_affairs_admin')
  @ApiOperation({ summary: 'One user (404 outside your region)', operationId: 'gateway_getUser' })
  @ApiResponse({ status: 200, schema: UserSchema })
  get(@CurrentPrincipal() admin: Principal, @Param('id') id: string) {
    return this.users.get(admin, id);
  }

  @Patch(':id')
  @SignedInOnly('civil_affairs_admin')
  @ApiOperation({ summary: 'Rename, disable/enable, unlock, or relink a guardian', operationId: 'gateway_updateUser' })
  @ApiBody({ schema: UpdateUserSchema })
  @ApiResponse({ status: 200, schema: UserSchema })
  update(@CurrentPrincipal() admin: Principal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.users.update(admin, id, body, originOf(req));
  }

  @Post(':id/password')
  @HttpCode(204)
  @SignedInOnly('civil_affairs_admin')
  @ApiOperation({ summary: 'Set a new password (ends the user\'s sessions)', operationId: 'gateway_resetPassword' })
  @ApiBody({ schema: ResetPasswordSchema })
  @ApiResponse({ status: 204 })
  async resetPassword(@CurrentPrincipal() admin: Principal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest): Promise<void> {
    await this.users.resetPassword(admin, id, body, originOf(req));
  }
}
