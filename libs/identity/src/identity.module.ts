import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { ApiKeysService } from './api-keys.service';
import { GroupsService } from './groups.service';
import { LoginService } from './login.service';
import { AuthGuard } from './nest/auth.guard';
import { PasswordHasher } from './passwords';
import { SessionsService } from './sessions.service';
import { TenantsService } from './tenants.service';
import { UsersService } from './users.service';

const services = [
  ApiKeysService,
  AuthGuard,
  GroupsService,
  LoginService,
  PasswordHasher,
  SessionsService,
  TenantsService,
  UsersService,
];

/** Tenants, users, groups, sessions and API keys. Needs DbModule, ClsModule and CONFIG (ApiConfig). */
@Module({ imports: [AuditModule], providers: services, exports: services })
export class IdentityModule {}
