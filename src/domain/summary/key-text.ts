/**
 * A summary key's text form: its members' values in one fixed order, as JSON. The text is what
 * a key is grouped by and what its stored key_sha256 hashes, so the order never changes.
 */
export interface KeyText<K> {
  text(key: K): string;
  fromText(text: string): K;
}

export function keyTextOf<K extends object>(members: ReadonlyArray<keyof K>): KeyText<K> {
  return {
    text: (key) => JSON.stringify(members.map((m) => key[m])),
    fromText: (text) => {
      const values = JSON.parse(text) as unknown[];
      return Object.fromEntries(members.map((m, i) => [m, values[i]])) as unknown as K;
    },
  };
}
