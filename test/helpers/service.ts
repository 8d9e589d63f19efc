/**
 * Helpers of the service integration tests: registering organisations with a running
 * aggregator through its admin endpoint (the real HTTP path, no shortcut).
 */
import { expect } from 'vitest';

/** Registers each public key as an organisation; expects 201 for each, in order. */
export async function registerOrgs(url: string, adminToken: string, keys: ReadonlyArray<{ publicKey: Uint8Array }>): Promise<void> {
  for (const [i, k] of keys.entries()) {
    const res = await fetch(`${url}/v1/admin/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: `org ${i}`, publicKey: Buffer.from(k.publicKey).toString('hex') }),
    });
    expect(res.status, await res.text()).toBe(201);
  }
}
