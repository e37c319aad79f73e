// PLACEHOLDER: `spillway services` is not built yet; its issue replaces this file.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('spillway services: not built yet (placeholder)\n');
  return 1;
}
