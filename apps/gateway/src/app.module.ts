import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ServiceKitModule } from '@yiyang/service-kit';
import { Authenticator } from './access/authenticator';
import { SignedInGuard } from './access/request-context';
import { AccountsService } from './accounts/accounts.service';
import { AuthController, MeController, UsersController } from './accounts/auth.controller';
import { RefreshToken, RefreshTokenSchema, Session, SessionSchema, User, UserSchema } from './accounts/user.schema';
import { UsersService } from './accounts/users.service';
import { AuditController } from './audit/audit.controller';
import { GatewayAuditEntry, GatewayAuditEntrySchema } from './audit/audit.schema';
import { AuditService } from './audit/audit.service';
import { RateLimits } from './http/rate-limit';
import { OpenApiService } from './openapi/openapi.service';
import { ProxyService } from './proxy/proxy.service';
import { FORWARDED_ROUTES } from './proxy/request-log';
import { Upstreams } from './proxy/upstreams';
import { SERVICE } from './service';

@Module({})
export class GatewayModule {
  /** `env` overrides the environment (tests point the gateway at services on random ports). */
  static forRoot(env?: Record<string, string>): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        // Forwarded routes log refused, failed and slow requests themselves (proxy/request-log.ts).
        ServiceKitModule.forRoot({ ...SERVICE, env, requestLogExclude: FORWARDED_ROUTES }),
        MongooseModule.forFeature([
          { name: User.name, schema: UserSchema },
          { name: Session.name, schema: SessionSchema },
          { name: RefreshToken.name, schema: RefreshTokenSchema },
          { name: GatewayAuditEntry.name, schema: GatewayAuditEntrySchema },
        ]),
      ],
      controllers: [AuthController, MeController, UsersController, AuditController],
      providers: [Authenticator, RateLimits, SignedInGuard, AccountsService, UsersService, AuditService, Upstreams, ProxyService, OpenApiService],
    };
  }
}

/** The module with the process environment (main.ts, the boot smoke test). */
@Module({ imports: [GatewayModule.forRoot()] })
export class AppModule {}
