// Type declarations for lmstore, an embedded store for versioned prompt templates and
// conversation history. Hand-written alongside index.js (plain CommonJS).
//
// Times are Numbers of microseconds since the Unix epoch (`Micros`) everywhere they come out;
// where a time goes in, a `Date` is accepted too. Message ids are UUID strings.

/// <reference types="node" />

/** Microseconds since the Unix epoch (the store's own unit; exact until the year 2255). */
export type Micros = number;

/**
 * A time going in: microseconds, or a Date (millisecond precision). A number between 1e9 and
 * 1e14 is refused: it can only be seconds or milliseconds (`Date.now()`), which as microseconds
 * would be a moment in January 1970.
 */
export type TimeInput = Micros | Date;

/** A message id: a canonical UUID string such as `01890a5d-ac96-774b-bcce-b302099a8057`. */
export type Uuid = string;

/** Free-form metadata: any MessagePack-encodable plain object. */
export type Metadata = Record<string, unknown>;

/** `code` of an LmstoreError. Library statuses mirror include/lmstore.h; the last three are the binding's own. */
export type LmstoreErrorCode =
  | 'LMS_NOT_FOUND'
  | 'LMS_INVALID_ARGUMENT'
  | 'LMS_CONFLICT'
  | 'LMS_MAP_FULL'
  | 'LMS_IO'
  | 'LMS_CORRUPT'
  | 'LMS_VERSION_MISMATCH'
  | 'LMS_INTERNAL'
  | 'LMS_KEY_TOO_LONG'
  | 'LMS_INVALID_UTF8'
  | 'LMS_BAD_MSGPACK'
  | 'LMS_BAD_CURSOR'
  | 'LMS_READ_ONLY'
  | 'LMS_TOO_LARGE'
  /**
   * A record or page did not fit a caller-provided buffer (status 15). The package grows its
   * read buffer and retries, so no method of this package rejects with it.
   */
  | 'LMS_BUFFER_TOO_SMALL'
  /** A render input is missing or has the wrong type (status 16); the message names it. */
  | 'LMS_INPUT'
  /** The template failed to compile or render (status 17): Jinja2's reason, id, version, line. */
  | 'LMS_RENDER'
  /** The path holds a file or LMDB environment that is not an lmstore; it was not modified (status 18). */
  | 'LMS_NOT_A_STORE'
  /** The operation means nothing for the store's backend, e.g. a backup of a PostgreSQL store (status 19). */
  | 'LMS_UNSUPPORTED'
  /** A call on a closed Store (status -1). */
  | 'LMS_CLOSED'
  /** liblmstore.so could not be found or loaded (status -2). */
  | 'LMS_LIBRARY_NOT_FOUND'
  /** The loaded liblmstore has another ABI version (status -3). */
  | 'LMS_ABI_MISMATCH';

/** Every failure this package reports. Match on `code`. */
export class LmstoreError extends Error {
  readonly name: 'LmstoreError';
  /** e.g. 'LMS_NOT_FOUND'. A status a newer library adds shows as `LMS_STATUS_<n>`. */
  readonly code: LmstoreErrorCode | `LMS_STATUS_${number}`;
  /** The ABI status (positive), or a negative binding-level status. */
  readonly status: number;
  /** The method that failed, e.g. 'putTemplate'. */
  readonly op?: string;
  /** The raw LMDB or errno code behind an I/O failure. */
  readonly osCode?: number;
}

/** Status numbers by code. */
export const STATUS: Readonly<Record<LmstoreErrorCode, number>>;

export interface OpenOptions {
  /** Initial map size in bytes (default 64 MiB); the map doubles by itself when full. */
  mapSize?: number;
  /** Growth cap in bytes (default 1 TiB); writes fail with LMS_MAP_FULL only there. */
  maxMapSize?: number;
  /** Reader slots (default 126). */
  maxReaders?: number;
  /** Open read-only: every write fails with LMS_READ_ONLY. */
  readOnly?: boolean;
  /** Do not flush on commit (a machine crash may lose recent commits); see `flush()`. */
  noSync?: boolean;
  /** Permission bits of created files (default 0o600). */
  fileMode?: number;
  /**
   * Walk every page of every table before the file is mapped: a damaged file is refused with
   * LMS_CORRUPT naming the page and table. Costs one read of the whole file.
   */
  verify?: boolean;
  /** Create missing parent directories too (otherwise a missing parent is LMS_NOT_FOUND). */
  createParents?: boolean;
  /** Compiled templates `render` keeps (default 256). */
  renderCacheSize?: number;
  /** `postgres://` stores: connections kept open (default 4). */
  poolSize?: number;
  /** `postgres://` stores: how long connecting may take, in milliseconds (default 5000). */
  connectTimeoutMs?: number;
}

