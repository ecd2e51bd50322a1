/** The query services' clock (default windows end "now"); injected so tests can fix it. */
export type Clock = () => Date;
export const QUERY_CLOCK = Symbol('QUERY_CLOCK');
export const systemClock: Clock = () => new Date();
