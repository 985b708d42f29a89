import { validationFailed } from '../errors.js';

/** Deeper patches are refused; HTTP bodies are already bounded by the JSON parser (src/http/hostile-input.ts). */
export const MAX_PATCH_DEPTH = 32;

/** JSON Merge Patch (RFC 7396): objects merge recursively, null removes a member, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown, depth = 0): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  if (depth >= MAX_PATCH_DEPTH) {
    throw validationFailed([{ path: '/', message: `nests deeper than ${MAX_PATCH_DEPTH} levels`, in: 'body' }], 'The merge patch is nested too deeply.');
  }
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value, depth + 1);
  }
  return result;
}
