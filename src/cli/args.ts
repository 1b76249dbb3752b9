/**
 * Every subcommand parses its flags the same way: strict `parseArgs`, `--help` prints the usage (exit 0),
 * a bad flag prints the problem and the usage (exit 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals,
      options: { ...options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } },
    });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n\n${usage}`, 2);
  }
  if ((parsed.values as { help?: boolean }).help) throw new UserError(usage, 0);
  return parsed;
}
