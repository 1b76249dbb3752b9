/**
 * The governance report as one self-contained HTML file: no script, no font, no image or style from the network
 * (a Content-Security-Policy in the page forbids them), readable on screen and printed. Every string from a trail
 * goes through the shared sanitiser (invisible and bidi characters shown as `<U+XXXX>`) and is HTML-escaped: the
 * agent's words are shown, never interpreted.
 */
import { visibleText } from '../core/visible-text.js';
import type { Report, SessionReport } from './model.js';

export function reportHtml(report: Report): string {
  const title = `Deputy report · ${report.generatedAt.slice(0, 10)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">Generated ${esc(report.generatedAt)}${report.since ? ` · sessions since ${esc(report.since)}` : ''} · ${report.sessions.length} session${report.sessions.length === 1 ? '' : 's'} from ${report.trails.length} audit trail${report.trails.length === 1 ? '' : 's'}</p>
</header>
<section aria-labelledby="trails"><h2 id="trails">Audit trails</h2>
${table(
  ['Repository', 'Trail', 'Records', 'Integrity', 'Signatures'],
  report.trails.map((t) => [
    t.workspace,
    t.file,
    String(t.records),
    { text: t.integrity, cls: t.ok ? 'ok' : 'bad' },
    { text: `${t.signature.state}: ${t.signature.detail}`, cls: t.signature.state === 'verified' ? 'ok' : t.signature.state === 'broken' ? 'bad' : '' },
  ]),
)}
${report.skipped.length === 0 ? '' : `<p>Left out (no audit trail): ${report.skipped.map((s) => esc(`${s.path} (${s.why})`)).join('; ')}</p>`}
</section>
<section aria-labelledby="overview"><h2 id="overview">Across sessions</h2>
<h3>Spend by person</h3>
${table(['Principal', 'Sessions', 'Tokens', 'Cost'], report.totals.spendByPerson.map((p) => [p.principal, String(p.sessions), tokens(p.tokens), usd(p.costUsd)]))}
<h3>Spend by endpoint</h3>
${table(['Endpoint', 'Sessions', 'Tokens', 'Cost'], report.totals.spendByEndpoint.map((e) => [e.endpoint, String(e.sessions), tokens(e.tokens), usd(e.costUsd)]))}
<h3>Denials by policy</h3>
${report.totals.denialsByRule.length === 0 ? '<p>No action was denied.</p>' : table(['Rule', 'Denials'], report.totals.denialsByRule.map((d) => [d.rule, String(d.count)]))}
<h3>Changes by repository</h3>
${table(['Repository', 'Applied', 'Rejected', 'Conflicts'], report.totals.changesByRepository.map((c) => [c.repository, String(c.applied), String(c.rejected), String(c.conflicts)]))}
</section>
<section aria-labelledby="sessions"><h2 id="sessions">Sessions</h2>
${report.sessions.length === 0 ? '<p>No session in this period.</p>' : report.sessions.map(sessionHtml).join('\n')}
</section>
</body>
</html>
`;
}

