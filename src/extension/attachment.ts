/** The editor context a person attaches to a task: the selection, or the whole active file, read on the extension side. */
import * as vscode from 'vscode';

/** Characters of attached text sent at most; a larger file is cut, and says so. */
const MAX_CHARS = 100_000;

export function readAttachment(selection: boolean, file: boolean): { label: string; text: string } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || (!selection && !file)) return undefined;
  const doc = editor.document;
  const name = vscode.workspace.asRelativePath(doc.uri);
  if (selection && !editor.selection.isEmpty) {
    const s = editor.selection;
    return { label: `Selected lines ${s.start.line + 1}-${s.end.line + 1} of ${name}`, text: cut(doc.getText(s)) };
  }
  if (file) return { label: `The file ${name}`, text: cut(doc.getText()) };
  return undefined;
}

function cut(text: string): string {
  return text.length <= MAX_CHARS ? text : `${text.slice(0, MAX_CHARS)}\n[… cut at ${MAX_CHARS} characters]`;
}
