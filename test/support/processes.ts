/**
 * Steward's own CLI as a child process, the way users and operators run it, and the worked
 * example's demos the way `npm start` runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const stewardBin = fileURLToPath(new URL('../../bin/steward.js', import.meta.url));
/** The demos' entry (`npm start`, `npm run demo:*`), run through tsx as the scripts do. */
export const demoEntry = fileURLToPath(new URL('../../examples/flight-delay/demo/main.ts', import.meta.url));
const demoArgs = (args: string[]) => ['--import', 'tsx', demoEntry, ...args];

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnSteward(args: string[], env: NodeJS.ProcessEnv): Spawned {
  return spawnNode([stewardBin, ...args], env);
}

/** Node on `args` (a script and its arguments), its stdout and stderr collected together. */
function spawnNode(args: string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runSteward(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return runToEnd(spawnNode([stewardBin, ...args], env));
}

/** Runs the worked example's demo (examples/flight-delay/demo/main.ts) to completion: its exit code and output. */
export async function runDemo(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return runToEnd(spawnNode(demoArgs(args), env));
}

async function runToEnd(spawned: Spawned): Promise<{ code: number | null; output: string }> {
  const { code } = await spawned.exited;
  return { code, output: spawned.output() };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion, keeping stdout (where --json goes) apart from stderr. */
export function runStewardSplit(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [stewardBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export async function waitForOutput(spawned: Spawned, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(spawned.output())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern} in:\n${spawned.output()}`);
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) throw new Error(`Process exited before ${pattern}:\n${spawned.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
