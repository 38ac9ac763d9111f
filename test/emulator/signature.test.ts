import assert from "node:assert/strict";
import { after, before, describe, it, mock } from "node:test";
import { ClientError } from "@alicloud/openapi-core";
import { Ecs, KEY, REGION, ZONE_B, rejectsWithCode, replay, sdkClient, startTap, startTestEmulator, type Tap, type TestEmulator } from "./helpers.ts";

const STS = { accessKeyId: "STS.emulatortest", accessKeySecret: "sts-secret", securityToken: "sts-token-1" };

describe("ECS emulator: who may call (signatures, keys, dates, nonces)", () => {
  let world: TestEmulator;
  let tap: Tap;

  before(async () => {
    world = await startTestEmulator({ accounts: [KEY, STS] });
    tap = await startTap(world.emulator);
  });
  after(async () => {
    await tap.close();
    await world.close();
  });

  const zones = new Ecs.DescribeZonesRequest({ regionId: REGION });
  /** A description with every character the two signatures encode differently. */
  const awkward = "migr snap (1)*'!~ a/b+c=d&e%f 中文";

  it("accepts a call signed with ACS3-HMAC-SHA256, the SDK's default, and answers with a RequestId", async () => {
    const answer = await world.ecs.describeZones(zones);
    assert.equal(answer.statusCode, 200);
    assert.match(answer.body?.requestId ?? "", /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    assert.deepEqual(answer.body?.zones?.zone?.map((zone) => zone.zoneId), [ZONE_B, "cn-shanghai-g", "cn-shanghai-m"]);
  });

  it("accepts ACS3 signatures over parameters with characters that need encoding", async () => {
    const answer = await world.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 20, description: awkward, tag: [new Ecs.CreateDiskRequestTag({ key: "k (1)", value: "v/1 *" })] }));
    assert.match(answer.body?.diskId ?? "", /^d-uf[a-z0-9]{18}$/);
  });

  it("accepts ACS3-HMAC-SM3, whose body hash and signature use SM3", async () => {
    const answer = await world.client({ signatureAlgorithm: "ACS3-HMAC-SM3" }).describeZones(zones);
    assert.equal(answer.statusCode, 200);
  });

  it("accepts the legacy HMAC-SHA1 RPC signature (signatureAlgorithm v2), parameters and all", async () => {
    const legacy = world.client({ signatureAlgorithm: "v2" });
    const answer = await legacy.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 20, description: awkward, tag: [new Ecs.CreateDiskRequestTag({ key: "k (1)", value: "v/1 *" })] }));
    const described = await legacy.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([answer.body?.diskId]) }));
    assert.equal(described.body?.disks?.disk?.[0]?.description, awkward);
    assert.deepEqual(described.body.disks.disk[0].tags?.tag?.map((tag) => [tag.tagKey, tag.tagValue]), [["k (1)", "v/1 *"]]);
  });

  it("accepts STS credentials whose security token matches, signed in and out of the x-acs headers", async () => {
    const acs3 = world.client({ ...STS });
    const v2 = world.client({ ...STS, signatureAlgorithm: "v2" });
    assert.equal((await acs3.describeZones(zones)).statusCode, 200);
    assert.equal((await v2.describeZones(zones)).statusCode, 200);
  });

  it("refuses an STS key presented with another security token", async () => {
    await rejectsWithCode(world.client({ ...STS, securityToken: "stolen" }).describeZones(zones), "InvalidSecurityToken.MismatchWithAccessKey", 400);
  });

  it("refuses a wrong secret with a ClientError SignatureDoesNotMatch (400) that shows the server's string to sign", async () => {
    const error = await rejectsWithCode(world.client({ accessKeySecret: "not-the-secret" }).describeZones(zones), "SignatureDoesNotMatch", 400);
    assert.ok(error instanceof ClientError);
    assert.match(error.message, /server StringToSign is \[ACS3-HMAC-SHA256\n[0-9a-f]{64}\]/);
  });

  it("refuses a wrong secret under the legacy signature too", async () => {
    await rejectsWithCode(world.client({ accessKeySecret: "not-the-secret", signatureAlgorithm: "v2" }).describeZones(zones), "SignatureDoesNotMatch", 400);
  });

  it("refuses an unknown access key with InvalidAccessKeyId.NotFound (404)", async () => {
    await rejectsWithCode(world.client({ accessKeyId: "nobody-key" }).describeZones(zones), "InvalidAccessKeyId.NotFound", 404);
  });

  it("refuses the exact same request sent again with SignatureNonceUsed (400)", async () => {
    const client = sdkClient({ ...world.emulator, endpoint: tap.endpoint });
    await client.describeZones(zones);
    const sent = tap.captured.at(-1)!;
    assert.equal(sent.headers["x-acs-action"], "DescribeZones");
    const again = await replay(tap, sent);
    assert.equal(again.status, 400);
    assert.equal(again.body.Code, "SignatureNonceUsed");
  });

  it("refuses a replayed legacy-signed request with SignatureNonceUsed (400)", async () => {
    const client = sdkClient({ ...world.emulator, endpoint: tap.endpoint }, { signatureAlgorithm: "v2" });
    await client.describeZones(zones);
    const again = await replay(tap, tap.captured.at(-1)!);
    assert.equal(again.body.Code, "SignatureNonceUsed");
  });

  it("refuses a request dated 20 minutes ago with InvalidTimeStamp.Expired (400), as today's gateway does", async () => {
    // The SDK dates the request synchronously when the call starts; only that moment is in the past.
    mock.timers.enable({ apis: ["Date"], now: Date.now() - 20 * 60_000 });
    const stale = world.ecs.describeZones(zones);
    mock.timers.reset();
    await rejectsWithCode(stale, "InvalidTimeStamp.Expired", 400);
  });

  it("refuses a request dated 20 minutes ahead too", async () => {
    mock.timers.enable({ apis: ["Date"], now: Date.now() + 20 * 60_000 });
    const early = world.client({ signatureAlgorithm: "v2" }).describeZones(zones);
    mock.timers.reset();
    await rejectsWithCode(early, "InvalidTimeStamp.Expired", 400);
  });

  it("refuses an unreadable x-acs-date with IllegalTimestamp (400)", async () => {
    await sdkClient({ ...world.emulator, endpoint: tap.endpoint }).describeZones(zones);
    const again = await replay(tap, tap.captured.at(-1)!, { headers: { "x-acs-date": "yesterday" } });
    assert.deepEqual([again.status, again.body.Code], [400, "IllegalTimestamp"]);
  });

  it("refuses a body that does not hash to x-acs-content-sha256 with SignatureDoesNotMatch", async () => {
    await sdkClient({ ...world.emulator, endpoint: tap.endpoint }).describeZones(zones);
    const again = await replay(tap, tap.captured.at(-1)!, { body: "RegionId=cn-beijing" });
    assert.deepEqual([again.status, again.body.Code], [400, "SignatureDoesNotMatch"]);
  });

  it("refuses an x-acs- header left out of the signature with IncompleteSignature", async () => {
    await sdkClient({ ...world.emulator, endpoint: tap.endpoint }).describeZones(zones);
    const again = await replay(tap, tap.captured.at(-1)!, { headers: { "x-acs-smuggled": "1" } });
    assert.deepEqual([again.status, again.body.Code], [400, "IncompleteSignature"]);
  });

  it("refuses a garbled Authorization header with IncompleteSignature", async () => {
    await sdkClient({ ...world.emulator, endpoint: tap.endpoint }).describeZones(zones);
    const again = await replay(tap, tap.captured.at(-1)!, { headers: { authorization: "ACS3-HMAC-SHA256 whatever" } });
    assert.deepEqual([again.status, again.body.Code], [400, "IncompleteSignature"]);
  });

  it("refuses an unsigned call with MissingAccessKeyId (400) and a complete ECS error body", async () => {
    const response = await fetch(`${world.emulator.url}/?RegionId=${REGION}`, { method: "POST", headers: { "x-acs-action": "DescribeZones", "x-acs-version": "2014-05-26" } });
    assert.equal(response.status, 400);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const body = (await response.json()) as Record<string, string>;
    assert.equal(body.Code, "MissingAccessKeyId");
    assert.deepEqual(Object.keys(body).sort(), ["Code", "HostId", "Message", "Recommend", "RequestId"]);
  });

  it("answers an action ECS has but the emulator does not serve with InvalidAction.NotFound (404)", async () => {
    await rejectsWithCode(world.ecs.describeRegions(new Ecs.DescribeRegionsRequest({})), "InvalidAction.NotFound", 404);
  });

  it("answers another API version with InvalidVersion (400)", async () => {
    await sdkClient({ ...world.emulator, endpoint: tap.endpoint }).describeZones(zones);
    const again = await replay(tap, tap.captured.at(-1)!, { headers: { "x-acs-version": "2016-03-14" } });
    assert.deepEqual([again.status, again.body.Code], [400, "InvalidVersion"]);
  });
});
