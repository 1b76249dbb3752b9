/** Keys of what the extension remembers per workspace (`context.workspaceState`), shared by the entry and the body. */

/** A session was running when the window closed: the server starts at activation to reattach to it. */
export const SESSIONS_LEFT_RUNNING = 'deputy.sessionsLeftRunning';
