/** Deputy's name and version as it identifies itself in session metadata and audit records. */
import pkg from '../../package.json';

export const DEPUTY_VERSION: string = pkg.version;
export const DEPUTY_CLIENT = `deputy-cli/${DEPUTY_VERSION}`;
