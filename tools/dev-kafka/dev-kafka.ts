// Node wrapper around the dev Kafka broker (librdkafka's mock cluster, see dev-kafka.c and
// README.md beside this file), for tests, the demo and benchmarks.
//
// The broker is a child process that lives as long as its stdin is open: if this process
// dies in any way, the pipe closes and the broker exits, so a crashed test run leaves no
// broker behind. Call stop() all the same: it is what frees the ports and memory promptly.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface DevKafkaOptions {
  /** Number of brokers, ids 1..brokers. Default 1. */
  brokers?: number;
  /** Topics created before start-up returns (replication min(brokers, 3)). */
  topics: Array<{ name: string; partitions: number }>;
  /** Receives the broker's stderr, a line at a time. */
  log?: (line: string) => void;
}

export interface DevKafka {
  /** Bootstrap addresses (`127.0.0.1:port`), one per broker, broker 1 first. */
  readonly brokers: string[];
  /** Sends one command line (README.md); resolves on `OK`, rejects with the `ERR` text. */
  command(line: string): Promise<void>;
  /** SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves once the process has exited. */
  stop(): Promise<void>;
  readonly pid: number;
}

/** How long start-up may take before the child is killed (it normally takes ~10 ms). */
const START_TIMEOUT_MS = 15_000;
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** How much of the child's stderr is kept for error messages. */
const STDERR_KEEP_CHARS = 16_384;

const BUILD_SCRIPT = join('tools', 'dev-kafka', 'build.sh');
const BINARY = join('tools', 'dev-kafka', 'build', 'dev-kafka');

/**
 * The repository root: the nearest directory above this module holding package.json and
 * tools/dev-kafka/build.sh. Works from the sources (ts-jest, tsx) and from dist/.
 */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, BUILD_SCRIPT))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`dev-kafka: no repository root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * Builds the launcher if it is missing or older than its source (build.sh decides),
 * synchronously, and returns the binary's absolute path. Throws with build.sh's output
 * when the build fails, e.g. when librdkafka-dev is not installed.
 */
export function ensureDevKafkaBuilt(): string {
  const root = repoRoot();
  try {
    execFileSync('bash', [join(root, BUILD_SCRIPT)], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const detail = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || e.message;
    throw new Error(`dev-kafka build failed: ${detail}`, { cause: err });
  }
  return join(root, BINARY);
}

/** Live children, killed if this process exits without stopping them. */
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

function launcherArgs(opts: DevKafkaOptions): string[] {
  const brokers = opts.brokers ?? 1;
  if (!Number.isInteger(brokers)) throw new Error(`dev-kafka: brokers must be an integer, not ${brokers}`);
  const args = ['--brokers', String(brokers)];
  for (const t of opts.topics) {
    if (!Number.isInteger(t.partitions)) {
      throw new Error(`dev-kafka: topic ${t.name}: partitions must be an integer, not ${t.partitions}`);
    }
    args.push('--topic', `${t.name}:${t.partitions}`);
  }
  return args;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Starts a mock cluster with the given brokers and topics and resolves once it listens.
 * Rejects with the launcher's stderr if it exits before printing its bootstrap line.
 */
export async function startDevKafka(opts: DevKafkaOptions): Promise<DevKafka> {
  const args = launcherArgs(opts);
  const binary = ensureDevKafkaBuilt();
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  installExitHook();

  let stderr = '';
  const stderrLines = createInterface({ input: child.stderr });
  stderrLines.on('line', (line) => {
    stderr = (stderr + line + '\n').slice(-STDERR_KEEP_CHARS);
    opts.log?.(line);
  });
  // Writes after the child died fail with EPIPE; the exit handler reports it instead.
  child.stdin.on('error', () => {});

  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      live.delete(child);
      resolve();
    });
  });
  let exitDescription: string | undefined;
  child.once('exit', (code, signal) => {
    exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
  });

  const pending: Pending[] = [];
  const stdoutLines = createInterface({ input: child.stdout });

  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dev-kafka did not start within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`));
    }, START_TIMEOUT_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`dev-kafka ${why} before listening: ${stderr.trim() || '(no stderr)'}`));
    };
    child.once('error', (err) => fail(`failed to start (${err.message})`));
    // 'close' waits for stderr to be drained, so the message carries the whole reason.
    void exited.then(() => fail(exitDescription ?? 'exited'));
    stdoutLines.once('line', (line) => {
      clearTimeout(timer);
      if (line.startsWith('BOOTSTRAP=')) resolve(line.slice('BOOTSTRAP='.length));
      else {
        child.kill('SIGKILL');
        reject(new Error(`dev-kafka printed '${line}' instead of BOOTSTRAP=...`));
      }
    });
  });

  stdoutLines.on('line', (line) => {
    const p = pending.shift();
    if (!p) {
      opts.log?.(`dev-kafka: unexpected output: ${line}`);
      return;
    }
    if (line === 'OK') p.resolve();
    else p.reject(new Error(`${line.startsWith('ERR ') ? line : `unexpected reply '${line}'`} (command: ${p.line})`));
  });
  void exited.then(() => {
    for (const p of pending.splice(0)) {
      p.reject(new Error(`dev-kafka ${exitDescription ?? 'exited'} before answering '${p.line}'`));
    }
  });

  let stopping: Promise<void> | undefined;
  let closed = false;
  void exited.then(() => (closed = true));

  return {
    brokers: bootstrap.split(','),
    pid: child.pid as number,
    command(line: string): Promise<void> {
      if (/[\r\n]/.test(line)) return Promise.reject(new Error('dev-kafka: a command is one line'));
      if (closed || stopping) return Promise.reject(new Error(`dev-kafka is stopped: cannot run '${line}'`));
      return new Promise<void>((resolve, reject) => {
        pending.push({ line, resolve, reject });
        child.stdin.write(line + '\n');
      });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (closed) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
        });
        const ignoredTerm = await Promise.race([exited.then(() => false), timedOut]);
        clearTimeout(timer);
        if (ignoredTerm) {
          child.kill('SIGKILL');
          await exited;
        }
      })();
      return stopping;
    },
  };
}
