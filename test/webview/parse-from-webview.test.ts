// The extension trusts nothing the webview sends: every malformed message is refused, every well-formed one of
// every type is accepted (the control cases that prove the refusals are not blanket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FROM_WEBVIEW_TYPES, LIMITS, isParseError, parseFromWebview, type FromWebview } from '../../src/protocol/webview.js';

const B = 'a'.repeat(64);
const B2 = 'b'.repeat(64);

/** One valid message of every type (a table the compiler keeps complete). */
const VALID: { [T in FromWebview['type']]: Extract<FromWebview, { type: T }>[] } = {
  ready: [{ type: 'ready' }, { type: 'ready', restoreSessionId: 'sess_1' }],
  newTask: [
    { type: 'newTask', prompt: 'Add tests', attachSelection: false, attachFile: false },
    { type: 'newTask', prompt: 'x', endpoint: 'bedrock', model: 'gpt-5', budgetUsd: 2.5, folder: 'api', attachSelection: true, attachFile: true },
  ],
  followUp: [{ type: 'followUp', sessionId: 'sess_1', text: 'also the docs' }],
  stop: [{ type: 'stop', sessionId: 'sess_1' }],
  answerPrompt: [
    { type: 'answerPrompt', sessionId: 'sess_1', binding: B, decision: 'allowOnce' },
    { type: 'answerPrompt', sessionId: 'sess_1', binding: B, decision: 'deny', comment: 'not that file' },
  ],
  reviewFile: [{ type: 'reviewFile', sessionId: 's', changesetId: 'cs_1', binding: B, verdict: 'reject', comment: 'keep the old name' }],
  reviewAll: [
    { type: 'reviewAll', sessionId: 's', changesetId: 'cs_1', bindings: [B, B2], verdict: 'approve' },
    { type: 'reviewAll', sessionId: 's', changesetId: 'cs_1', bindings: [B], verdict: 'requestChanges', comment: 'smaller' },
  ],
  reviewChangeset: [
    { type: 'reviewChangeset', sessionId: 's', changesetId: 'cs_1', files: [{ binding: B, decision: 'approve' }] },
    {
      type: 'reviewChangeset',
      sessionId: 's',
      changesetId: 'cs_1',
      files: [
        { binding: B, decision: 'keepHunks', hunkIds: ['0123456789abcdef'] },
        { binding: B2, decision: 'requestChanges', comment: 'rename it', lineComments: [{ line: 3, side: 'proposed', text: 'not here' }] },
      ],
      rest: 'reject',
      comment: 'smaller please',
    },
    { type: 'reviewChangeset', sessionId: 's', changesetId: 'cs_1', files: [], rest: 'approve' },
  ],
  revertTask: [{ type: 'revertTask', sessionId: 'sess_1' }],
  selectSession: [{ type: 'selectSession', sessionId: 'sess_1' }, { type: 'selectSession', sessionId: null }],
  openDiff: [{ type: 'openDiff', sessionId: 's', changesetId: 'cs_1', binding: B }],
  openAllDiffs: [{ type: 'openAllDiffs', sessionId: 's', changesetId: 'cs_1' }],
  chooseHunk: [
    { type: 'chooseHunk', sessionId: 's', changesetId: 'cs_1', binding: B, hunkId: '0123456789abcdef', keep: false },
    { type: 'chooseHunk', sessionId: 's', changesetId: 'cs_1', binding: B, hunkId: 'fedcba9876543210', keep: true },
  ],
  markReviewed: [{ type: 'markReviewed', sessionId: 's', changesetId: 'cs_1', binding: B, reviewed: true }],
  showConflict: [{ type: 'showConflict', sessionId: 's', changesetId: 'cs_1', binding: B }],
  switchEndpoint: [{ type: 'switchEndpoint' }, { type: 'switchEndpoint', endpoint: 'http://127.0.0.1:8739' }],
  switchModel: [{ type: 'switchModel' }, { type: 'switchModel', model: 'llama3.2' }],
  runAction: [
    { type: 'runAction', action: { kind: 'signIn' } },
    { type: 'runAction', action: { kind: 'signIn', profile: 'dev' }, sessionId: 's' },
    { type: 'runAction', action: { kind: 'openSetting', setting: 'deputy.embedded.modelBaseUrl' } },
    { type: 'runAction', action: { kind: 'raiseBudget' } },
    { type: 'runAction', action: { kind: 'retry' } },
  ],
  showAudit: [{ type: 'showAudit', sessionId: 'sess_1' }],
  auditCommand: [{ type: 'auditCommand', command: 'verify' }, { type: 'auditCommand', command: 'export' }, { type: 'auditCommand', command: 'openFolder' }],
};

