import type { ClientOptions } from '../client/index.ts';

/** Where a journey runs and as which API client; `log` receives one line per step. */
export type JourneyOptions = Pick<
  ClientOptions,
  'baseUrl' | 'tenant' | 'clientId' | 'clientSecret' | 'fetch'
> & {
  log?: (line: string) => void;
};
