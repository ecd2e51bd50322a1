/**
 * Model names that carry their snapshot: OpenAI's `gpt-4o-2024-08-06`, Anthropic's
 * `claude-sonnet-4-5-20250929`, Vertex's `claude-3-5-sonnet@20240620`. Pure.
 */

const DATED = /^(.+?)[-@](\d{4}-\d{2}-\d{2}|\d{8})$/;

/** The model name when it ends in a snapshot date (it then names the version that served). */
export function datedModelVersion(model: string | undefined): string | undefined {
  const m = model ? DATED.exec(model) : null;
  return m && plausibleDate(m[2]) ? model : undefined;
}

/**
 * Whether a provider answering with `reported` served the model `requested` named: the same name,
 * or a dated snapshot of it, with or without a provider prefix ("openai/gpt-4o"). `gpt-4o-mini`
 * is not `gpt-4o`.
 */
export function sameModel(requested: string, reported: string): boolean {
  const base = (m: string) => {
    const name = m.toLowerCase().replace(/^[a-z0-9_.-]+\//, '');
    const d = DATED.exec(name);
    return d && plausibleDate(d[2]) ? d[1] : name;
  };
  return base(requested) === base(reported);
}

function plausibleDate(d: string): boolean {
  const digits = d.replace(/-/g, '');
  const month = Number(digits.slice(4, 6));
  const day = Number(digits.slice(6, 8));
  return digits.startsWith('20') && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}
