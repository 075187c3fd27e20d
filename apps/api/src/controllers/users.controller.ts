import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission, UsersService } from '@quarry/identity';
import { IdParam, PageQueryDto } from '../dto/common.dto';
import { CreateUserBody, UpdateUserBody, UserDto, UserPageDto } from '../dto/identity.dto';

@ApiTags('users')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Authorize(Permission.UsersRead)
  @Get()
  @ApiOkResponse({ type: UserPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.users.list(principal, query);
  }

  @Authorize(Permission.UsersManage)
  @Post()
  @ApiCreatedResponse({ type: UserDto })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateUserBody) {
    return this.users.create(principal, body);
  }

  @Authorize(Permission.UsersRead)
  @Get(':id')
  @ApiOkResponse({ type: UserDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.users.get(principal, params.id);
  }

  @Authorize(Permission.UsersManage)
  @Patch(':id')
  @ApiOkResponse({ type: UserDto })
  update(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: UpdateUserBody) {
    return this.users.update(principal, params.id, body);
  }

  @Authorize(Permission.UsersManage)
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.users.remove(principal, params.id);
  }
}
