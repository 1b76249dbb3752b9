/**
 * `vscode-languageclient`, bundled on its own (dist/language-client.js) and loaded the first time the server is
 * needed: it is most of the extension's weight, and an activation that starts no server (the usual startup) should
 * not pay for it. server.ts `require`s this file at run time; elsewhere only its types are imported.
 */
export { CloseAction, ErrorAction, LanguageClient, State } from 'vscode-languageclient/node';
