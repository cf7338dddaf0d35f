#!/usr/bin/env node
// `npx stint` in a clone: npm links this workspace's bin into node_modules/.bin, where npx looks
// first, so it runs the repository's own CLI (bin/stint.mjs) without installing anything.
await import('../../bin/stint.mjs');
