import { Injectable } from '@nestjs/common';
import type { ChatModels, ChatModelSet } from '@quarry/chat';
import { AppError, ErrorCode, type TenantScope } from '@quarry/core';

/** Until generation providers are configured for this deployment, chat says so (503) instead of guessing. */
@Injectable()
export class UnconfiguredChatModels implements ChatModels {
  forTenant(_scope: TenantScope): Promise<ChatModelSet> {
    return Promise.reject(new AppError(503, ErrorCode.ModelUnavailable, 'No generation model is configured for this deployment'));
  }
}
