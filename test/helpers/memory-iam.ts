import { AwsError, type AwsApi } from '../../src/core/providers/aws/provider.js';

/**
 * IAM's inline role policies in memory, behind the AWS port: puts are recorded and kept, reads
 * see the last put. `failNext(n, status)` makes the next n puts fail; `hold()` keeps the next
 * put waiting (and failing or not) until released.
 */
export function memoryIam(seed: Record<string, Record<string, string>> = {}) {
  const roles = new Map<string, Map<string, string>>(Object.entries(seed).map(([r, p]) => [r, new Map(Object.entries(p))]));
  const puts: { roleName: string; policyName: string; policyDocument: string; credentials?: unknown }[] = [];
  const deleted: string[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 503 };
  let gate: { opened: Promise<void>; open: () => void; reached: Promise<void>; reach: () => void } | undefined;
  const api: AwsApi = {
    assumeRole: () => Promise.reject(new Error('unused')),
    async putRolePolicy(i) {
      const g = gate;
      gate = undefined;
      if (g) {
        g.reach();
        await g.opened;
      }
      if (failures.left > 0) {
        failures.left--;
        throw new AwsError('ServiceUnavailable', 'for the test', failures.status);
      }
      puts.push({ roleName: i.roleName, policyName: i.policyName, policyDocument: i.policyDocument, credentials: i.credentials });
      if (!roles.has(i.roleName)) roles.set(i.roleName, new Map());
      roles.get(i.roleName)!.set(i.policyName, i.policyDocument);
    },
    async getRolePolicy(i) {
      return roles.get(i.roleName)?.get(i.policyName);
    },
    async listRolePolicies(i) {
      return [...(roles.get(i.roleName)?.keys() ?? [])];
    },
    async deleteRolePolicy(i) {
      deleted.push(i.policyName);
      roles.get(i.roleName)?.delete(i.policyName);
    },
  };
  return {
    api,
    puts,
    deleted,
    policy: (role: string, name = 'stint-revocations') => roles.get(role)?.get(name),
    names: (role: string) => [...(roles.get(role)?.keys() ?? [])],
    failNext(n: number, status = 503) {
      failures = { left: n, status };
    },
    /** The next put waits at the gate: `reached` once it is there, `open()` lets it go on. */
    hold() {
      let open!: () => void;
      let reach!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      const reached = new Promise<void>((r) => (reach = r));
      gate = { opened, open, reached, reach };
      return { reached, open };
    },
  };
}
