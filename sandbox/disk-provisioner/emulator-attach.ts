/**
 * Attach and detach through the ECS emulator's control API. The emulator models no instances, so
 * this is where "the node's kubelet attached the disk" becomes cloud state: the instance id is the
 * node name.
 */

/** Where attach state is changed: the emulator here, ControllerPublishVolume on ACK. */
export interface AttachControl {
  /** Available → In_use on `instanceId`; throws AttachConflictError when the disk is not Available. */
  attach(diskId: string, instanceId: string): Promise<void>;
  /** In_use → Available; throws AttachConflictError when the disk is not In_use. */
  detach(diskId: string): Promise<void>;
}

/** The disk was not in the state the call needs (the emulator's 409): another pass will look again. */
export class AttachConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Control calls answer from memory; anything slower than this is a stuck emulator. */
const TIMEOUT_MS = 5_000;

/**
 * `baseUrl`: the emulator's base URL, e.g. http://127.0.0.1:9100 (the control API is under
 * /_emulator/). `accountId`: the account whose disks these are, when the emulator serves several
 * (its /accounts/<id>/ routes); without it, the default account's.
 */
export function emulatorAttachControl(baseUrl: string, accountId?: string): AttachControl {
  const base = `${baseUrl.replace(/\/+$/, "")}/_emulator${accountId === undefined ? "" : `/accounts/${encodeURIComponent(accountId)}`}`;
  const post = async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.ok) return;
    const text = await response.text();
    if (response.status === 409) throw new AttachConflictError(text);
    throw new Error(`emulator control POST ${path} answered ${response.status}: ${text}`);
  };
  return {
    attach: (diskId, instanceId) => post(`/disks/${encodeURIComponent(diskId)}/attach`, { instanceId }),
    detach: (diskId) => post(`/disks/${encodeURIComponent(diskId)}/detach`, {}),
  };
}
