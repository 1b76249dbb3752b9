// Benchmark only (bench/activation.ts): the least an extension can do and still have registered, when its
// activation settles, what VS Code needs of Deputy then: one command per command stand-in of Deputy's entry (VS Code
// runs the command that woke an extension as soon as its activation settles), a chat participant (likewise invoked
// then), a code lens provider and a document content provider (for editors restored with a window). Handlers do
// nothing. Its activation is the floor for an extension with Deputy's features, between the empty extension and
// Deputy. COMMANDS is rewritten by the benchmark from Deputy's own list when it packages this extension.
const vscode = require('vscode');

const COMMANDS = 23;

exports.activate = function activate(context) {
  for (let i = 0; i < COMMANDS; i++) context.subscriptions.push(vscode.commands.registerCommand(`deputy-bench.floor.${i}`, () => undefined));
  const participant = vscode.chat.createChatParticipant('deputy-bench.floor', () => undefined);
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'icon.svg');
  context.subscriptions.push(
    participant,
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, { provideCodeLenses: () => [] }),
    vscode.workspace.registerTextDocumentContentProvider('deputy-bench-floor', { provideTextDocumentContent: () => '' }),
  );
};
