import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ApproverKeyFile } from '../../client/approver.js';
import { fail } from '../shared.js';

/** `stint keygen`: a key pair file (approver, agent or DPoP key); prints the public JWK. */
export function register(program: Command): void {
  program
    .command('keygen')
    .description('write a new key pair to a file (mode 0600) and print its public JWK')
    .requiredOption('--out <file>', 'where to write the key file (must not exist)')
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(['EdDSA', 'ES256']).default('EdDSA'))
    .action(async (o: { out: string; alg: 'EdDSA' | 'ES256' }) => {
      const { calculateJwkThumbprint, exportJWK, generateKeyPair } = await import('jose');
      const { privateKey, publicKey } = await generateKeyPair(o.alg, { extractable: true });
      const public_jwk = await exportJWK(publicKey);
      public_jwk.kid = await calculateJwkThumbprint(public_jwk);
      const file: ApproverKeyFile = { alg: o.alg, private_jwk: { ...(await exportJWK(privateKey)), kid: public_jwk.kid }, public_jwk };
      try {
        writeFileSync(o.out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        fail(`cannot write ${o.out}: ${(e as Error).message}`);
      }
      console.error(`wrote ${o.out} (private: keep it to yourself). Public key to register:`);
      console.log(JSON.stringify(public_jwk));
    });
}
