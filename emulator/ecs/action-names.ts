/** The ECS actions the emulator answers; every other action is InvalidAction.NotFound. */
export const ECS_ACTIONS = [
  "CreateDisk",
  "DescribeDisks",
  "DeleteDisk",
  "CreateSnapshot",
  "DescribeSnapshots",
  "DeleteSnapshot",
  "DescribeAvailableResource",
  "DescribeZones",
  "TagResources",
] as const;

export type EcsAction = (typeof ECS_ACTIONS)[number];

export function isEcsAction(name: string): name is EcsAction {
  return (ECS_ACTIONS as readonly string[]).includes(name);
}
