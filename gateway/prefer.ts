/** RFC 7240 `Prefer` as far as the gateway honours it: `respond-async` and `wait=N` (seconds). */
export interface Preference {
  respondAsync: boolean;
  waitS: number | null;
}

export function parsePrefer(header: string | undefined): Preference {
  if (!header) return { respondAsync: false, waitS: null };
  let respondAsync = false;
  let waitS: number | null = null;
  for (const part of header.split(/[,;]/)) {
    const [name, value] = part
      .trim()
      .split('=')
      .map((s) => s?.trim().toLowerCase());
    if (name === 'respond-async') respondAsync = true;
    else if (name === 'wait' && value && /^\d+$/.test(value)) waitS = Number(value);
  }
  return { respondAsync, waitS };
}
