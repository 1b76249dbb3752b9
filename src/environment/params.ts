/**
 * Checking a request's params against its shape before any handler uses them. A mismatch is -32602 with a message
 * in the spirit of the exec-server's own (`missing field \`path\``), so the harness and the model can tell what was
 * wrong.
 */
import { ExecErrorCodes } from '../protocol/exec-server.js';
import { ExecError } from './rpc.js';

export type Params = Record<string, unknown>;

function invalid(message: string): ExecError {
  return new ExecError(ExecErrorCodes.invalidParams, message);
}

export function object(params: unknown): Params {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw invalid('params must be an object');
  return params as Params;
}

export function str(p: Params, field: string): string {
  const v = p[field];
  if (v === undefined || v === null) throw invalid(`missing field \`${field}\``);
  if (typeof v !== 'string') throw invalid(`field \`${field}\` must be a string`);
  return v;
}

export function bool(p: Params, field: string): boolean {
  const v = p[field];
  if (v === undefined || v === null) throw invalid(`missing field \`${field}\``);
  if (typeof v !== 'boolean') throw invalid(`field \`${field}\` must be a boolean`);
  return v;
}

export function optBool(p: Params, field: string): boolean | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`field \`${field}\` must be a boolean`);
  return v;
}

export function optUint(p: Params, field: string): number | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`field \`${field}\` must be a non-negative integer`);
  return v;
}

export function strList(p: Params, field: string): string[] {
  const v = p[field];
  if (v === undefined || v === null) throw invalid(`missing field \`${field}\``);
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalid(`field \`${field}\` must be an array of strings`);
  return v as string[];
}

export function strMap(p: Params, field: string): Record<string, string> {
  const v = p[field];
  if (v === undefined || v === null) throw invalid(`missing field \`${field}\``);
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((s) => typeof s !== 'string')) {
    throw invalid(`field \`${field}\` must be an object of strings`);
  }
  return v as Record<string, string>;
}

/** Decodes strict base64 (the exec-server refuses anything else); `field` names it in the error. */
export function base64(p: Params, field: string): Buffer {
  const text = str(p, field);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw invalid(`field \`${field}\` is not valid base64`);
  return Buffer.from(text, 'base64');
}
