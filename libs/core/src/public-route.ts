import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'quarry:public';

/** Opens a route to everyone. Every route without it requires authentication (deny by default). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
