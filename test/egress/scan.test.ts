import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanWorkspace } from '../../src/cli/commands/scan.js';

const RAILWAY = '3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d';
const GH = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2).slice(0, 36)}`;

describe('stint scan', () => {
  it('finds the workspace credentials by position and format, never printing a value, and names the custody entry each should become', () => {
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-'));
    mkdirSync(join(d, 'infra/railway'), { recursive: true });
    mkdirSync(join(d, 'node_modules/x'), { recursive: true });
    writeFileSync(join(d, 'infra/railway/project.json'), JSON.stringify({ apiToken: RAILWAY }));
    writeFileSync(join(d, '.env'), `RAILWAY_TOKEN=${RAILWAY}\nGH=${GH}\nVOLUME_ID=vol_123\n`);
    writeFileSync(join(d, 'node_modules/x/.env'), `TOKEN=${GH}\n`);
    const found = scanWorkspace(d, 'staging');
    expect(JSON.stringify(found)).not.toContain(RAILWAY);
    expect(JSON.stringify(found)).not.toContain(GH);
    expect(found.map((f) => `${f.file}:${f.line}`).sort()).toEqual(['.env:1', '.env:2', 'infra/railway/project.json:1']);
    expect(found.find((f) => f.file === '.env' && f.line === 2)!.suggestion).toMatch(/stint vault put github-staging --environment staging --host api\.github\.com/);
    expect(found.find((f) => f.file.startsWith('infra'))!.suggestion).toMatch(/--host backboard\.railway\.app/);
  });
});
