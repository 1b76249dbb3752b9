// Benchmark only: the least an extension can be. It loads VS Code's API as every extension does (the template
// `yo code` generates starts so; VS Code builds the API object on that first require) and its activate does nothing.
// Its activation is the floor Deputy's is compared with.
require('vscode');

exports.activate = function activate() {};