export type InputType = 'string' | 'number' | 'boolean' | 'array<string>' | 'object';

export interface InputSpec {
  type: InputType;
  /** Default true. */
  required?: boolean;
  /** Must match `type`. */
  default?: unknown;
  description?: string;
}

/** What you give `putTemplate`. */
export interface TemplateSpec {
  id: string;
  /** Default '0.1.0'. */
  version?: string;
  /** The text, in Jinja2 syntax. */
  template: string;
  description?: string;
  inputs?: Record<string, InputSpec>;
  metadata?: Metadata;
}

/** A stored template version. */
export interface Template {
  id: string;
  version: string;
  template: string;
  description?: string;
  inputs: Record<string, InputSpec>;
  metadata: Metadata;
  createdAt: Micros;
}

export type PutOutcome = 'created' | 'unchanged' | 'replaced';

/** Variables for a render: JSON-like values (numbers with a fraction cross as floats). */
export type RenderVars = Record<string, unknown>;

/** Renders a template spec that is not stored, as `Store.render` would once it is put. */
export function renderPreview(spec: TemplateSpec, vars?: RenderVars | null): string;

export interface PutTemplateOptions {
  /** Replace a version whose content differs instead of failing with LMS_CONFLICT. */
  replace?: boolean;
}

/** Which version `getTemplate` returns: give at most one; none means the latest. */
export type TemplateSelector = { version: string; alias?: undefined } | { alias: string; version?: undefined };

export interface ListTemplatesOptions {
  /** Only ids starting with this. */
  prefix?: string;
  /** Start after this id: the previous page's `cursor`. */
  after?: string;
  /** Ids per page, 1..10000 (default 100). */
  limit?: number;
}

export interface TemplateIdPage {
  ids: string[];
  /** Pass as `after` for the next page; null on the last page. */
  cursor: string | null;
}

export interface TemplateVersion {
  version: string;
  createdAt: Micros;
}

/** A message to append. */
export interface MessageInput {
  sessionId: string;
  /** Default: a new time-ordered UUIDv7. Appending an existing id stores nothing (`duplicate`). */
  id?: Uuid;
  /** Default: now, never below the session's last ts. */
  ts?: TimeInput;
  /** e.g. 'user', 'assistant', 'tool'. */
  role: string;
  agentId?: string;
  /** Default ''. */
  content?: string;
  inReplyTo?: Uuid;
  metadata?: Metadata;
}

/** A stored message. Absent optional fields are present as `undefined`. */
export interface Message {
  id: Uuid;
  sessionId: string;
  ts: Micros;
  role: string;
  agentId?: string;
  content: string;
  inReplyTo?: Uuid;
  metadata: Metadata;
  createdAt: Micros;
  updatedAt: Micros;
}

export interface AppendResult {
  id: Uuid;
  /** The stored ts (for a duplicate: the one already stored). */
  ts: Micros;
  /** True when a message with this id existed and nothing was stored. */
  duplicate: boolean;
}

export interface RangeOptions {
  /** Inclusive lower bound. */
  start?: TimeInput;
  /** Exclusive upper bound. */
  end?: TimeInput;
  /** Items per page, 1..10000 (default 100). */
  limit?: number;
  /** Newest first. */
  reverse?: boolean;
  /** The previous page's cursor (same query). */
  cursor?: string | null;
}

export interface IterateOptions extends Omit<RangeOptions, 'limit'> {
  /** Items fetched per crossing (default 100). */
  pageSize?: number;
  /** Stop after this many items (default: all). */
  limit?: number;
}

export interface MessagePage {
  messages: Message[];
  /** Opaque; pass as `cursor` for the next page. null on the last page. */
  cursor: string | null;
}

export interface MessageChanges {
  content?: string;
  /** Replaces the whole metadata map. */
  metadata?: Metadata;
}

export interface SessionOptions {
  title?: string;
  metadata?: Metadata;
}

export interface SessionChanges {
  /** null clears the title. */
  title?: string | null;
  metadata?: Metadata;
}

export interface Session {
  sessionId: string;
  title?: string;
  metadata: Metadata;
  createdAt: Micros;
  updatedAt: Micros;
  /** ts of the newest message. */
  lastTs: Micros;
  /** When the session last changed (append, update). */
  lastActivity: Micros;
  messageCount: number;
}

export interface ListSessionsOptions {
  /** Sessions per page, 1..10000 (default 100). */
  limit?: number;
  cursor?: string | null;
}

