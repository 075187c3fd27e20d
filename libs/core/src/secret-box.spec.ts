import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox, secretsKeySchema } from './secret-box';

const key = randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('round-trips, with a fresh IV every time, and never contains the plaintext', () => {
    const box = new SecretBox(key);
    const first = box.seal('sk-live-abcdef', 'tenant-1:gpt');
    const second = box.seal('sk-live-abcdef', 'tenant-1:gpt');
    assert.notEqual(first, second);
    assert.doesNotMatch(first, /sk-live/);
    assert.equal(box.open(first, 'tenant-1:gpt'), 'sk-live-abcdef');
  });

  it('refuses other associated data, another key and tampered bytes', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('secret', 'tenant-1:gpt');
    assert.throws(() => box.open(sealed, 'tenant-2:gpt'));
    assert.throws(() => new SecretBox(randomBytes(32).toString('base64')).open(sealed, 'tenant-1:gpt'));
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1]! ^= 1;
    assert.throws(() => box.open(`v1:${bytes.toString('base64')}`, 'tenant-1:gpt'));
  });

  it('accepts only a base64 32-byte key', () => {
    assert.equal(secretsKeySchema.safeParse(key).success, true);
    assert.equal(secretsKeySchema.safeParse(randomBytes(16).toString('base64')).success, false);
    assert.equal(secretsKeySchema.safeParse('not base64 at all!').success, false);
    assert.throws(() => new SecretBox(randomBytes(16).toString('base64')));
  });
});
