// Copies non-TypeScript runtime assets (generated models, SQL migrations, console files) into dist/.
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['protocol/generated', 'store/sqlite/migrations', 'store/postgres/migrations', 'console/public']) {
  const from = join(root, 'src', dir);
  if (existsSync(from)) cpSync(from, join(root, 'dist', dir), { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
