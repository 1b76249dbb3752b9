/**
 * The names the manifest (package.json `contributes`) and the code share, in one vscode-free module so a unit test
 * can hold package.json to them: the commands of the command table, the settings of settings.ts, the panel view
 * and the chat participant. DESIGN.md §9 pins most of them; scripts outside this repository rely on them.
 */
export const COMMAND_IDS = [
  'deputy.openPanel',
  'deputy.newTask',
  'deputy.stop',
  'deputy.stopAll',
  'deputy.showSessions',
  'deputy.selectEndpoint',
  'deputy.signIn',
  'deputy.signOut',
  'deputy.switchProfile',
  'deputy.copyIdentity',
  'deputy.identityMenu',
  'deputy.setApiKey',
  'deputy.setAuditSigningKey',
  'deputy.showLog',
  'deputy.verifyAudit',
  'deputy.exportAudit',
  'deputy.report',
  'deputy.reviewChanges',
  'deputy.restartServer',
  'deputy.openAuditFolder',
  'deputy.raiseBudget',
  // Run by the code lenses with their arguments (hidden from the Command Palette).
  'deputy.dispatchMarker',
  'deputy.dispatchMarkerWithOptions',
  'deputy.symbolAction',
] as const;
export type CommandId = (typeof COMMAND_IDS)[number];

/** The review's commands (src/extension/review/commands.ts); most are title, lens, tree or comment actions. */
export const REVIEW_COMMAND_IDS = [
  'deputy.openAllDiffs',
  'deputy.revertTask',
  'deputy.review.openDiff',
  'deputy.review.approveFile',
  'deputy.review.rejectFile',
  'deputy.review.requestChanges',
  'deputy.review.markReviewed',
  'deputy.review.keepHunk',
  'deputy.review.dropHunk',
  'deputy.review.addComment',
  'deputy.review.deleteComment',
  'deputy.review.approveAll',
  'deputy.review.rejectAll',
  'deputy.review.showConflict',
  'deputy.review.redo',
] as const;
export type ReviewCommandId = (typeof REVIEW_COMMAND_IDS)[number];

/**
 * Commands run only from what the extension's body draws (code lenses, the Changes view's items, comment threads,
 * the review's menus on `deputy-proposed:` documents, whose content only the body provides) and hidden from the
 * Command Palette elsewhere: the entry registers no stand-in for them at activation (main.ts), since nothing can run
 * them before the body registers them.
 */
export const BODY_ONLY_COMMAND_IDS: readonly (CommandId | ReviewCommandId)[] = [
  'deputy.dispatchMarker',
  'deputy.dispatchMarkerWithOptions',
  'deputy.symbolAction',
  'deputy.review.openDiff',
  'deputy.review.addComment',
  'deputy.review.deleteComment',
  'deputy.review.showConflict',
  'deputy.review.redo',
  'deputy.review.approveAll',
  'deputy.review.rejectAll',
  'deputy.review.approveFile',
  'deputy.review.rejectFile',
  'deputy.review.requestChanges',
  'deputy.review.markReviewed',
  'deputy.review.keepHunk',
  'deputy.review.dropHunk',
];

export const SETTING_IDS = [
  'deputy.endpoint',
  'deputy.model',
  'deputy.bedrock.region',
  'deputy.bedrock.profile',
  'deputy.signIn.flow',
  'deputy.embedded.modelBaseUrl',
  'deputy.embedded.modelApi',
  'deputy.embedded.modelApiKeyEnv',
  'deputy.runtime.tokenFile',
  'deputy.prompts.timeoutMinutes',
  'deputy.turns.maxSteps',
  'deputy.turns.maxPrompts',
  'deputy.budget.perTaskUsd',
  'deputy.budget.perTask',
  'deputy.budget.perDay',
  'deputy.budget.prices',
  'deputy.policy.orgFile',
  'deputy.environment.default',
  'deputy.environment.allowUnsandboxed',
  'deputy.codeLens.enabled',
  'deputy.codeLens.markers',
  'deputy.codeLens.symbolActions',
] as const;

export const PANEL_VIEW_ID = 'deputy.panel';
export const CHANGES_VIEW_ID = 'deputy.changes';
export const VIEW_CONTAINER_ID = 'deputy';
export const CHAT_PARTICIPANT_ID = 'deputy.agent';
/**
 * The scheme of the review's read-only documents (the manifest's `resourceScheme == deputy-proposed` menus). Here
 * for the entry (main.ts), which registers its content provider at activation without loading src/extension/review.
 */
export const PROPOSED_SCHEME = 'deputy-proposed';
