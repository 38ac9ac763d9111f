/** Child processes of the sandbox: started with their output in a log file, stopped for sure. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of the log, for error messages. */
  tail(lines?: number): string;
  /** Whether the process has exited (a start that fails must fail its caller at once). */
  exited(): boolean;
}

export interface StartOptions {
  /** Where stdout and stderr go (appended). */
  readonly logFile: string;
  /** Outlive this process (the sandbox CLI returns while its components run on). */
  readonly detached?: boolean;
  readonly env?: Readonly<Record<string, string>>;
}

export function startProcess(name: string, command: string, args: readonly string[], options: StartOptions): Managed {
  const { logFile } = options;
  const out = openSync(logFile, "a");
  const child = spawn(command, args, {
    stdio: ["ignore", out, out],
    detached: options.detached === true,
    ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
  });
  if (options.detached === true) child.unref();
  const tail = (lines = 20): string => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  };
  return {
    name,
    pid: child.pid ?? 0,
    child,
    logFile,
    tail,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Ports are claimed below Linux's ephemeral range (32768-60999), where the kernel never hands one
 * out for `listen(0)` or an outgoing connection: a port `listen(0)` gave us, then released, can be
 * given again to another test file before our child binds it (seen in CI: kube-apiserver exiting
 * with "address already in use"). A claim is a file named by the port holding the claimer's pid;
 * a claim whose pid is gone is stale and taken over. The port must also be free to bind now.
 */
const PORT_RANGE = { low: 20_000, high: 32_000 } as const;
const CLAIMS = join(tmpdir(), "zoneferry-ports");

export async function freePort(): Promise<number> {
  mkdirSync(CLAIMS, { recursive: true });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low));
    if (!claim(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found in ${PORT_RANGE.low}-${PORT_RANGE.high} after 200 tries`);
}

function claim(port: number): boolean {
  const file = join(CLAIMS, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch {
    const owner = Number(readFileSafe(file));
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return false;
    try {
      unlinkSync(file);
    } catch {
      return false;
    }
    return claim(port);
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => { resolve(false); });
    server.listen(port, "127.0.0.1", () => { server.close(() => { resolve(true); }); });
  });
}

/**
 * Polls `check` until it resolves true; fails with `describe()` after the timeout, or at once
 * when a process it waits on (`of`) has exited.
 */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string, of?: Managed | readonly Managed[]): Promise<void> {
  const watched: readonly Managed[] = of === undefined ? [] : "exited" in of ? [of] : of;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    const dead = watched.find((managed) => managed.exited());
    if (dead !== undefined) throw new Error(`${dead.name} exited before it was ready: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(describe());
}

/** Whether a process of the given pid is alive (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process by pid, not necessarily our child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}
