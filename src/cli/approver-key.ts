import { readFileSync } from 'node:fs';
import type { ApproverKeyFile } from '../client/approver.js';
import { fail } from './shared.js';

export function readKeyFile(file: string): ApproverKeyFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ApproverKeyFile;
  } catch (e) {
    return fail(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The approval service: --url, else the key file's, else $STINT_APPROVAL_URL, else the default. */
export const approvalUrl = (k: ApproverKeyFile, url?: string) => (url ?? k.url ?? process.env.STINT_APPROVAL_URL ?? 'http://127.0.0.1:8788').replace(/\/+$/, '');
