/**
 * The one import of Cedar's WASM build. The `nodejs` build loads its `.wasm` beside its own JS, synchronously
 * (no native addon): bundles get `cedar_wasm_bg.wasm` copied beside them (scripts/build.mjs).
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export type {
  AuthorizationAnswer,
  DetailedError,
  EntityJson,
  Context as CedarContext,
} from '@cedar-policy/cedar-wasm/nodejs';
export { cedar };
