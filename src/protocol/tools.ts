/**
 * Deputy's client tools: the function tools the engine declares on every session, on every endpoint.
 * The model sees these names and JSON schemas; the engine runs the calls on the developer's machine.
 * This file is the contract for both sides (DESIGN.md §1): change a shape here and in its doc together.
 */

export const TOOL_NAMES = ['workspace_list', 'workspace_read', 'workspace_search', 'propose_changes'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface WorkspaceListArgs {
  /** Folder relative to the workspace root, `/`-separated; the root when absent. */
  path?: string;
  /** Only entries whose relative path matches this glob (`*`, `**`, `?`). */
  glob?: string;
  /** How deep to descend below `path`; 1 lists only its direct entries. Default 2. */
  depth?: number;
}
export interface WorkspaceEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
}
export interface WorkspaceListResult {
  entries: WorkspaceEntry[];
  truncated: boolean;
  /** Present when the walk ended early (its budget, or a cancel): what was covered and what to narrow. */
  stopped?: WalkStop;
}
/** Why a walk (list, search) ended before covering everything; `message` is written for the agent. */
export interface WalkStop {
  reason: 'entries' | 'bytes' | 'time' | 'cancelled';
  /** Files and folders looked at before stopping. */
  visited: number;
  message: string;
}

export interface WorkspaceReadArgs {
  path: string;
  /** 1-based, inclusive. */
  start_line?: number;
  end_line?: number;
}
export interface WorkspaceReadResult {
  path: string;
  text: string;
  total_lines: number;
  /** SHA-256 (hex) of the whole file's bytes: the base a later change to this file must still match. */
  sha256: string;
}

export interface WorkspaceSearchArgs {
  query: string;
  regex?: boolean;
  glob?: string;
  max_results?: number;
}
export interface WorkspaceSearchMatch {
  path: string;
  line: number;
  text: string;
}
export interface WorkspaceSearchResult {
  matches: WorkspaceSearchMatch[];
  truncated: boolean;
  /** Files not searched because reading them needs the person's permission (e.g. `.env`); read them to ask. */
  withheld_files?: string[];
  /** Present when the walk ended early (its budget, or a cancel): what was covered and what to narrow. */
  stopped?: WalkStop;
}

export type ChangeOperation = 'create' | 'update' | 'delete';
export interface ProposedChange {
  /** Relative to the workspace root, `/`-separated. */
  path: string;
  operation: ChangeOperation;
  /** V4A (`apply_patch`) or unified diff for create/update (empty: an empty new file); empty for delete. */
  diff: string;
  rationale?: string;
}
export interface ProposeChangesArgs {
  summary: string;
  changes: ProposedChange[];
}
export type ChangeStatus = 'applied' | 'rejected' | 'conflict' | 'invalid';
export interface ChangeResult {
  path: string;
  status: ChangeStatus;
  reason?: string;
  comment?: string;
  /** The reviewer's comments on lines (1-based; `proposed`: your version, `current`: the file as it is). */
  line_comments?: { line: number; side: 'proposed' | 'current'; text: string }[];
  /** The reviewer kept only some hunks of your change: the hunks applied, as `@@` headers of your diff. */
  kept_hunks?: string[];
  /** The reviewer asked for a revision of this file (nothing was written): revise it and propose it again. */
  changes_requested?: boolean;
  /** The file in conflict, as it is now, sent because the reviewer asked you to redo your change on it. */
  current_content?: string;
  /** SHA-256 of `current_content`: propose against it. */
  current_sha256?: string;
}
export interface ProposeChangesResult {
  results: ChangeResult[];
  /** The reviewer's general comment on the whole change. */
  comment?: string;
}

/** A function tool as declared on a session (the Agents API `function` tool config). */
export interface FunctionToolDefinition {
  type: 'function';
  name: ToolName;
  description: string;
  parameters: Record<string, unknown>;
}

export const TOOL_DEFINITIONS: readonly FunctionToolDefinition[] = [
  {
    type: 'function',
    name: 'workspace_list',
    description: 'List files and folders in the workspace. Returns entries with type and size.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Folder relative to the workspace root; root when absent.' },
        glob: { type: 'string', description: 'Only paths matching this glob, e.g. "src/**/*.ts".' },
        depth: { type: 'integer', minimum: 1, maximum: 10, description: 'How deep to descend; default 2.' },
      },
      additionalProperties: false,
    },
  },
  {
    type: 'function',
    name: 'workspace_read',
    description:
      'Read a text file of the workspace. Returns the text (optionally a line range), the total line count and the SHA-256 of the whole file. Read a file before you propose changes to it.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        start_line: { type: 'integer', minimum: 1 },
        end_line: { type: 'integer', minimum: 1 },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  {
    type: 'function',
    name: 'workspace_search',
    description: 'Search the text of workspace files. Returns matches with path, line number and line text.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string' },
        regex: { type: 'boolean', description: 'Treat query as a regular expression (RE2 syntax: no backreferences or lookaround).' },
        glob: { type: 'string', description: 'Only files matching this glob.' },
        max_results: { type: 'integer', minimum: 1, maximum: 1000 },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
  {
    type: 'function',
    name: 'propose_changes',
    description:
      'Propose changes to workspace files. A person reviews each file and approves or rejects it; nothing is written otherwise. For create/update give a diff in the apply_patch (V4A) format or as a unified diff (an empty diff creates an empty file); for delete an empty diff. The result says per file: applied, rejected (with the reviewer\'s comment), conflict (the file changed since you read it) or invalid.',
    parameters: {
      type: 'object',
      properties: {
        summary: { type: 'string', description: 'One paragraph: what the change does and why.' },
        changes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: {
              path: { type: 'string', description: 'Relative to the workspace root, "/"-separated.' },
              operation: { type: 'string', enum: ['create', 'update', 'delete'] },
              diff: { type: 'string' },
              rationale: { type: 'string' },
            },
            required: ['path', 'operation', 'diff'],
            additionalProperties: false,
          },
        },
      },
      required: ['summary', 'changes'],
      additionalProperties: false,
    },
  },
];
