/**
 * ECS error codes with the HTTP status and message ECS answers them with. Statuses and messages
 * come from the ECS API reference's per-action error tables and from answers of the POP gateway
 * seen in the wild; where an action documents its own variant (TagResources answers a missing
 * parameter with 404, DescribeDisks spells "MissingParamter"), the action passes it explicitly.
 */

/** An ECS error answer: the SDK turns it into ClientError, ServerError or ThrottlingError. */
export class EcsError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  /** Extra response headers, e.g. x-acs-retry-after on throttling. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: string, httpStatus: number, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = "EcsError";
    this.code = code;
    this.httpStatus = httpStatus;
    this.headers = headers;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

interface Known {
  readonly status: number;
  readonly message: string;
}

const KNOWN: Readonly<Record<string, Known>> = {
  // Gateway: authentication, routing, flow control.
  MissingAccessKeyId: { status: 400, message: "AccessKeyId is mandatory for this action." },
  IncompleteSignature: { status: 400, message: "The request signature does not conform to Aliyun standards." },
  "InvalidAccessKeyId.NotFound": { status: 404, message: "Specified access key is not found." },
  SignatureDoesNotMatch: { status: 400, message: "Specified signature does not match our calculation." },
  SignatureNonceUsed: { status: 400, message: "Specified signature nonce was used already." },
  MissingSignatureNonce: { status: 400, message: "SignatureNonce is mandatory for this action." },
  MissingTimestamp: { status: 400, message: "Timestamp is mandatory for this action." },
  IllegalTimestamp: { status: 400, message: 'The input parameter "Timestamp" that is mandatory for processing this request is not supplied.' },
  "InvalidTimeStamp.Expired": { status: 400, message: "Specified time stamp or date value is expired." },
  "InvalidSecurityToken.MismatchWithAccessKey": { status: 400, message: "Specified SecurityToken mismatch with the AccessKey." },
  InvalidVersion: { status: 400, message: "Specified parameter Version is not valid." },
  "InvalidAction.NotFound": { status: 404, message: "Specified api is not found, please check your url and method." },
  Throttling: { status: 400, message: "Request was denied due to request throttling." },
  "Throttling.User": { status: 400, message: "Request was denied due to user flow control." },
  "Throttling.Api": { status: 400, message: "Request was denied due to api flow control." },
  InternalError: { status: 500, message: "The request processing has failed due to some unknown error, exception or failure." },
  ServiceUnavailable: { status: 503, message: "The request has failed due to a temporary failure of the server." },
  DryRunOperation: { status: 400, message: "Request validation has been passed with DryRun flag set." },
  // Parameters.
  MissingParameter: { status: 400, message: "A required parameter is not supplied." },
  "MissingParameter.RegionId": { status: 400, message: 'The input parameter "RegionId" that is mandatory for processing this request is not supplied.' },
  "MissingParamter.RegionId": { status: 400, message: "The regionId should not be null." },
  InvalidParameter: { status: 400, message: "The specified parameter is not valid." },
  "InvalidParameter.DiskIds": { status: 400, message: "The specified parameter diskIds is not valid." },
  "InvalidRegionId.NotFound": { status: 404, message: "The specified RegionId does not exist." },
  "InvalidRegion.NotFound": { status: 400, message: "The specified parameter RegionId is not valid." },
  "Invalid.RegionId": { status: 404, message: "The specified RegionId does not exist." },
  "InvalidZoneId.NotFound": { status: 404, message: "The specified zone does not exist." },
  // Disks.
  "Zone.NotOnSale": { status: 400, message: "The specified zone is not available for purchase." },
  "OperationDenied.NoStock": { status: 403, message: "The requested resource is sold out in the specified zone; try other types of resources or other regions and zones." },
  "InvalidDataDiskCategory.ValueNotSupported": { status: 400, message: "The specified parameter DiskCategory is not valid." },
  "InvalidDiskSize.TooSmall": { status: 403, message: "Specified disk size is less than the size of snapshot." },
  "InvalidDataDiskSize.ValueNotSupported": { status: 400, message: "The specified parameter Size is not valid." },
  "InvalidSize.ValueNotSupported": { status: 400, message: "The specified parameter Size is not valid." },
  "OperationDenied.PerformanceLevelNotMatch": { status: 403, message: "The specified PerformanceLevel and disk size do not match." },
  "InvalidPerformanceLevel.Malformed": { status: 400, message: "The specified parameter PerformanceLevel is not valid." },
  "InvalidDiskName.Malformed": { status: 400, message: "The specified disk name is wrongly formed." },
  "InvalidDescription.Malformed": { status: 400, message: "The specified description is wrongly formed." },
  "InvalidInstanceId.NotFound": { status: 404, message: "The specified InstanceId does not exist." },
  "InvalidDiskId.NotFound": { status: 404, message: "The specified DiskId does not exist." },
  IncorrectDiskStatus: { status: 403, message: "The current disk status does not support this operation." },
  "IncorrectDiskStatus.Initializing": { status: 403, message: "The specified disk is being initialized from its snapshot; try again later." },
  "IncorrectDiskStatus.NeverAttached": { status: 403, message: "The specified disk has never been attached to any instance." },
  "IncorrectDiskStatus.CreatingSnapshot": { status: 403, message: "A previous snapshot creation is in process." },
  DiskCreatingSnapshot: { status: 403, message: "The operation is denied due to a snapshot of the specified disk is not completed yet." },
  DiskStillAttached: { status: 403, message: "The disk is still attached to an instance." },
  "QuotaExceed.PostPaidDisk": { status: 403, message: "Living postPaid disks quota exceeded." },
  "InvalidDiskIds.Malformed": { status: 403, message: "The amount of specified disk Ids exceeds the limit." },
  "InvalidCategory.ValueNotSupported": { status: 400, message: "The specified disk category is not supported." },
  "InvalidStatus.ValueNotSupported": { status: 400, message: "The specified disk status is not supported." },
  "InvalidDiskType.ValueNotSupported": { status: 400, message: "The specified disk type is not supported." },
  // Snapshots.
  "InvalidSnapshotId.NotFound": { status: 404, message: "The specified SnapshotId does not exist." },
  "InvalidSnapshotId.NotReady": { status: 403, message: "The specified snapshot has not completed yet." },
  "InvalidSnapshotName.Malformed": { status: 400, message: "The specified SnapshotName is wrongly formed." },
  "QuotaExceed.Snapshot": { status: 403, message: "The snapshot quota exceeds." },
  SnapshotCreatedDisk: { status: 403, message: "The snapshot has been used to create disk(s)." },
  "InvalidSnapshotIds.Malformed": { status: 403, message: "The amount of specified snapshot Ids exceeds the limit." },
  "InvalidStatus.NotFound": { status: 404, message: "The specified Status is not found" },
  InvalidUsage: { status: 404, message: "The specifed Usage is not valid" },
  InvalidSourceDiskType: { status: 404, message: "The specifed SourceDiskType is not valid" },
  "InvalidSnapshotType.NotFound": { status: 404, message: "The specfied SnapshotType is not found" },
  "InvalidSnapshotCategory.Malformed": { status: 403, message: "The specified Category is not valid." },
  // Idempotency.
  IdempotentParameterMismatch: { status: 403, message: "The specified clientToken is used." },
  // Tags.
  "InvalidTag.Mismatch": { status: 400, message: "The specified Tag.n.Key and Tag.n.Value are not match." },
  InvalidTagCount: { status: 400, message: "The specified tags are beyond the permitted range." },
  "Duplicate.TagKey": { status: 400, message: "The Tag.N.Key contain duplicate key." },
  "InvalidTagKey.Malformed": { status: 400, message: "The specified Tag.n.Key is not valid." },
  "InvalidTagValue.Malformed": { status: 400, message: "The specified Tag.n.Value is not valid." },
  "MissingParameter.ResourceType": { status: 404, message: "The parameter - ResourceType should not be null" },
  "MissingParameter.Tags": { status: 404, message: "The parameter - Tags should not be null" },
  "NumberExceed.ResourceIds": { status: 400, message: "The ResourceIds parameter's number is exceed , Valid : 50" },
  "NumberExceed.Tags": { status: 400, message: "The Tags parameter's number is exceed , Valid : 20" },
  "InvalidResourceId.NotFound": { status: 404, message: "The specified ResourceIds are not found in our records." },
  "InvalidResourceType.NotFound": { status: 404, message: "The ResourceType provided does not exist in our records." },
  "OperationDenied.QuotaExceed": { status: 400, message: "The quota of tags on resource is beyond permitted range." },
  // DescribeAvailableResource's own family.
  "Invalid.Param": { status: 400, message: "The input parameter DestinationResource that is mandatory for processing this request is not supplied." },
  "Invalid.ResourceType": { status: 404, message: "The ResourceType provided does not exist in our records." },
  "Invalid.DestinationResource": { status: 404, message: "The specified DestinationResource is not valid." },
};

/** The HTTP status ECS answers `code` with; for codes outside the table, a guess from its shape. */
export function statusOf(code: string): number {
  const known = KNOWN[code];
  if (known !== undefined) return known.status;
  if (code.endsWith(".NotFound")) return 404;
  if (/^(QuotaExceed|Forbidden|OperationDenied|IncorrectDiskStatus|InvalidAccountStatus)/.test(code)) return 403;
  return 400;
}

/** The message ECS answers `code` with. */
export function messageOf(code: string): string {
  return KNOWN[code]?.message ?? `The request failed with ${code}.`;
}

/** An ECS error with the status and message of the table; both can be overridden. */
export function ecsError(code: string, message?: string, httpStatus?: number): EcsError {
  return new EcsError(code, httpStatus ?? statusOf(code), message ?? messageOf(code));
}

/** The POP gateway's wording for a required parameter that is absent. */
export function missingParameter(name: string, code = "MissingParameter"): EcsError {
  return ecsError(code, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
}

/** ECS's wording for a parameter whose value it does not accept. */
export function invalidParameter(name: string, code = "InvalidParameter", httpStatus?: number): EcsError {
  return ecsError(code, `The specified parameter "${name}" is not valid.`, httpStatus);
}

/** Every code of the table, for documentation and the control API. */
export function knownErrorCodes(): ReadonlyArray<{ readonly code: string; readonly httpStatus: number; readonly message: string }> {
  return Object.entries(KNOWN).map(([code, known]) => ({ code, httpStatus: known.status, message: known.message }));
}
