// Test only (E2E.md #8): one language model so code-server's Chat view hands requests to participants. It never
// answers on Deputy's behalf: the @deputy participant does its own work and ignores this model.
const vscode = require('vscode');

exports.activate = async function activate(context) {
  const model = {
    id: 'deputy-test-model',
    name: 'Deputy test model',
    family: 'deputy-test',
    version: '1',
    maxInputTokens: 100000,
    maxOutputTokens: 1000,
    capabilities: { toolCalling: true },
  };
  context.subscriptions.push(
    vscode.lm.registerLanguageModelChatProvider('deputy-test', {
      provideLanguageModelChatInformation: async () => [model],
      provideLanguageModelChatResponse: async (_model, _messages, _options, progress) => {
        progress.report(new vscode.LanguageModelTextPart('(test model)'));
      },
      provideTokenCount: async (_model, text) => (typeof text === 'string' ? text.length : 1),
    }),
  );
  await vscode.lm.selectChatModels({ vendor: 'deputy-test' });
};
