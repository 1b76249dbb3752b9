/**
 * Opening the sign-in page in the person's browser. Injectable so tests can play the browser and so the
 * extension can route it through `vscode.env.openExternal`.
 */
import { spawn } from 'node:child_process';

export interface BrowserLauncher {
  /** False when no browser can be shown here (SSH session, no display): sign-in then uses the device code. */
  canOpen(): boolean;
  /** Tries to show `url`; false when the launcher failed (the URL is printed for the person either way). */
  open(url: string): Promise<boolean>;
}

function launchCommand(platform: NodeJS.Platform, url: string): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  // `start` is a cmd builtin; the empty string is the window title it would otherwise take from the URL.
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
  return ['xdg-open', [url]];
}

/** The system browser: `open` on macOS, `start` on Windows, `xdg-open` elsewhere. */
export function systemBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserLauncher {
  return {
    canOpen() {
      if (env.DEPUTY_NO_BROWSER === '1' || env.BROWSER === 'none') return false;
      if (platform === 'darwin' || platform === 'win32') return !(env.SSH_CONNECTION || env.SSH_TTY);
      return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
    },
    open(url) {
      const [cmd, args] = launchCommand(platform, url);
      return new Promise((resolve) => {
        try {
          const child = spawn(cmd, args, { stdio: 'ignore', detached: true, env });
          child.once('error', () => resolve(false));
          child.once('spawn', () => {
            child.unref();
            resolve(true);
          });
        } catch {
          resolve(false);
        }
      });
    },
  };
}
