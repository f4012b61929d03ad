// Test helper for the docs' code examples: finds the fenced js and ts blocks of README.md and
// docs/*.md, runs js blocks as programs and type-checks ts blocks against the built package (so a
// renamed option or method breaks the test, not the reader). It does not judge sh or text blocks.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../helpers/fixtures.js';

const run = promisify(execFile);

export interface CodeBlock {
  /** The markdown file, relative to the project root. */
  file: string;
  /** The 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
}

/** README.md and every docs/*.md, relative to the project root. */
export function docFiles(): string[] {
  const docs = readdirSync(path.join(projectRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The fenced code blocks of one markdown file. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(path.join(projectRoot, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { line: number; lang: string; fence: string; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^(`{3,})\s*([\w-]*)/.exec(text);
    if (open === undefined) {
      if (fence) open = { line: index + 1, lang: fence[2] ?? '', fence: fence[1] ?? '```', body: [] };
    } else if (text.trimEnd() === open.fence) {
      blocks.push({ file, line: open.line, lang: open.lang, code: `${open.body.join('\n')}\n` });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined) throw new Error(`${file}:${open.line}: a code block is never closed`);
  return blocks;
}

export function blockName(block: CodeBlock): string {
  return `${block.file.replace(/[^\w]+/g, '-')}-L${block.line}`;
}

/**
 * What a js block says it prints: the trailing `// comment` of each console.log line, in order
 * (`console.log(await math.plus(10, 20)); // hello!: 30`).
 */
export function expectedOutput(code: string): string[] {
  const expected: string[] = [];
  for (const line of code.split('\n')) {
    if (!/^\s*console\.log\(/.test(line)) continue;
    const comment = /;\s+\/\/ (.*)$/.exec(line);
    if (comment) expected.push((comment[1] ?? '').trimEnd());
  }
  return expected;
}

/** The examples/ file a block is an excerpt of (its code verbatim), if any. */
export function exampleFileOf(block: CodeBlock): string | undefined {
  const dir = path.join(projectRoot, 'examples');
  const code = block.code.trim();
  return readdirSync(dir).find((name) => readFileSync(path.join(dir, name), 'utf8').includes(code));
}

/** A scratch folder inside the project, so that `import ... from 'gaw'` resolves to the build. */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(projectRoot, 'dist', 'doc-examples-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a js block as an ES module in a child process; never rejects. */
export async function runProgram(dir: string, block: CodeBlock, timeoutMs: number): Promise<ProgramResult> {
  const file = path.join(dir, `${blockName(block)}.mjs`);
  writeFileSync(file, block.code);
  try {
    const { stdout, stderr } = await run(process.execPath, [file], { cwd: dir, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : null,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
    };
  }
}

/**
 * Names the ts fragments may use without declaring them: the reader's own values and classes.
 * Everything from gaw itself must be imported by the block, as a reader would have to.
 */
const prelude = `import type { GawClient } from 'gaw';
declare global {
  const secret: string;
  const oldSecret: string;
  const newSecret: string;
  const signal: AbortSignal;
  const client: GawClient;
  class MathService {
    plus(a: number, b: number): string;
    multiply(a: number, b: number): Promise<number>;
    divide(a: number, b: number): number;
    log(line: string): void;
  }
  class CounterService {
    increment(): number;
  }
  class Point {
    x: number;
    y: number;
  }
  class Account {
    id: string;
    name: string;
    password: string;
  }
  class Temperature {
    constructor(kelvin: number);
    readonly kelvin: number;
  }
}
export {};
`;

/** Type-checks every ts block in one tsc run; resolves to tsc's report ('' when clean). */
export async function typeCheck(dir: string, blocks: CodeBlock[]): Promise<string> {
  writeFileSync(path.join(dir, 'prelude.d.ts'), prelude);
  for (const block of blocks) writeFileSync(path.join(dir, `${blockName(block)}.ts`), `${block.code}export {};\n`);
  const config = {
    compilerOptions: {
      target: 'es2022',
      lib: ['es2023'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      types: ['node'],
      skipLibCheck: true,
    },
    include: ['*.ts'],
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
  const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, timeout: 60_000 });
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
}
