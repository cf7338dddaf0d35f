import type { Harness, HarnessAdapter } from '../event.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { cursor } from './cursor.js';
import { gemini } from './gemini.js';

export const ADAPTERS: Record<Harness, HarnessAdapter> = { 'claude-code': claudeCode, codex, cursor, gemini };
export const HARNESSES = Object.keys(ADAPTERS) as Harness[];
