/**
 * Latency of the ECS SDK adapter against the ECS emulator: N sequential DescribeDisks calls
 * (signed ACS3 requests, JSON bodies, model mapping), next to a baseline measured the same way in
 * the same run: a bare HTTP round trip to a Node server answering a fixed JSON body.
 *
 *   npm run bench:ecs -- [--calls 1000]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { EcsDiskCloud } from "../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../core/ecs/ecs-sdk.ts";
import { defaultEmulatorConfig, startEcsEmulator } from "../emulator/ecs/index.ts";
import { emulatorControl } from "../test/support/ecs-emulator-control.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "1000" } } });
const CALLS = Number(values.calls);
const KEY = { id: "bench-key", secret: "bench-secret" };

async function timeCalls(call: () => Promise<unknown>): Promise<number[]> {
  for (let index = 0; index < 50; index++) await call();
  const samples: number[] = [];
  for (let index = 0; index < CALLS; index++) {
    const started = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const emulator = await startEcsEmulator({ port: 0, config: defaultEmulatorConfig({ regionId: "cn-shanghai", accounts: [{ accessKeyId: KEY.id, accessKeySecret: KEY.secret }], timeScale: 0.001 }) });
  const seeded = await emulatorControl(emulator.url).seedDisk({ zoneId: "cn-shanghai-b", category: "cloud_essd", size: 40, status: "In_use", attachedOnce: true });
  const diskId = seeded.DiskId ?? seeded.diskId!;
  const cloud = new EcsDiskCloud(createEcsClient({ regionId: "cn-shanghai", endpoint: emulator.endpoint, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000, accessKey: KEY }), "cn-shanghai");

  const body = JSON.stringify({ RequestId: "0", TotalCount: 0, Disks: { Disk: [] } });
  const bare = createServer((_req, res) => { res.setHeader("content-type", "application/json"); res.end(body); });
  await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;

  const baseline = await timeCalls(async () => (await fetch(bareUrl, { method: "POST" })).text());
  const adapter = await timeCalls(() => cloud.describeDisks([diskId]));
  bare.close();
  await emulator.close();

  console.log(`ECS adapter benchmark: ${CALLS} sequential calls each, after 50 warm-up calls`);
  console.log(`${"path".padEnd(44)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);
  console.log(`${"baseline: bare HTTP POST + JSON (fetch)".padEnd(44)} ${quantile(baseline, 0.5).toFixed(3).padStart(8)} ${quantile(baseline, 0.99).toFixed(3).padStart(8)}`);
  console.log(`${"adapter: DescribeDisks via SDK -> emulator".padEnd(44)} ${quantile(adapter, 0.5).toFixed(3).padStart(8)} ${quantile(adapter, 0.99).toFixed(3).padStart(8)}`);
  console.log(`ratio adapter/baseline: p50 ${(quantile(adapter, 0.5) / quantile(baseline, 0.5)).toFixed(2)}x, p99 ${(quantile(adapter, 0.99) / quantile(baseline, 0.99)).toFixed(2)}x`);
}

await main();
