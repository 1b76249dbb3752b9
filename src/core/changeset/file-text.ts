/**
 * A text file as lines that each remember their own terminator, so an edit keeps CRLF files CRLF, mixed files
 * mixed, a missing final newline missing, and a byte-order mark in place.
 */

export type Eol = '' | '\n' | '\r\n';

export interface FileLine {
  /** The line without its terminator. */
  text: string;
  /** '' only for a last line without a final newline. */
  eol: Eol;
}

export interface FileText {
  bom: boolean;
  lines: FileLine[];
  /** The terminator new lines get: CRLF when most lines use it, else LF. */
  dominantEol: '\n' | '\r\n';
}

export function splitText(content: string): FileText {
  const bom = content.startsWith('\uFEFF');
  const body = bom ? content.slice(1) : content;
  const raw = body.split('\n');
  const lastUnterminated = raw.pop()!;
  const lines: FileLine[] = raw.map((l) => (l.endsWith('\r') ? { text: l.slice(0, -1), eol: '\r\n' } : { text: l, eol: '\n' }));
  if (lastUnterminated !== '') lines.push({ text: lastUnterminated, eol: '' });
  const crlf = lines.filter((l) => l.eol === '\r\n').length;
  const lf = lines.filter((l) => l.eol === '\n').length;
  return { bom, lines, dominantEol: crlf > lf ? '\r\n' : '\n' };
}

export function joinText(file: FileText): string {
  return (file.bom ? '\uFEFF' : '') + file.lines.map((l) => l.text + l.eol).join('');
}

/** Whether the file ends with a line terminator; an empty file counts as terminated (adding lines to it ends them). */
export function endsWithNewline(file: FileText): boolean {
  const last = file.lines[file.lines.length - 1];
  return last === undefined || last.eol !== '';
}
