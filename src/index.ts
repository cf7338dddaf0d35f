// stint: the broker and approval apps, their core, and the verifier for resource services.
export { createBrokerApp } from './http/broker-app.js';
export { createApprovalApp } from './http/approval-app.js';
export { createCore } from './core/create.js';
export { StintError, ERROR_STATUS, type ErrorCode } from './core/errors.js';
export { compilePolicy, PolicyError } from './policy/load.js';
export * from './verify/index.js';
