/**
 * Webhook benchmark: loads POST /validate over HTTPS with a realistic StatefulSet admission and,
 * in the same run and the same way, a minimal express HTTPS server that always allows (the floor
 * of the HTTP stack). Prints requests/s, p50 and p99 of both and zoneferry's ratio to the floor.
 *
 *   npm run bench:webhook -- [--seconds 10] [--connections 8]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeCerts } from "../test/support/certs.ts";
import { benchCluster } from "./bench-cluster.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, connections: { type: "string", default: "8" }, warmup: { type: "string", default: "2" } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const WARMUP = Number(values.warmup);

interface Result {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly denied: number;
}

async function startServer(mode: string, certFile: string, keyFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...(process.env["BENCH_PROF"] ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof2"] : []), join(import.meta.dirname, "webhook-bench-server.ts"), mode, certFile, keyFile], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => { resolve(Number(chunk.toString().trim())); });
    child.once("exit", (code) => { reject(new Error(`${mode} server exited with ${code}`)); });
  });
  return { child, port };
}

function post(agent: Agent, port: number, ca: Buffer, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/validate", method: "POST", agent, ca, servername: "localhost", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => { resolve(Buffer.concat(chunks).toString()); });
    });
    req.once("error", reject);
    req.end(body);
  });
}

/** Closed-loop load: each connection sends its next request when the previous one is answered. */
async function load(name: string, port: number, ca: Buffer, body: string): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let denied = 0;
  const run = async (until: number, record: boolean): Promise<void> => {
    while (Date.now() < until) {
      const started = process.hrtime.bigint();
      const text = await post(agent, port, ca, body);
      if (!record) continue;
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!text.includes('"allowed":true')) denied++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(Date.now() + WARMUP * 1000, false)));
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(started + SECONDS * 1000, true)));
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { name, requests: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), denied };
}

async function main(): Promise<void> {
  const certs = makeCerts();
  const ca = readFileSync(certs.caFile);
  const { body } = benchCluster();
  const results: Result[] = [];
  for (const mode of ["floor", "zoneferry"]) {
    const { child, port } = await startServer(mode, certs.certFile, certs.keyFile);
    try {
      results.push(await load(mode, port, ca, body));
    } finally {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }
  const [floor, zoneferry] = results as [Result, Result];
  const row = (r: Result): string => `${r.name.padEnd(10)} ${r.requests.toString().padStart(8)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}`;
  console.log(`webhook benchmark: POST /validate over HTTPS, ${CONNECTIONS} keep-alive connections, ${SECONDS}s after ${WARMUP}s warm-up, body ${Buffer.byteLength(body)} bytes`);
  console.log("admission: dry-run UPDATE moving a 100-replica x 2-volume StatefulSet to 2 zones; view of 3 zones, 300 nodes");
  console.log(`${"server".padEnd(10)} ${"requests".padStart(8)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);
  console.log(row(floor));
  console.log(row(zoneferry));
  console.log(`ratio zoneferry/floor: req/s ${(zoneferry.rps / floor.rps).toFixed(2)}x, p50 ${(zoneferry.p50 / floor.p50).toFixed(2)}x, p99 ${(zoneferry.p99 / floor.p99).toFixed(2)}x (aim: p99 within 1.5x)`);
  if (zoneferry.denied > 0) console.log(`warning: ${zoneferry.denied} zoneferry answers were not allowed: the benchmark request is not the intended admission`);
}

await main();
