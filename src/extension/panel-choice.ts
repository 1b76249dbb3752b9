/**
 * The panel may only pick among what the extension offered it. A webview is a page that renders agent-made text; if
 * a bug ever let that text run, it must not be able to send the person's next task (and its token or IAM proof) to
 * an endpoint of its choosing, or into a folder that is not open. So an endpoint or folder named by a panel message
 * counts only when it is one of the choices the panel was given; anything else is refused, never applied.
 */
export type PanelChoice<T extends string> = { ok: true; value: T | undefined } | { ok: false; message: string };

/** `wanted` as one of `offered`, or undefined when the panel named none. */
export function choose<T extends string>(wanted: string | undefined, offered: readonly T[], what: string): PanelChoice<T> {
  if (wanted === undefined || wanted === '') return { ok: true, value: undefined };
  const hit = offered.find((o) => o === wanted);
  if (hit !== undefined) return { ok: true, value: hit };
  return { ok: false, message: `The panel asked for a ${what} Deputy did not offer it; nothing was changed. Choose the ${what} from the list.` };
}
