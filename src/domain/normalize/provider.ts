import { id } from './json-value.js';

/**
 * Provider names as gateways spell them → the record's short names (docs/record.md lists openai,
 * anthropic, azure, bedrock, vertex, ...). Unlisted names are kept, lower-cased; a note records
 * any mapping so the original spelling can be recovered.
 */
const PROVIDER_ALIASES: Record<string, string> = {
  vertex_ai: 'vertex',
  vertex_ai_beta: 'vertex',
  'gcp.vertex_ai': 'vertex',
  'google vertex': 'vertex',
  'gcp.gemini': 'gemini',
  'google ai studio': 'gemini',
  google: 'gemini',
  'aws.bedrock': 'bedrock',
  'amazon bedrock': 'bedrock',
  'azure.ai.openai': 'azure',
  'azure-openai': 'azure',
  azure_openai: 'azure',
  'azure.ai.inference': 'azure_ai',
  mistral_ai: 'mistral',
  'mistral-ai': 'mistral',
  x_ai: 'xai',
  'together-ai': 'together',
  together_ai: 'together',
  togetherai: 'together',
};

export function normalizeProvider(name: string | undefined, notes: string[]): string | undefined {
  const s = id(name);
  if (!s) return undefined;
  const key = s.toLowerCase();
  const mapped = PROVIDER_ALIASES[key] ?? key.replace(/\s+/g, '-');
  if (mapped !== s) notes.push(`provider "${s}" recorded as "${mapped}"`);
  return mapped;
}
