export * from '../../src/runtime/node/launch.js';
