/** The words on an error's one action button. */
import type { ErrorAction } from '../src/protocol/events.js';

export function actionLabel(action: ErrorAction): string {
  switch (action.kind) {
    case 'signIn':
      return 'Sign in';
    case 'openSetting':
      return 'Open setting';
    case 'raiseBudget':
      return 'Raise budget';
    case 'retry':
      return 'Retry';
  }
}
