/**
 * A summary key's text form: its members' values in one fixed order, as JSON. The text is what
 * a key is grouped by and what its stored key_sha256 hashes, so the order never changes.
 */
export interface KeyText<K> {
  text(key: K): string;
  /** A fresh object the caller owns: a roll-up adds its counts to it in place, making the row. */
  fromText(text: string): K;
}

export function keyTextOf<K extends object>(members: ReadonlyArray<keyof K>): KeyText<K> {
  return {
    text: (key) => JSON.stringify(members.map((m) => key[m])),
    fromText: (text) => {
      const values = JSON.parse(text) as unknown[];
      // Assigned member by member, always in the same order, so every key shares one object shape;
      // Object.fromEntries, or a spread of it into the row, costs several times more per row.
      const key: Record<string, unknown> = {};
      for (let i = 0; i < members.length; i++) key[members[i] as string] = values[i];
      return key as K;
    },
  };
}
