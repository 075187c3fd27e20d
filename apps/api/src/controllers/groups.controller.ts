import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, GroupsService, Permission } from '@quarry/identity';
import { IdParam, PageQueryDto } from '../dto/common.dto';
import { CreateGroupBody, GroupDto, GroupPageDto, MemberParam, UpdateGroupBody, UserPageDto } from '../dto/identity.dto';

@ApiTags('groups')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Authorize(Permission.GroupsRead)
  @Get()
  @ApiOkResponse({ type: GroupPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.groups.list(principal, query);
  }

  @Authorize(Permission.GroupsManage)
  @Post()
  @ApiCreatedResponse({ type: GroupDto })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateGroupBody) {
    return this.groups.create(principal, body);
  }

  @Authorize(Permission.GroupsRead)
  @Get(':id')
  @ApiOkResponse({ type: GroupDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.groups.get(principal, params.id);
  }

  @Authorize(Permission.GroupsManage)
  @Patch(':id')
  @ApiOkResponse({ type: GroupDto })
  update(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: UpdateGroupBody) {
    return this.groups.update(principal, params.id, body);
  }

  @Authorize(Permission.GroupsManage)
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.groups.remove(principal, params.id);
  }

  @Authorize(Permission.GroupsRead, Permission.UsersRead)
  @Get(':id/members')
  @ApiOkResponse({ type: UserPageDto })
  members(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Query() query: PageQueryDto) {
    return this.groups.members(principal, params.id, query);
  }

  @Authorize(Permission.GroupsManage)
  @Put(':id/members/:userId')
  @HttpCode(204)
  async addMember(@CurrentPrincipal() principal: Principal, @Param() params: MemberParam): Promise<void> {
    await this.groups.addMember(principal, params.id, params.userId);
  }

  @Authorize(Permission.GroupsManage)
  @Delete(':id/members/:userId')
  @HttpCode(204)
  async removeMember(@CurrentPrincipal() principal: Principal, @Param() params: MemberParam): Promise<void> {
    await this.groups.removeMember(principal, params.id, params.userId);
  }
}
