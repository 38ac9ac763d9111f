import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ecs, KEY, REGION, sdkClient } from "./helpers.ts";

const MAIN = join(import.meta.dirname, "../../emulator/ecs/main.ts");

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Starts the CLI and waits for the one line it prints when listening. */
async function startCli(args: readonly string[]): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("\n")) resolve(output.trim());
    });
    child.once("exit", (code) => {
      reject(new Error(`the emulator exited with ${code}: ${errors}`));
    });
  });
  return { child, url };
}

async function stop(running: Running, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(running.child, "exit");
  running.child.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

describe("ECS emulator: the command line", () => {
  let dir: string;
  let configFile: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zf-ecs-cli-"));
    configFile = join(dir, "emulator.json");
    // A partial configuration: everything left out takes its default.
    writeFileSync(configFile, JSON.stringify({ regionId: REGION, accounts: [KEY], zones: [{ zoneId: "cn-shanghai-x", categories: ["cloud_essd"] }], timeScale: 0.001, persistFile: join(dir, "world.json") }));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints its URL when listening, answers the SDK, and exits 0 on SIGTERM", async () => {
    const running = await startCli(["--port", "0", "--config", configFile]);
    const url = new URL(running.url);
    assert.equal(url.protocol, "http:");
    const ecs = sdkClient({ url: running.url, endpoint: url.host, port: Number(url.port), close: () => Promise.resolve() });
    const zones = await ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
    assert.deepEqual(zones.body?.zones?.zone?.map((zone) => zone.zoneId), ["cn-shanghai-x"]);
    assert.equal(await stop(running, "SIGTERM"), 0);
  });

  it("keeps its world across a restart and stops on SIGINT too", async () => {
    const first = await startCli(["--config", configFile]);
    const firstUrl = new URL(first.url);
    const diskId = (await sdkClient({ url: first.url, endpoint: firstUrl.host, port: Number(firstUrl.port), close: () => Promise.resolve() }).createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: "cn-shanghai-x", diskCategory: "cloud_essd", size: 20 }))).body?.diskId;
    assert.equal(await stop(first, "SIGINT"), 0);
    const second = await startCli(["--config", configFile]);
    const secondUrl = new URL(second.url);
    const disks = await sdkClient({ url: second.url, endpoint: secondUrl.host, port: Number(secondUrl.port), close: () => Promise.resolve() }).describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION }));
    assert.deepEqual(disks.body?.disks?.disk?.map((disk) => disk.diskId), [diskId]);
    assert.equal(await stop(second, "SIGTERM"), 0);
  });

  it("refuses a configuration with mistakes, listing each, and exits 2", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ regionId: "", zones: [{ zoneId: "z", categories: ["cloud_magic"] }], timeScale: -1, latency: { Create_Disk: 5 } }));
    const child = spawn(process.execPath, [MAIN, "--config", bad], { stdio: ["ignore", "pipe", "pipe"] });
    let errors = "";
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 2);
    assert.match(errors, /regionId must be a region id/);
    assert.match(errors, /zone z categories has unknown categories cloud_magic/);
    assert.match(errors, /timeScale must be a number ≥ 0/);
    assert.match(errors, /latency names unknown action "Create_Disk"/);
  });
});