export interface SessionPage {
  sessions: Session[];
  cursor: string | null;
}

export interface Stats {
  templateIds: number;
  templateVersions: number;
  /** 0 when no template was ever written. */
  templatesModifiedAt: Micros;
  sessions: number;
  messages: number;
  mapSize: number;
  mapUsed: number;
  maxMapSize: number;
  maxReaders: number;
  numReaders: number;
  schemaVersion: number;
  /** MAJOR * 10000 + MINOR * 100 + PATCH. */
  lmdbVersion: number;
}

export interface BackupOptions {
  /** Rewrite every table with full pages and leave out free pages: a smaller copy, slower to write. */
  compact?: boolean;
}

export interface TrainDictionaryOptions {
  /**
   * Body size in bytes (content and metadata) from which new and updated message bodies are
   * compressed with the new dictionary: 0 or omitted for the default, 256; otherwise at least
   * 32 (1 to 31 fail with LMS_INVALID_ARGUMENT, in the library's words naming min_body). An
   * integer from 0 to 2^32 - 1, else LMS_INVALID_ARGUMENT before the library is called.
   */
  minBody?: number;
}

/** A zstd compression dictionary held by a store (struct lms_dictionary_info). */
export interface DictionaryInfo {
  /** Its version in this store, counting up from 1; every record names the version it was written with. */
  version: number;
  /** The id zstd derived from its content (written into every frame made with it). */
  zstdId: number;
  /** Its size in bytes. */
  bytes: number;
  /** For the current dictionary, the body size from which new bodies use it; 0 for earlier ones. */
  minBody: number;
}

/**
 * An open store. Reads are synchronous (microseconds). Every write has a Promise form that
 * runs on libuv's thread pool, so a durable commit never blocks the event loop, and a
 * `...Sync` form that does.
 */
export class Store {
  private constructor();
  /** The path given to open(). */
  readonly path: string;
  readonly readOnly: boolean;
  /** True after close(). */
  readonly closed: boolean;

  /**
   * Closes the store. Idempotent. Writes already started complete first; every later call
   * throws LmstoreError 'LMS_CLOSED'.
   */
  close(): void;
  [Symbol.dispose](): void;

  /** Counts and sizes, kept by writes (never scanned). */
  stats(): Stats;
  /** Flushes committed writes to disk (only needed with `noSync`). */
  flush(): Promise<void>;
  flushSync(): void;
  /** A consistent copy into an empty (or new) directory while work goes on. */
  backup(path: string, options?: BackupOptions): Promise<void>;
  backupSync(path: string, options?: BackupOptions): void;

  /**
   * Trains a zstd dictionary from the store's newest messages (content and metadata, up to
   * 4 MiB), stores it under the next version and makes it current: from then on, new and
   * updated bodies of `minBody` bytes and more are compressed with it, so short chat messages
   * compress too. Nothing stored is rewritten and reads inflate in the library, so messages
   * read back as written. Training the same messages again keeps the version (and takes the
   * new `minBody`). Readers and writers go on meanwhile; a training cut short changes nothing.
   *
   * Runs on a worker thread (the event loop goes on; `close()` waits for it), starting once
   * the writes called before it have committed. Rejects with LMS_INVALID_ARGUMENT when the
   * store holds fewer than 500 messages (the message gives the count) or for a bad `minBody`,
   * and with LMS_READ_ONLY on a read-only handle.
   *
   * Inflating costs read time (about 0.7 µs per 300-byte message), so a store read mostly as
   * "latest N" and already small on disk may keep `minBody` high. The first training makes the
   * store schema 3, which lmstore versions without dictionaries refuse to open.
   */
  trainDictionary(options?: TrainDictionaryOptions): Promise<DictionaryInfo>;
  /** trainDictionary() on this thread, after committing the Promise writes still queued. */
  trainDictionarySync(options?: TrainDictionaryOptions): DictionaryInfo;
  /** The store's dictionaries, oldest first (the current one last); [] if never trained. Works read-only. */
  dictionaries(): DictionaryInfo[];

  // ---- templates ----

  /** Stores one immutable template version; the version put last becomes the latest. */
  putTemplate(spec: TemplateSpec, options?: PutTemplateOptions): Promise<PutOutcome>;
  putTemplateSync(spec: TemplateSpec, options?: PutTemplateOptions): PutOutcome;

  /** The latest version of `id`; `undefined` if the id does not exist. */
  getTemplate(id: string): Template | undefined;
  /** Exactly that version (a string, as in C and Go), or the version an alias points at; `undefined` if absent. */
  getTemplate(id: string, selector: string | TemplateSelector): Template | undefined;

