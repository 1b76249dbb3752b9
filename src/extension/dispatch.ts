/**
 * Dispatching a task from the code (the code lenses' commands): a comment marker's text, or a function/class action,
 * becomes a task with the place it came from attached — the file, and the enclosing symbol's source as VS Code's own
 * symbol provider for the language sees it. "With options" asks for the endpoint, model, budget and where the agent
 * works (Deputy's client tools, or Deputy as its environment: a shadow workspace reviewed after each turn) first.
 */
import * as vscode from 'vscode';
import { Configure, StartTask, isFailure, type TaskLens } from '../protocol/lsp.js';
import type { Deputy } from './deputy.js';
import type { PanelProvider } from './panel.js';
import { panelSettings } from './panel-settings.js';
import { readEnvironmentDefault, readSettings, update } from './settings.js';
import { budgetInputError, formatAmount, parseBudget, type BudgetLimit } from '../core/budget.js';

/** Source of the enclosing symbol sent at most; a larger one is cut, and says so. */
const MAX_CONTEXT_CHARS = 20_000;
/** Lines around a marker sent when no symbol encloses it. */
const AROUND_LINES = 20;

export interface DispatchOptions {
  endpoint?: string;
  model?: string;
  budgetUsd?: number;
  /** A budget in dollars or tokens, typed by the person; wins over `budgetUsd`. */
  budget?: BudgetLimit;
  /** Deputy is the agent's environment for this task; absent: `deputy.environment.default`. */
  environment?: boolean;
}

/** The innermost symbol whose range holds `position`, with its kind's name ("function", "class"…). */
export async function enclosingSymbol(uri: vscode.Uri, position: vscode.Position): Promise<vscode.DocumentSymbol | undefined> {
  const symbols = await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined>('vscode.executeDocumentSymbolProvider', uri);
  let found: vscode.DocumentSymbol | undefined;
  const walk = (list: readonly vscode.DocumentSymbol[]) => {
    for (const s of list) {
      if (!s.range.contains(position)) continue;
      found = s;
      walk(s.children ?? []);
    }
  };
  // Some providers answer with flat SymbolInformation (no ranges of their own children): use their locations.
  walk((symbols ?? []).map((s) => ('children' in s ? s : new vscode.DocumentSymbol(s.name, s.containerName, s.kind, s.location.range, s.location.range))));
  return found;
}

export function symbolKindName(kind: vscode.SymbolKind): string {
  return (vscode.SymbolKind[kind] ?? 'symbol').toLowerCase();
}

