import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';

/** argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane): ~30 ms here. */
const options = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher {
  private dummyHash?: Promise<string>;

  hash(password: string): Promise<string> {
    return argon2.hash(password, options);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the same time as a real check, so unknown accounts cannot be told apart by latency. */
  async verifyNothing(password: string): Promise<false> {
    this.dummyHash ??= argon2.hash('quarry-timing-equaliser', options);
    await argon2.verify(await this.dummyHash, password).catch(() => false);
    return false;
  }
}