  /**
   * Renders template `id` (latest, or the selected version or alias) with `vars`, as Jinja2
   * renders it in promptlightning's environment. Synchronous: a render is microseconds of CPU.
   * Throws LmstoreError with code LMS_INPUT, LMS_RENDER or LMS_NOT_FOUND.
   */
  render(id: string, vars?: RenderVars | null, selector?: TemplateSelector): string;

  /** One page of template ids in byte order. */
  listTemplates(options?: ListTemplatesOptions): TemplateIdPage;
  /** Every template id (optionally under `prefix`), paging underneath. */
  iterateTemplateIds(options?: { prefix?: string; after?: string; pageSize?: number; limit?: number }): Generator<string, void, undefined>;
  /** Versions of `id` in the order they were put; [] for an unknown id. */
  listTemplateVersions(id: string): TemplateVersion[];
  /** Aliases of `id` as {alias: version}; {} for an unknown id. */
  listTemplateAliases(id: string): Record<string, string>;

  /** Deletes one version, or the whole id with its aliases; false if absent. */
  deleteTemplate(id: string, version?: string | { version?: string }): Promise<boolean>;
  deleteTemplateSync(id: string, version?: string | { version?: string }): boolean;
  /** Points `alias` at an existing version (LMS_NOT_FOUND otherwise). */
  setTemplateAlias(id: string, alias: string, version: string): Promise<void>;
  setTemplateAliasSync(id: string, alias: string, version: string): void;
  /** Removes an alias; false if absent. */
  deleteTemplateAlias(id: string, alias: string): Promise<boolean>;
  deleteTemplateAliasSync(id: string, alias: string): boolean;

  // ---- messages ----

  /** Appends one message durably, off the event loop. */
  appendMessage(message: MessageInput): Promise<AppendResult>;
  appendMessageSync(message: MessageInput): AppendResult;
  /** Appends a batch in one durable transaction: all or nothing. Results are in input order. */
  appendMessages(messages: readonly MessageInput[]): Promise<AppendResult[]>;
  appendMessagesSync(messages: readonly MessageInput[]): AppendResult[];

  /** One message by id; `undefined` if absent. */
  getMessage(id: Uuid): Message | undefined;
  /**
   * One page of a session's messages, oldest first (`reverse`: newest first). An unknown
   * session gives an empty page. The latest 50: `rangeMessages(s, {reverse: true, limit: 50})`.
   */
  rangeMessages(sessionId: string, options?: RangeOptions): MessagePage;
  /** Like rangeMessages over one agent's messages across sessions. */
  rangeAgentMessages(agentId: string, options?: RangeOptions): MessagePage;
  /** All matching messages, fetched a page at a time. */
  iterateMessages(sessionId: string, options?: IterateOptions): Generator<Message, void, undefined>;
  iterateAgentMessages(agentId: string, options?: IterateOptions): Generator<Message, void, undefined>;

  /** Replaces content and/or metadata in place (LMS_NOT_FOUND if absent). */
  updateMessage(id: Uuid, changes: MessageChanges): Promise<void>;
  updateMessageSync(id: Uuid, changes: MessageChanges): void;
  /** false if absent. */
  deleteMessage(id: Uuid): Promise<boolean>;
  deleteMessageSync(id: Uuid): boolean;
  /** Keeps the newest `keep` messages; resolves to how many were deleted. */
  trimSession(sessionId: string, keep: number): Promise<number>;
  trimSessionSync(sessionId: string, keep: number): number;
  /** Deletes messages with ts below `before`; resolves to how many were deleted. */
  trimSessionBefore(sessionId: string, before: TimeInput): Promise<number>;
  trimSessionBeforeSync(sessionId: string, before: TimeInput): number;

  // ---- sessions ----

  /** Creates a session explicitly (LMS_CONFLICT if it exists); appends also create them. */
  createSession(sessionId: string, options?: SessionOptions): Promise<void>;
  createSessionSync(sessionId: string, options?: SessionOptions): void;
  /** `undefined` if absent. */
  getSession(sessionId: string): Session | undefined;
  /** LMS_NOT_FOUND if absent. */
  updateSession(sessionId: string, changes: SessionChanges): Promise<void>;
  updateSessionSync(sessionId: string, changes: SessionChanges): void;
  /** Deletes the session with all its messages; false if absent. */
  deleteSession(sessionId: string): Promise<boolean>;
  deleteSessionSync(sessionId: string): boolean;
  /** One page of sessions, most recent activity first. */
  listSessions(options?: ListSessionsOptions): SessionPage;
  iterateSessions(options?: { pageSize?: number; cursor?: string | null; limit?: number }): Generator<Session, void, undefined>;
}

