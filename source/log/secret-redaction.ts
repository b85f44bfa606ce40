// Every secret mailferry reads (passwords, admin passwords, tokens) is registered here the moment
// it is read, so that no log line or error text can carry it, whatever path it took to get there.

const secrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  // Very short strings would mangle ordinary text; a 1-3 character password is still never logged
  // on purpose, this is the safety net.
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let result = text;
  for (const secret of secrets) {
    if (result.includes(secret)) result = result.split(secret).join('***');
  }
  return result;
}

/** True when `value` is exactly a registered secret (a cheap check for data about to be stored). */
export function isSecret(value: string): boolean {
  return secrets.has(value);
}
