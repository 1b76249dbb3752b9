/** Why a workspace operation was refused. The message is written for both the agent and the person reviewing. */
export type WorkspaceErrorCode =
  | 'outside_workspace'
  | 'git_dir'
  | 'deputy_dir'
  | 'invalid_path'
  | 'not_found'
  | 'not_a_file'
  | 'not_a_directory'
  | 'too_large'
  | 'binary'
  | 'invalid_range'
  | 'invalid_query';

/** A refusal from a workspace tool: the agent gets `message` as the tool error, so it says what to do instead. */
export class WorkspaceError extends Error {
  constructor(
    readonly code: WorkspaceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}