/** Opens (creating if needed) the store in directory `path`. Same path twice shares one environment. */
export function open(path: string, options?: OpenOptions): Store;

/** Microseconds -> Date (sub-millisecond part dropped). */
export function toDate(us: Micros): Date;
/** Date -> microseconds. */
export function fromDate(date: Date): Micros;
/** The current time in microseconds (millisecond resolution). */
export function nowMicros(): Micros;
/** 16 bytes -> canonical UUID string. */
export function uuidString(bytes: Uint8Array, offset?: number): Uuid;

/** The loaded library's version, e.g. '0.1.0'. */
export const version: string;
/** MAJOR * 10000 + MINOR * 100 + PATCH. */
export const versionNumber: number;
/** The C ABI version this package speaks (checked against the library at load). */
export const abiVersion: number;
/** The liblmstore.so file that was loaded. */
export const libraryPath: string;

// ---- import, export and migration (lib/import.js; docs/import.md, docs/migration.md) ----

/** Called with (done, known) units of work during an import or migration. */
export type ProgressCallback = (done: number, known: number) => void;

export interface ImportOptions {
  /** Report what would happen, write nothing. */
  dryRun?: boolean;
  /** One transaction: any skipped or conflicting file and nothing is written. */
  atomic?: boolean;
  /** Replace an existing id+version whose body differs instead of a conflict. */
  replace?: boolean;
  progress?: ProgressCallback;
}

export interface ImportFileReport {
  /** Relative to the imported folder. */
  path: string;
  outcome: 'imported' | 'unchanged' | 'replaced' | 'conflict' | 'skipped';
  id: string | null;
  version: string | null;
  /** Why the file was skipped or conflicts ('' otherwise). */
  reason: string;
  /** 1-based; 0 when the reason concerns the whole file. */
  line: number;
  column: number;
}

export interface ImportReport {
  dryRun: boolean;
  atomic: boolean;
  committed: boolean;
  imported: number;
  unchanged: number;
  replaced: number;
  conflict: number;
  skipped: number;
  files: ImportFileReport[];
}

export interface VerifyImportReport {
  clean: boolean;
  matched: number;
  skipped: number;
  mismatched: { path: string; id: string; version: string }[];
  missing: { path: string; id: string; version: string }[];
  extra: { id: string; version: string }[];
}

export interface ExportReport {
  templates: number;
  versions: number;
  aliases: number;
  files: number;
}

export type MigrationKind = 'promptlightning' | 'tkr-agent-chat';

export interface MigrationReport {
  kind: MigrationKind;
  /** Whether this run wrote anything (a second run says false). */
  changed: boolean;
  templatesMigrated: number;
  templatesUnchanged: number;
  sessionsMigrated: number;
  sessionsUnchanged: number;
  messagesMigrated: number;
  messagesUnchanged: number;
  failed: number;
  verified: number;
  mismatches: number;
  mismatchExamples: string[];
  reorderedSessions: string[];
  danglingIndexEntries: number;
  lostVersions: { id: string; version: string }[];
  sourceCount: number | null;
  sourceLastModified: number | null;
  sideFile: string;
  /** Records written to the side file, per source database. */
  sideRecords: Record<string, number>;
}

export interface Store {
  /** Imports every .yaml/.yml file under `dir`, read as PyYAML's safe_load reads them. */
  importFolderSync(dir: string, options?: ImportOptions): ImportReport;
  /** Re-reads `dir` and compares it with the store. */
  verifyImportSync(dir: string): VerifyImportReport;
  /** Writes every template version to `dir` (new or empty) as YAML files. */
  exportFolderSync(dir: string): ExportReport;
  /** Migrates another system's LMDB store at `source` (never written) into this store. */
  migrateSync(kind: MigrationKind, source: string, sideFile: string, options?: { progress?: ProgressCallback }): MigrationReport;
  /**
   * The same jobs on a worker thread, so the event loop goes on meanwhile; progress callbacks
   * arrive as events on this thread. `close()` while one runs waits for it to end.
   */
  importFolder(dir: string, options?: ImportOptions): Promise<ImportReport>;
  verifyImport(dir: string): Promise<VerifyImportReport>;
  exportFolder(dir: string): Promise<ExportReport>;
  migrate(kind: MigrationKind, source: string, sideFile: string, options?: { progress?: ProgressCallback }): Promise<MigrationReport>;
}
