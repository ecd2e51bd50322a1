import type { ExportQuery } from '../domain/bundle/bundle-format.js';

/** README.txt of a bundle: what it is and how to check it, for the person who receives it. */
export function bundleReadme(opts: {
  exportId: string;
  origin: string;
  query: ExportQuery;
  createdAt: string;
}): string {
  const filters =
    Object.entries(opts.query.filters)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ') || 'none';
  return `routing-ledger audit bundle
===========================

Export ${opts.exportId} of ledger ${opts.origin}, created ${opts.createdAt}.
Tenant:  ${opts.query.tenant}
Range:   occurred_at in [${opts.query.from}, ${opts.query.to})   (from inclusive, to exclusive)
Filters: ${filters}  (filters only mark records as matching; every record of the range is included)

What this bundle proves
-----------------------
- Every record in records.jsonl is exactly what the ledger appended, at the position it
  names: its leaf hash is included (proofs.jsonl) in a checkpoint the ledger signed
  (checkpoints.jsonl), and successive checkpoints of a shard are linked by consistency proofs.
- None of the tenant's records in the range was left out, shard by shard: the records form
  an unbroken hash chain (tenant_seq, tenant_prev), and the chain entries just before and just
  after them (completeness.jsonl) are proven too and lie outside the range.
- What rests on the ledger's signature alone (attested, not provable offline) and what the
  bundle does not cover is listed in docs/bundle-format.md, section 6.3, and printed by the
  verifier.

How to verify
-------------
Offline, with no database and no network:

    npx routing-ledger verify-bundle <this file>.tar.gz --jwks trusted-jwks.json

trusted-jwks.json must be the ledger's public keys obtained independently of this bundle
(for example from the ledger's /.well-known/jwks.json, or from your own records). Without
--jwks the verifier uses this bundle's jwks.json: that shows the bundle is consistent, not
that it comes from the ledger. Add --witness-policy policy.txt (the witnesses' keys and how
many must have cosigned) to require that independent witnesses cosigned every shard's anchor.

Exit code 0 means every check passed; otherwise the verifier prints the first problem it
found (file, line, record, expected and found).

Files
-----
README.txt          this file
manifest.json       query, counts, SHA-256 and size of every other file, key ids (RFC 8785 JSON)
manifest.jws        compact JWS (EdDSA, typ routing-ledger-manifest+jws) whose payload is manifest.json
jwks.json           the ledger's public keys (RFC 7517), with validity windows
checkpoints.jsonl   the signed checkpoints the proofs cite, per shard, with consistency proofs
checkpoint-notes.jsonl  per shard: its anchor checkpoint as a C2SP signed note with witness cosignatures
completeness.jsonl  per shard: the chain segment exported and its proven neighbours
records.jsonl       one ledger entry per line, canonical JSON (the exact Merkle leaf input)
proofs.jsonl        line i: the inclusion proof of line i of records.jsonl

The format is specified in docs/bundle-format.md of routing-ledger; a third party can write
an independent verifier from it.
`;
}
