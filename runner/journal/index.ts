/** The runner's journal: the ZoneMigration CR, the StatefulSet's status annotations and its Events (contract §3). */
export { installZoneMigrationCrd, zoneMigrationCrd, ZONE_MIGRATION_CRD_FILE, type InstallCrdOptions } from "./crd.ts";
export { MigrationJournal, journalName, JOURNAL_LABELS, type EnsureJournalInput, type MigrationJournalOptions } from "./journal.ts";
export { writeStatefulSetStatus, oneLine, STATUS_FIELD_MANAGER, type StatefulSetStatusUpdate } from "./statefulset-status.ts";
export { recordEvent, eventName, EVENT_REASONS, REPORTING_COMPONENT, type ZoneferryEvent, type ZoneferryEventReason } from "./events.ts";
export { setCondition } from "./conditions.ts";
export * from "./types.ts";