function sessionHtml(s: SessionReport): string {
  const facts: Array<[string, string]> = [
    ['Asked by', `${s.principal}${s.account ? ` (account ${s.account})` : ''}`],
    ['Task', s.request ?? '—'],
    ['Agent', [s.agent, s.model].filter(Boolean).join(' · ') || '—'],
    ['Endpoint', [s.provider, s.endpoint].filter(Boolean).join(' · ') || '—'],
    ['Repository', s.workspace],
    ['When', `${s.started}${s.ended ? ` → ${s.ended}` : ' → (still running when the trail ends)'}`],
    ['Cost', `${usd(s.costUsd)} · ${tokens(s.tokens)} tokens`],
  ];
  return `<article class="session status-${s.status}" aria-label="Session ${esc(s.id)}">
<h3>${esc(s.id)} <span class="badge">${esc(s.status)}</span></h3>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h4>What it could access</h4>
${s.decisions.length === 0 ? '<p>No tool was called.</p>' : table(['Decision', 'Rule', 'Calls'], s.decisions.map((d) => [{ text: d.decision, cls: d.decision }, d.rule, String(d.count)]))}
<h4>What it did</h4>
${s.tools.length === 0 ? '<p>No tool calls.</p>' : table(['Time', 'Tool', 'Call', 'Policy', 'Person', 'Result'], s.tools.map((t) => [t.time.slice(11, 19), t.tool, t.summary, t.decision ?? '—', t.answer ?? '—', t.outcome === 'failed' && t.error ? `failed: ${t.error}` : t.outcome]))}
<h4>Files changed</h4>
${s.changes.length === 0 ? '<p>No changes proposed.</p>' : table(['File', 'Outcome', 'Approved by', '+/−', 'Comment'], s.changes.map((c) => [c.path, { text: c.status, cls: c.status }, c.approver ?? '—', c.added !== undefined ? `+${c.added} −${c.removed ?? 0}` : '—', c.comment ?? '']))}
${s.pending.length > 0 ? `<h4>What it was trying to do when the trail ends</h4><ul>${s.pending.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : ''}
<h4>Cost over time</h4>
${costChart(s)}
${s.failures.length > 0 ? `<h4>Failures</h4><ul class="failures">${s.failures.map((f) => `<li><time>${esc(f.time)}</time> ${esc(f.message)}</li>`).join('')}</ul>` : ''}
${s.status === 'running' ? `<h4>How to stop it</h4><p>In VS Code: <em>Deputy: Stop All Sessions</em> (or Stop in the panel). In a terminal: <code>deputy stop --all</code> on the machine it runs on, or Ctrl-C in the <code>deputy run</code> that started it. At the endpoint: cancel session <code>${esc(s.id)}</code>. Pending permission prompts are denied when a session stops.</p>` : ''}
</article>`;
}

/** Cumulative cost (or tokens, when no price was known) against time, as an inline SVG. */
function costChart(s: SessionReport): string {
  if (s.usage.length === 0) return '<p>No usage was recorded.</p>';
  const byCost = s.costUsd > 0;
  const points = [{ time: s.started, value: 0 }, ...s.usage.map((u) => ({ time: u.time, value: byCost ? u.costUsd : u.tokens }))];
  const t0 = Date.parse(points[0]!.time);
  const t1 = Math.max(Date.parse(points[points.length - 1]!.time), t0 + 1);
  const max = Math.max(...points.map((p) => p.value), byCost ? 0.0001 : 1);
  const W = 480;
  const H = 120;
  const pad = 30;
  const x = (t: string) => pad + ((Date.parse(t) - t0) / (t1 - t0)) * (W - 2 * pad);
  const y = (v: number) => H - pad / 2 - (v / max) * (H - pad);
  const line = points.map((p) => `${x(p.time).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const label = byCost ? usd(max) : `${tokens(max)} tokens`;
  return `<figure><svg role="img" aria-label="${esc(`${byCost ? 'Cost' : 'Tokens'} over time, reaching ${label}`)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">
<line x1="${pad}" y1="${H - pad / 2}" x2="${W - pad}" y2="${H - pad / 2}" class="axis"/>
<line x1="${pad}" y1="${pad / 2}" x2="${pad}" y2="${H - pad / 2}" class="axis"/>
<polyline points="${line}" class="series"/>
<text x="${pad + 4}" y="${pad / 2 + 10}" class="label">${esc(label)}</text>
<text x="${W - pad}" y="${H - 2}" text-anchor="end" class="label">${esc(points[points.length - 1]!.time.slice(11, 19))}</text>
</svg><figcaption>${byCost ? 'Cumulative cost (USD)' : 'Cumulative tokens (no price known for this model)'}</figcaption></figure>`;
}

type Cell = string | { text: string; cls: string };

function table(headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return '<p>None.</p>';
  const cell = (c: Cell) => (typeof c === 'string' ? `<td>${esc(c)}</td>` : `<td class="${esc(c.cls)}">${esc(c.text)}</td>`);
  return `<table><thead><tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Text from a trail, safe in HTML text and attribute values, with invisible characters made visible. */
function esc(text: string): string {
  return visibleText(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function usd(value: number): string {
  return value === 0 ? '$0' : `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
}

function tokens(n: number): string {
  return n.toLocaleString('en-US');
}

const CSS = `
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #5c5c5c; --line: #d0d0d0; --ok: #1a7f37; --bad: #b42318; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #1e1e1e; --muted: #a0a0a0; --line: #444; --ok: #57c26f; --bad: #f0776b; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-top: 2rem; }
.meta, figcaption, time { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: color-mix(in srgb, var(--line) 35%, transparent); }
.ok, .applied, .allow { color: var(--ok); } .bad, .deny, .rejected, .conflict, .invalid { color: var(--bad); font-weight: 600; }
article.session { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 1rem; margin: 1rem 0; break-inside: avoid-page; }
.badge { font-size: 0.8rem; border: 1px solid currentColor; border-radius: 3px; padding: 0 0.3rem; margin-left: 0.4rem; }
.status-failed .badge, .status-cancelled .badge { color: var(--bad); } .status-completed .badge { color: var(--ok); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; } dt { color: var(--muted); } dd { margin: 0; white-space: pre-wrap; }
svg .axis { stroke: var(--muted); stroke-width: 1; } svg .series { fill: none; stroke: #2f6fdb; stroke-width: 2; } svg .label { fill: var(--muted); font-size: 11px; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } article.session { border-color: #999; } a { color: inherit; } }
`;
