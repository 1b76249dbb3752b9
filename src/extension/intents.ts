/**
 * What the panel's intents do, once checked by `parseFromWebview`: each becomes a request to the server. Answers and
 * verdicts carry the binding the engine issued; the server decides whether they count.
 */
import * as vscode from 'vscode';
import { AnswerPrompt, AuditTimeline, Configure, FollowUp, ListSessions, ReviewChangeset, StartTask, StopSession, isFailure } from '../protocol/lsp.js';
import type { FromWebview } from '../protocol/webview.js';
import { runAction, type Deputy } from './deputy.js';
import { decide } from './review/decide.js';
import { openChangesetDiff, openFileDiff, showConflict } from './review/diff-editor.js';
import { readAttachment } from './attachment.js';
import type { PanelProvider } from './panel.js';
import { readEnvironmentDefault, readSettings, update } from './settings.js';
import { choose } from './panel-choice.js';
import { panelSettings } from './panel-settings.js';

const AUDIT_COMMAND_IDS = { verify: 'deputy.verifyAudit', export: 'deputy.exportAudit', openFolder: 'deputy.openAuditFolder' } as const;

export async function handleIntent(deputy: Deputy, panel: PanelProvider, m: FromWebview): Promise<void> {
  switch (m.type) {
    case 'ready': {
      const newTask = panel.webviewLoaded();
      if (!newTask && m.restoreSessionId) deputy.state.select(m.restoreSessionId);
      panel.postSettings();
      panel.postServer();
      panel.postState();
      const list = await deputy.request(ListSessions.type, { attach: true });
      deputy.state.setSessions(list.sessions);
      await panel.replay();
      if (newTask) panel.post(newTask);
      return;
    }
    case 'newTask': {
      const offered = panelSettings();
      const endpoint = choose(m.endpoint, offered.endpoints, 'endpoint');
      const folderName = choose(m.folder, offered.folders, 'folder');
      if (!endpoint.ok || !folderName.ok) {
        panel.showError('internal', !endpoint.ok ? endpoint.message : !folderName.ok ? folderName.message : '');
        return;
      }
      const folder = folderName.value ? vscode.workspace.workspaceFolders?.find((f) => f.name === folderName.value) : undefined;
      const context = readAttachment(m.attachSelection, m.attachFile);
      if (endpoint.value && endpoint.value !== readSettings().endpoint) {
        await update('endpoint', endpoint.value);
        // Ordered on the pipe before the task, so the task goes where the person chose.
        await deputy.notify(Configure.type, readSettings());
      }
      const r = await deputy.request(StartTask.type, {
        prompt: m.prompt,
        ...(folder ? { folderUri: folder.uri.toString() } : {}),
        ...(m.model ? { model: m.model } : {}),
        ...(m.budgetUsd !== undefined ? { budgetUsd: m.budgetUsd } : {}),
        ...(m.budgetTokens !== undefined ? { budget: { unit: 'tokens' as const, amount: m.budgetTokens } } : {}),
        ...(context ? { context } : {}),
        ...((m.environment ?? readEnvironmentDefault()) ? { environment: true } : {}),
      });
      if (isFailure(r)) {
        panel.showError(r.failure.kind, r.failure.message, r.failure.action);
        return;
      }
      deputy.state.select(r.sessionId);
      await panel.replay();
      return;
    }
    case 'followUp': {
      const r = await deputy.request(FollowUp.type, { sessionId: m.sessionId, text: m.text });
      if (isFailure(r)) panel.showError(r.failure.kind, r.failure.message, r.failure.action);
      return;
    }
    case 'stop': {
      const r = await deputy.request(StopSession.type, { sessionId: m.sessionId });
      if (!r.stopped) panel.showError('internal', 'That session has no turn running.');
      return;
    }
    case 'answerPrompt': {
      const r = await deputy.request(AnswerPrompt.type, {
        sessionId: m.sessionId,
        binding: m.binding,
        decision: m.decision,
        ...(m.comment ? { comment: m.comment } : {}),
      });
      if (!r.accepted) panel.showError('internal', 'That question is no longer open (it was answered, timed out, or its session stopped).');
      return;
    }
    case 'reviewFile': {
      const r = await decide(deputy, m.sessionId, m.changesetId, [{ binding: m.binding, choice: m.verdict, ...(m.comment ? { comment: m.comment } : {}) }]);
      if (r.accepted.length === 0) panel.showError('internal', 'That file is no longer open for review.');
      return;
    }
    case 'reviewAll': {
      // Each file by name, so an approval keeps exactly the hunks the person kept and carries its line comments.
      const choice = m.verdict;
      const r = await decide(
        deputy,
        m.sessionId,
        m.changesetId,
        m.bindings.map((binding) => ({ binding, choice })),
        choice === 'requestChanges' && m.comment ? { comment: m.comment } : {},
      );
      if (choice !== 'requestChanges' && m.comment && r.accepted.length) {
        // "Approve all" / "Reject all" with words in the box: they were for the agent too.
        deputy.log.info('A comment given with Approve all / Reject all went with the changeset.');
      }
      if (r.accepted.length < m.bindings.length) panel.showError('internal', 'Some of those files are no longer open for review.');
      return;
    }
    case 'reviewChangeset': {
      const r = await deputy.request(ReviewChangeset.type, {
        sessionId: m.sessionId,
        changesetId: m.changesetId,
        files: m.files.map((f) => {
          const lineComments = f.lineComments ?? deputy.review.comments.of(f.binding);
          return { ...f, ...(lineComments.length ? { lineComments } : {}) };
        }),
        ...(m.rest ? { rest: m.rest } : {}),
        ...(m.comment ? { comment: m.comment } : {}),
      });
      for (const b of r.accepted) deputy.review.comments.clear(b);
      if (r.refused.length) panel.showError('internal', `Deputy did not take that: ${r.refused.map((x) => x.reason).join('; ')}`);
      return;
    }
    case 'revertTask':
      await vscode.commands.executeCommand('deputy.revertTask', m.sessionId);
      return;
    case 'openAllDiffs':
      await openChangesetDiff(deputy, m.sessionId, m.changesetId);
      return;
    case 'chooseHunk':
      if (deputy.state.isOpen(m.binding)) deputy.review.drafts.chooseHunk(m.binding, m.hunkId, m.keep);
      return;
    case 'markReviewed': {
      const found = deputy.state.fileOf(m.binding);
      if (found) deputy.review.drafts.markReviewed(m.sessionId, found.file, m.reviewed);
      return;
    }
    case 'showConflict':
      await showConflict(deputy, m.sessionId, m.changesetId, m.binding);
      return;
    case 'selectSession':
      deputy.state.select(m.sessionId);
      await panel.replay();
      return;
    case 'openDiff':
      await openFileDiff(deputy, m.sessionId, m.changesetId, m.binding);
      return;
    case 'switchEndpoint': {
      const endpoint = choose(m.endpoint, panelSettings().endpoints, 'endpoint');
      if (!endpoint.ok) panel.showError('internal', endpoint.message);
      else if (endpoint.value) await update('endpoint', endpoint.value);
      else await vscode.commands.executeCommand('deputy.selectEndpoint');
      panel.postSettings();
      return;
    }
    case 'switchModel': {
      const model = m.model ?? (await vscode.window.showInputBox({ prompt: 'The model the agent uses (deputy.model)', value: readSettings().model }));
      if (model) await update('model', model);
      panel.postSettings();
      return;
    }
    case 'runAction':
      await runAction(m.action, m.sessionId);
      return;
    case 'showAudit': {
      // Read and verified in the server: the extension host only relays.
      const r = await deputy.request(AuditTimeline.type, { sessionId: m.sessionId });
      if (isFailure(r)) panel.showError(r.failure.kind, r.failure.message, r.failure.action);
      else panel.post({ type: 'audit', ...r });
      return;
    }
    case 'auditCommand':
      await vscode.commands.executeCommand(AUDIT_COMMAND_IDS[m.command]);
      return;
  }
}