export async function dispatchMarker(deputy: Deputy, panel: PanelProvider, args: TaskLens.DispatchArgs, withOptions: boolean): Promise<void> {
  const uri = vscode.Uri.parse(args.uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  // The lens was drawn for an earlier version of the file: dispatch only the marker that is still there.
  if (args.line >= doc.lineCount || !doc.lineAt(args.line).text.includes(args.marker)) {
    void vscode.window.showWarningMessage('That marker has moved or is gone: use the lens on the marker as it is now.');
    return;
  }
  const options = withOptions ? await askOptions() : {};
  if (!options) return;
  const rel = vscode.workspace.asRelativePath(uri);
  const symbol = await enclosingSymbol(uri, new vscode.Position(args.line, 0));
  const where = `${rel}:${args.line + 1}${symbol ? `, in the ${symbolKindName(symbol.kind)} \`${symbol.name}\`` : ''}`;
  const prompt = `${args.task}\n\n(From the ${args.marker} comment at ${where}.)`;
  const range = symbol?.range ?? new vscode.Range(Math.max(0, args.line - AROUND_LINES), 0, Math.min(doc.lineCount - 1, args.endLine + AROUND_LINES), Number.MAX_SAFE_INTEGER);
  await start(deputy, panel, uri, prompt, contextOf(doc, rel, range, symbol), options);
}

export async function dispatchSymbolAction(deputy: Deputy, panel: PanelProvider, args: SymbolActionArgs): Promise<void> {
  const uri = vscode.Uri.parse(args.uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  const rel = vscode.workspace.asRelativePath(uri);
  const symbol = await enclosingSymbol(uri, new vscode.Position(args.line, args.character));
  const name = symbol?.name ?? args.name;
  const kind = symbol ? symbolKindName(symbol.kind) : args.kind;
  const prompt = args.prompt.replaceAll('{symbol}', name).replaceAll('{kind}', kind).replaceAll('{file}', rel);
  const range = symbol?.range ?? doc.lineAt(Math.min(args.line, doc.lineCount - 1)).range;
  await start(deputy, panel, uri, prompt, contextOf(doc, rel, range, symbol), {});
}

/** What a symbol lens carries: where the symbol was when the lens was drawn, and the action's prompt template. */
export interface SymbolActionArgs {
  uri: string;
  line: number;
  character: number;
  name: string;
  kind: string;
  prompt: string;
}

function contextOf(doc: vscode.TextDocument, rel: string, range: vscode.Range, symbol: vscode.DocumentSymbol | undefined): { label: string; text: string } {
  const r = doc.validateRange(range);
  const text = doc.getText(r);
  const what = symbol ? `The ${symbolKindName(symbol.kind)} ${symbol.name} in ${rel}` : `${rel}`;
  return {
    label: `${what} (lines ${r.start.line + 1}-${r.end.line + 1})`,
    text: text.length <= MAX_CONTEXT_CHARS ? text : `${text.slice(0, MAX_CONTEXT_CHARS)}\n[… cut at ${MAX_CONTEXT_CHARS} characters]`,
  };
}

async function start(deputy: Deputy, panel: PanelProvider, uri: vscode.Uri, prompt: string, context: { label: string; text: string }, options: DispatchOptions): Promise<void> {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) {
    void vscode.window.showWarningMessage('That file is outside the workspace folders: Deputy works in a workspace folder.');
    return;
  }
  if (options.endpoint && options.endpoint !== readSettings().endpoint) {
    await update('endpoint', options.endpoint);
    // Ordered on the pipe before the task, so the task goes where the person chose.
    await deputy.notify(Configure.type, readSettings());
  }
  const r = await deputy.request(StartTask.type, {
    prompt,
    folderUri: folder.uri.toString(),
    context,
    ...(options.model ? { model: options.model } : {}),
    ...(options.budgetUsd !== undefined ? { budgetUsd: options.budgetUsd } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...((options.environment ?? readEnvironmentDefault()) ? { environment: true } : {}),
  });
  if (isFailure(r)) {
    await deputy.showFailure(r);
    return;
  }
  await panel.reveal();
  deputy.state.select(r.sessionId);
  await panel.replay();
}

/** Endpoint, model, budget and where the agent works, for one task; undefined when the person backs out. */
async function askOptions(): Promise<DispatchOptions | undefined> {
  const offered = panelSettings();
  const endpoint = await vscode.window.showQuickPick(
    offered.endpoints.map((e) => ({ label: e, description: e === offered.endpoint ? 'current' : '' })),
    { title: 'Dispatch with options (1/4): endpoint', placeHolder: `Endpoint (now: ${offered.endpoint})` },
  );
  if (!endpoint) return undefined;
  const model = await vscode.window.showInputBox({ title: 'Dispatch with options (2/4): model', prompt: 'The model the agent uses for this task', value: offered.model });
  if (model === undefined) return undefined;
  const current: BudgetLimit | undefined = offered.budget ?? (offered.budgetUsd !== undefined ? { unit: 'usd', amount: offered.budgetUsd } : undefined);
  const budgets: Array<{ label: string; value: BudgetLimit | undefined | 'other' }> = [
    { label: current ? `${formatAmount(current.unit, current.amount)} (deputy.budget.perTask)` : 'No limit (deputy.budget.perTask is empty)', value: current },
    ...[1, 5, 20].map((v) => ({ label: `$${v}`, value: { unit: 'usd' as const, amount: v } })),
    { label: 'Other amount (dollars or tokens)…', value: 'other' },
  ];
  const picked = await vscode.window.showQuickPick(budgets, { title: 'Dispatch with options (3/4): budget', placeHolder: 'Budget for this task' });
  if (!picked) return undefined;
  let budget = picked.value;
  if (budget === 'other') {
    const typed = await vscode.window.showInputBox({
      title: 'Budget for this task',
      prompt: 'US dollars (2usd, $2.50) or tokens (50000tokens), for a model without a known price',
      validateInput: budgetInputError,
    });
    if (typed === undefined) return undefined;
    budget = parseBudget(typed);
  }
  const byDefault = readEnvironmentDefault();
  const places = [
    { label: 'Deputy\'s tools', detail: 'The agent reads and proposes changes through Deputy (propose_changes); you review each proposal.', environment: false },
    { label: 'Deputy\'s environment', detail: 'The agent works in a shadow of the folder with the endpoint\'s own tools; you review its changes after each turn.', environment: true },
  ].map((p) => ({ ...p, description: p.environment === byDefault ? 'default (deputy.environment.default)' : '' }));
  if (byDefault) places.reverse();
  const place = await vscode.window.showQuickPick(places, { title: 'Dispatch with options (4/4): where the agent works', placeHolder: 'Where the agent works' });
  if (!place) return undefined;
  return {
    endpoint: endpoint.label,
    ...(model.trim() ? { model: model.trim() } : {}),
    ...(budget ? { budget } : {}),
    environment: place.environment,
  };
}
