/**
 * Making sure a stopped language server's process is gone. The language client stops a server it spawned itself,
 * but ours is spawned by a function (to hand over the keys), and for such a process `vscode-languageclient` never
 * checks that it exited: when the server's shutdown outlasts the client's stop timeout, the client gives up without
 * sending `exit` and the old server lives on beside the new one (seen on Restart Server while a session waited on a
 * question). Sessions live at the endpoint and reattach, so ending the process loses nothing.
 */
import type { ChildProcess } from 'node:child_process';

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      done(exited(child));
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      done(true);
    };
    child.once('exit', onExit);
  });
}

/** Waits `graceMs` for the process to exit by itself, then asks it to (SIGTERM), then makes it (SIGKILL). */
export async function endServerProcess(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || exited(child)) return;
  if (await exitWithin(child, graceMs)) return;
  child.kill('SIGTERM');
  if (await exitWithin(child, 2_000)) return;
  child.kill('SIGKILL');
  await exitWithin(child, 2_000);
}
