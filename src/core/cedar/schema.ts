/**
 * The Cedar schema of Deputy's requests: who asks (a `Person`), what for (one action per tool) and on what (a
 * `Path`, a `Command` or an MCP `Tool`), with the facts a policy may test in `context`. Policies are validated
 * against it (`deputy policy check`, the language server) so a misspelt attribute is an error in the editor,
 * not a rule that silently never matches.
 *
 * Every action takes the same context, so a policy over several actions validates without `has` checks; a fact
 * that does not apply to a tool is empty ("" or an empty set), never absent.
 */

export const NAMESPACE = 'Deputy';

/** The actions Deputy asks Cedar about, one per tool; `mcp:<server>/<tool>` actions are added per policy set. */
export const CEDAR_ACTIONS = [
  'workspace_read',
  'workspace_search',
  'workspace_list',
  'propose_changes',
  'run_command',
  'fs_write',
] as const;
export type CedarAction = (typeof CEDAR_ACTIONS)[number];

/** The group every `mcp:<server>/<tool>` action belongs to: `action in Deputy::Action::"mcp"`. */
export const MCP_GROUP = 'mcp';
const MCP_ACTION = /Action::"(mcp:[^"\\]+)"/g;

const CONTEXT = `{
    input: Input,
    session: Session,
  }`;

const BASE = `namespace ${NAMESPACE} {
  // The person the agent acts for: the IAM identity on AWS, else the local user.
  entity Person = {
    arn: String,
    account: String,
    user: String,
    onAws: Bool,
  } tags String;
  // A workspace-relative path; a path is "in" each of its folders ("." is the workspace).
  entity Path in [Path];
  // A command line as the agent sent it.
  entity Command;
  // An MCP server's tool, "<server>/<tool>".
  entity Tool;

  // One simple command of a command line (a pipeline stage, a side of && or ;, the inside of a subshell).
  // name: as the gate reads it (/usr/bin/git is "git", ./git stays "./git"): test it in a permit.
  // baseName: the last path segment (/tmp/x/sudo is "sudo"): test it in a forbid.
  type Segment = {
    name: String,
    baseName: String,
    words: String,
    args: Set<String>,
  };
  type Input = {
    args: String,
    path: String,
    pathSegments: Set<String>,
    fileName: String,
    extension: String,
    secretFile: Bool,
    outsideWorkspace: Bool,
    globs: Set<String>,
    globsIgnoreCase: Set<String>,
    query: String,
    operation: String,
    command: String,
    segment: Segment,
    segments: Set<String>,
    commandNames: Set<String>,
    redirects: Set<String>,
    constructs: Set<String>,
    subshell: Bool,
    envAssignments: Set<String>,
    network: Bool,
  };
  type Session = {
    taskId: String,
    budgetUsedCents: Long,
  };
`;

function action(name: string, resource: string, group?: string): string {
  const member = group ? ` in [${JSON.stringify(group)}]` : '';
  return `  action ${JSON.stringify(name)}${member} appliesTo { principal: [Person], resource: [${resource}], context: ${CONTEXT} };\n`;
}

/** The MCP actions a policy text names, so its schema declares them. */
export function mcpActionsIn(text: string): string[] {
  return [...new Set([...text.matchAll(MCP_ACTION)].map((m) => m[1]!))].sort();
}

/** The schema, in Cedar's schema syntax, declaring the standard actions plus `mcpActions`. */
export function deputySchema(mcpActions: readonly string[] = []): string {
  let text = BASE;
  for (const name of CEDAR_ACTIONS) text += action(name, name === 'run_command' ? 'Command' : 'Path');
  text += `  action ${JSON.stringify(MCP_GROUP)};\n`;
  for (const name of mcpActions) text += action(name, 'Tool', MCP_GROUP);
  return `${text}}\n`;
}
