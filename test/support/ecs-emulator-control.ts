/** A client of the ECS emulator's control API (/_emulator/), for tests and the sandbox. */

export interface SeedDisk {
  zoneId: string;
  category: string;
  size: number;
  performanceLevel?: string;
  status?: "Available" | "In_use";
  diskId?: string;
  tags?: Record<string, string>;
  content?: string;
  attachedOnce?: boolean;
  encrypted?: boolean;
  kmsKeyId?: string;
  provisionedIops?: number;
  burstingEnabled?: boolean;
  multiAttach?: "Enabled" | "Disabled";
  resourceGroupId?: string;
  autoSnapshotPolicyId?: string;
}

export interface Fault {
  action: string;
  code?: string;
  httpStatus?: number;
  message?: string;
  times?: number;
  after?: number;
  probability?: number;
  retryAfterMs?: number;
  delayMs?: number;
  hang?: boolean;
  failSnapshotAfterMs?: number;
}

export interface LoggedRequest {
  readonly action: string;
  readonly status: number;
  readonly code?: string;
}

export interface EmulatorControl {
  seedDisk(disk: SeedDisk): Promise<{ DiskId?: string; diskId?: string }>;
  setContent(diskId: string, content: string): Promise<void>;
  content(diskId: string): Promise<string | undefined>;
  attach(diskId: string, instanceId: string): Promise<void>;
  detach(diskId: string): Promise<void>;
  inject(fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
  requests(): Promise<LoggedRequest[]>;
  clearRequests(): Promise<void>;
  reset(): Promise<void>;
}

export function emulatorControl(baseUrl: string): EmulatorControl {
  /** `body`: a string is sent as raw bytes (disk content), anything else as JSON. */
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      const raw = typeof body === "string";
      init.body = raw ? body : JSON.stringify(body);
      init.headers = { "content-type": raw ? "application/octet-stream" : "application/json" };
    }
    return fetch(`${baseUrl}/_emulator${path}`, init);
  };
  const ok = async (response: Promise<Response>): Promise<Response> => {
    const answer = await response;
    if (!answer.ok) throw new Error(`emulator control ${answer.url}: ${answer.status} ${await answer.text()}`);
    return answer;
  };
  return {
    seedDisk: async (disk) => (await (await ok(call("POST", "/disks", disk))).json()) as { DiskId?: string; diskId?: string },
    setContent: async (diskId, content) => { await ok(call("PUT", `/disks/${diskId}/content`, content)); },
    content: async (diskId) => {
      const answer = await call("GET", `/disks/${diskId}/content`);
      return answer.status === 404 ? undefined : answer.text();
    },
    attach: async (diskId, instanceId) => { await ok(call("POST", `/disks/${diskId}/attach`, { instanceId })); },
    detach: async (diskId) => { await ok(call("POST", `/disks/${diskId}/detach`, {})); },
    inject: async (fault) => { await ok(call("POST", "/faults", fault)); },
    clearFaults: async () => { await ok(call("DELETE", "/faults")); },
    requests: async () => (await (await ok(call("GET", "/requests"))).json()) as LoggedRequest[],
    clearRequests: async () => { await ok(call("DELETE", "/requests")); },
    reset: async () => { await ok(call("POST", "/reset")); },
  };
}
