// Bundles for Node with esbuild. With no arguments: the CLI into dist/bundle, one file to load instead of hundreds, so
// a run starts in about half the time; rarely used parts (listr2, inquirer, diagnose, JSON Schema) stay in chunks
// loaded on demand. With ENTRY OUTFILE: that one script (the benchmark's floor gets the same start-up as the CLI).
import { build } from 'esbuild';

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ssh2's optional native parts are looked for at run time, as without a bundle; they are not built here.
  external: ['*.node', 'cpu-features'],
  // The CommonJS dependencies expect require and __dirname, which an ES module does not have.
  banner: {
    js: "import { createRequire as __ffRequire } from 'node:module'; import { fileURLToPath as __ffPath } from 'node:url'; const require = __ffRequire(import.meta.url); const __filename = __ffPath(import.meta.url); const __dirname = __ffPath(new URL('.', import.meta.url));",
  },
  logLevel: 'warning',
};

const [entry, outfile] = process.argv.slice(2);
if (entry && outfile) await build({ ...common, entryPoints: [entry], outfile });
else await build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, outdir: 'dist/bundle', splitting: true });
