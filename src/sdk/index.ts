// `@stint/agent`: the agent SDK.
export { StintAgent, StintTask, StintAgentError, importAgentKey, generateAgentKey, type AgentKey, type AgentOptions, type Alg, type Capability, type CapabilityRequest, type TaskRequest } from './agent.js';
