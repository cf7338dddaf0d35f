// The approval service's app lives in ./approval/ (one module per route group); this is its entry.
export { createApprovalApp, type ApprovalDeps, type ApprovalEnv } from './approval/app.js';
