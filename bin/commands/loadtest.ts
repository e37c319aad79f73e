// PLACEHOLDER: `spillway loadtest` is not built yet; its issue replaces this file.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('spillway loadtest: not built yet (placeholder)\n');
  return 1;
}
