import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppError, CONFIG, type ApiConfig, type Principal } from '@quarry/core';
import {
  Authorize,
  CurrentPrincipal,
  LoginService,
  Public,
  SESSION_COOKIE,
  SessionsService,
  TenantsService,
  UsersService,
} from '@quarry/identity';
import type { Request, Response } from 'express';
import { ChangePasswordBody, LoginBody, SessionDto } from '../dto/identity.dto';

@ApiTags('auth')
@Controller('v1')
export class AuthController {
  constructor(
    private readonly login: LoginService,
    private readonly sessions: SessionsService,
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
    @Inject(CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Local sign-in. Sets an HttpOnly session cookie; the response carries the CSRF token for unsafe requests. */
  @Public()
  @Post('auth/login')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionDto })
  async signIn(@Body() body: LoginBody, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionDto> {
    const result = await this.login.login(body, { ip: req.ip, userAgent: req.get('user-agent') });
    res.cookie(SESSION_COOKIE, result.session.token, {
      httpOnly: true,
      secure: this.config.COOKIE_SECURE,
      sameSite: 'lax',
      path: '/',
      expires: result.session.expiresAt,
    });
    return {
      user: result.user,
      tenant: result.tenant,
      csrfToken: result.session.csrfToken,
      expiresAt: result.session.expiresAt.toISOString(),
    };
  }

  /** The signed-in user, their tenant and the session's CSRF token (to be sent as X-CSRF-Token). */
  @Authorize()
  @ApiCookieAuth()
  @Get('auth/session')
  @ApiOkResponse({ type: SessionDto })
  async session(@CurrentPrincipal() principal: Principal, @Req() req: Request): Promise<SessionDto> {
    if (principal.actor.type !== 'user') throw AppError.notFound('Session');
    const cookie: unknown = req.cookies?.[SESSION_COOKIE];
    if (typeof cookie !== 'string') throw AppError.notFound('Session');
    const session = await this.sessions.authenticate(cookie);
    return {
      user: await this.users.get(principal, principal.actor.id),
      tenant: await this.tenants.current(principal),
      csrfToken: session.csrfToken,
    };
  }

  @Authorize()
  @Post('auth/logout')
  @HttpCode(204)
  async signOut(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.revoke(principal);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: this.config.COOKIE_SECURE, sameSite: 'lax', path: '/' });
  }

  /** Changing your password signs out every other session of yours. */
  @Authorize()
  @Post('me/password')
  @HttpCode(204)
  async changePassword(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordBody): Promise<void> {
    await this.users.changeOwnPassword(principal, body.currentPassword, body.newPassword);
  }
}