test('a well-formed message of every type is accepted as is', () => {
  assert.deepEqual(Object.keys(VALID).sort(), [...FROM_WEBVIEW_TYPES].sort());
  for (const messages of Object.values(VALID)) {
    for (const message of messages) {
      const parsed = parseFromWebview(JSON.parse(JSON.stringify(message)));
      assert.ok(!isParseError(parsed), `${JSON.stringify(message)} refused: ${JSON.stringify(parsed)}`);
      assert.deepEqual(parsed, message);
    }
  }
});

const long = (n: number) => 'x'.repeat(n);
const MALFORMED: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a string', 'ready'],
  ['a number', 7],
  ['an array', [{ type: 'ready' }]],
  ['no type', {}],
  ['an audit command that is not one of the three', { type: 'auditCommand', command: 'deleteAudit' }],
  ['an audit timeline without a session', { type: 'showAudit' }],
  ['a type that is not a string', { type: 1 }],
  ['an unknown type', { type: 'approveEverything' }],
  ['a type inherited from Object.prototype', { type: 'toString' }],
  ['a type named __proto__', JSON.parse('{"type":"__proto__"}')],
  ['an extra field', { type: 'ready', extra: true }],
  ['an extra __proto__ field', JSON.parse('{"type":"ready","__proto__":{"x":1}}')],
  ['a class instance', new (class { type = 'ready'; })()],
  ['newTask without prompt', { type: 'newTask', attachSelection: false, attachFile: false }],
  ['newTask with an empty prompt', { type: 'newTask', prompt: '', attachSelection: false, attachFile: false }],
  ['newTask with a too long prompt', { type: 'newTask', prompt: long(LIMITS.promptChars + 1), attachSelection: false, attachFile: false }],
  ['newTask with a prompt that is not a string', { type: 'newTask', prompt: ['x'], attachSelection: false, attachFile: false }],
  ['newTask without attach flags', { type: 'newTask', prompt: 'x' }],
  ['chooseHunk with a hunk id that is not 16 hex digits', { type: 'chooseHunk', sessionId: 's', changesetId: 'c', binding: 'a'.repeat(64), hunkId: '../../etc', keep: true }],
  ['chooseHunk without keep', { type: 'chooseHunk', sessionId: 's', changesetId: 'c', binding: 'a'.repeat(64), hunkId: '0123456789abcdef' }],
  ['markReviewed with a string flag', { type: 'markReviewed', sessionId: 's', changesetId: 'c', binding: 'a'.repeat(64), reviewed: 'yes' }],
  ['showConflict with a short binding', { type: 'showConflict', sessionId: 's', changesetId: 'c', binding: 'abc' }],
  ['newTask with an attach flag as a string', { type: 'newTask', prompt: 'x', attachSelection: 'true', attachFile: false }],
  ['newTask with a negative budget', { type: 'newTask', prompt: 'x', budgetUsd: -1, attachSelection: false, attachFile: false }],
  ['newTask with a zero budget', { type: 'newTask', prompt: 'x', budgetUsd: 0, attachSelection: false, attachFile: false }],
  ['newTask with a NaN budget', { type: 'newTask', prompt: 'x', budgetUsd: Number.NaN, attachSelection: false, attachFile: false }],
  ['newTask with an infinite budget', { type: 'newTask', prompt: 'x', budgetUsd: Infinity, attachSelection: false, attachFile: false }],
  ['newTask with a huge budget', { type: 'newTask', prompt: 'x', budgetUsd: 1e9, attachSelection: false, attachFile: false }],
  ['newTask with a budget as a string', { type: 'newTask', prompt: 'x', budgetUsd: '5', attachSelection: false, attachFile: false }],
  ['newTask with an empty endpoint', { type: 'newTask', prompt: 'x', endpoint: '', attachSelection: false, attachFile: false }],
  ['newTask with a null model', { type: 'newTask', prompt: 'x', model: null, attachSelection: false, attachFile: false }],
  ['followUp without a session', { type: 'followUp', text: 'x' }],
  ['followUp with an empty text', { type: 'followUp', sessionId: 's', text: '' }],
  ['stop with an empty session id', { type: 'stop', sessionId: '' }],
  ['stop with a session id carrying a slash', { type: 'stop', sessionId: '../s' }],
  ['stop with a too long session id', { type: 'stop', sessionId: long(LIMITS.idChars + 1) }],
  ['stop with a null session', { type: 'stop', sessionId: null }],
  ['answerPrompt without a binding', { type: 'answerPrompt', sessionId: 's', decision: 'allowOnce' }],
  ['answerPrompt with a short binding', { type: 'answerPrompt', sessionId: 's', binding: 'abc', decision: 'allowOnce' }],
  ['answerPrompt with an upper-case binding', { type: 'answerPrompt', sessionId: 's', binding: 'A'.repeat(64), decision: 'allowOnce' }],
  ['answerPrompt with an unknown decision', { type: 'answerPrompt', sessionId: 's', binding: B, decision: 'allowForever' }],
  ['answerPrompt with decision true', { type: 'answerPrompt', sessionId: 's', binding: B, decision: true }],
  ['answerPrompt with a comment that is not a string', { type: 'answerPrompt', sessionId: 's', binding: B, decision: 'deny', comment: 5 }],
  ['answerPrompt with a too long comment', { type: 'answerPrompt', sessionId: 's', binding: B, decision: 'deny', comment: long(LIMITS.commentChars + 1) }],
  ['reviewFile without a changeset', { type: 'reviewFile', sessionId: 's', binding: B, verdict: 'approve' }],
  ['reviewFile with an unknown verdict', { type: 'reviewFile', sessionId: 's', changesetId: 'c', binding: B, verdict: 'maybe' }],
  ['reviewFile with requestChanges (only for all files)', { type: 'reviewFile', sessionId: 's', changesetId: 'c', binding: B, verdict: 'requestChanges' }],
  ['reviewAll with no bindings', { type: 'reviewAll', sessionId: 's', changesetId: 'c', bindings: [], verdict: 'approve' }],
  ['reviewAll with bindings not a list', { type: 'reviewAll', sessionId: 's', changesetId: 'c', bindings: B, verdict: 'approve' }],
  ['reviewAll with a bad binding in the list', { type: 'reviewAll', sessionId: 's', changesetId: 'c', bindings: [B, 'zz'], verdict: 'approve' }],
  ['reviewAll with a repeated binding', { type: 'reviewAll', sessionId: 's', changesetId: 'c', bindings: [B, B], verdict: 'approve' }],
  ['reviewChangeset deciding nothing', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [] }],
  ['reviewChangeset with a repeated file', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'approve' }, { binding: B, decision: 'reject' }] }],
  ['reviewChangeset with an unknown decision', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'overwrite' }] }],
  ['reviewChangeset keeping hunks without naming them', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'keepHunks' }] }],
  ['reviewChangeset naming hunks on an approve', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'approve', hunkIds: [] }] }],
  ['reviewChangeset with a malformed hunk id', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'keepHunks', hunkIds: ['xyz'] }] }],
  ['reviewChangeset with a line comment on line 0', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'reject', lineComments: [{ line: 0, side: 'proposed', text: 'x' }] }] }],
  ['reviewChangeset with an empty line comment', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [{ binding: B, decision: 'reject', lineComments: [{ line: 2, side: 'current', text: '' }] }] }],
  ['reviewChangeset with an unknown rest verdict', { type: 'reviewChangeset', sessionId: 's', changesetId: 'c', files: [], rest: 'keepHunks' }],
  ['revertTask without a session', { type: 'revertTask' }],
  ['reviewAll requesting changes without a comment', { type: 'reviewAll', sessionId: 's', changesetId: 'c', bindings: [B], verdict: 'requestChanges' }],
  ['reviewAll requesting changes with a blank comment', { type: 'reviewAll', sessionId: 's', changesetId: 'c', bindings: [B], verdict: 'requestChanges', comment: '  ' }],
  ['selectSession without a session field', { type: 'selectSession' }],
  ['selectSession with a number', { type: 'selectSession', sessionId: 3 }],
  ['ready restoring a session by a number', { type: 'ready', restoreSessionId: 3 }],
  ['openDiff without a binding', { type: 'openDiff', sessionId: 's', changesetId: 'c' }],
  ['switchEndpoint with a number', { type: 'switchEndpoint', endpoint: 8739 }],
  ['switchModel with a too long model', { type: 'switchModel', model: long(LIMITS.modelChars + 1) }],
  ['runAction without an action', { type: 'runAction' }],
  ['runAction with an unknown action', { type: 'runAction', action: { kind: 'runShell', command: 'rm -rf /' } }],
  ['runAction opening a setting outside deputy', { type: 'runAction', action: { kind: 'openSetting', setting: 'terminal.integrated.shell.linux' } }],
  ['runAction opening a setting without naming it', { type: 'runAction', action: { kind: 'openSetting' } }],
  ['runAction with a field of another action', { type: 'runAction', action: { kind: 'raiseBudget', setting: 'deputy.model' } }],
  ['runAction with an action that is a string', { type: 'runAction', action: 'signIn' }],
];

test('every malformed message is refused with the first thing wrong', () => {
  for (const [name, message] of MALFORMED) {
    const parsed = parseFromWebview(message);
    assert.ok(isParseError(parsed), `${name} was accepted: ${JSON.stringify(parsed)}`);
    assert.match(parsed.error, /^message/, name);
  }
});

test('the parsed message holds only checked fields, never the object it was given', () => {
  const input = { type: 'stop', sessionId: 's' };
  const parsed = parseFromWebview(input);
  assert.ok(!isParseError(parsed));
  assert.notEqual(parsed, input);
});

test('a getter that throws is a refusal, not an exception', () => {
  const hostile = { type: 'stop' } as Record<string, unknown>;
  Object.defineProperty(hostile, 'sessionId', { enumerable: true, get: () => { throw new Error('boom'); } });
  const parsed = parseFromWebview(hostile);
  assert.ok(isParseError(parsed));
});
