import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { RecordStore } from '../../bot/core/record-store';
import { EVENT_TYPE, type OpsEvent } from './envelope';
import { checkBackwardCompatible, sameJson, type JsonSchemaObject } from './schema-compatibility';

/** The one JSON Schema dialect the registry speaks; a schema may name it in `$schema` or leave it out. */
export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** One version of one event type's schema, as the record store keeps it under "<type>/<version>". */
export interface StoredSchema {
  type: string;
  version: number;
  schema: JsonSchemaObject;
  registeredAt: string;
}

export interface SchemaRegistryOptions {
  /** Refuse events of a type with no schema. Off by default: registering a schema is opt-in per type. */
  requireSchemas?: boolean;
}

export type SchemaValidation = { valid: true } | { valid: false; errors: string[] };

export interface SchemaSummary {
  type: string;
  versions: number[];
  latest: number;
}

/** A refused schema; `reasons` lists every problem, and the message holds them all too. */
export class SchemaError extends OpsbotError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly reasons: string[],
  ) {
    super(code, message);
    this.name = 'SchemaError';
  }
}

interface Compiled {
  stored: StoredSchema;
  validate: ValidateFunction;
}

interface TypeSchemas {
  versions: Map<number, Compiled>;
  latest: Compiled;
}

interface SchemaFile {
  name: string;
  type: string;
  version: number;
  schema: JsonSchemaObject;
}

const SCHEMA_FILE = /\.(?:json|ya?ml)$/;
const VALID: SchemaValidation = { valid: true };

/**
 * JSON Schemas (draft 2020-12) per event type and version, kept in a record store. A new version must compile
 * in ajv's strict mode and accept everything the previous version accepted, so consumers that moved to it
 * still read older events. Validators are compiled once, when a schema is loaded or registered.
 */
export class SchemaRegistry {
  private readonly ajv = createAjv();
  private types = new Map<string, TypeSchemas>();
  /** Registrations run one at a time: each one's version is the latest so far plus one. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: RecordStore<StoredSchema>,
    private readonly options: SchemaRegistryOptions = {},
  ) {}

  /** Reads every schema in the store, replacing what the registry held. */
  load(): Promise<void> {
    return this.serialized(async () => {
      const types = new Map<string, TypeSchemas>();
      for (const { key, value } of await this.store.list()) {
        if (!isStoredSchema(value)) {
          throw refusal(ErrorCode.SchemaInvalid, `stored schema ${key} is malformed`, [
            'expected { type, version, schema }',
          ]);
        }
        install(types, { stored: value, validate: this.compile(value.type, value.version, value.schema) });
      }
      this.types = types;
    });
  }

  /**
   * Adds the next version of `type`'s schema: latest + 1, which `options.version` may name but not change.
   * Refused with `schema_invalid` when it does not compile, `schema_incompatible` when events valid against
   * the latest version would fail it.
   */
  register(
    type: string,
    schema: JsonSchemaObject,
    options: { version?: number } = {},
  ): Promise<{ type: string; version: number }> {
    return this.serialized(async () => {
      const compiled = this.prepare(type, schema, options.version, this.types.get(type)?.latest.stored);
      await this.commit(compiled);
      return { type, version: compiled.stored.version };
    });
  }

  /**
   * Checks an event's data against the version it names in `dataversion`, or else the latest version of its
   * type. On the publish path: no I/O, and a validator compiled beforehand.
   */
  validate(event: OpsEvent): SchemaValidation {
    const schemas = this.types.get(event.type);
    if (!schemas) {
      return this.options.requireSchemas ? { valid: false, errors: [`${event.type} has no schema`] } : VALID;
    }
    const compiled =
      event.dataversion === undefined ? schemas.latest : schemas.versions.get(event.dataversion);
    if (!compiled)
      return { valid: false, errors: [`${event.type} has no schema version ${event.dataversion}`] };
    if (compiled.validate(event.data)) return VALID;
    return { valid: false, errors: (compiled.validate.errors ?? []).map(describeError) };
  }

  list(): SchemaSummary[] {
    return [...this.types]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, schemas]) => ({
        type,
        versions: [...schemas.versions.keys()].sort((a, b) => a - b),
        latest: schemas.latest.stored.version,
      }));
  }

  /** A copy: changing it changes nothing in the registry. */
  get(type: string, version?: number): StoredSchema | undefined {
    const schemas = this.types.get(type);
    const compiled = version === undefined ? schemas?.latest : schemas?.versions.get(version);
    return compiled && copyJson(compiled.stored);
  }

  /**
   * Registers the schemas shipped in a folder: `*.json`, `*.yaml` and `*.yml` files, each one
   * `{ type, version, schema }`, taken in version order. Versions already registered with the same schema
   * are skipped, so this can run at every start. All files are checked before any is stored; the first
   * problem refuses them all, naming its file. Returns what was newly registered.
   */
  async loadSchemaFiles(dir: string): Promise<{ type: string; version: number }[]> {
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && SCHEMA_FILE.test(entry.name))
      .map((entry) => readSchemaFile(path.join(dir, entry.name)))
      .sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
    return this.serialized(async () => {
      const planned: Compiled[] = [];
      const latestPlanned = new Map<string, StoredSchema>();
      for (const file of files) {
        try {
          const registered = this.types.get(file.type)?.versions.get(file.version)?.stored;
          if (registered) {
            if (!sameJson(registered.schema, file.schema)) {
              const reason = `${file.type} v${file.version} is already registered with a different schema`;
              throw new SchemaError(ErrorCode.SchemaInvalid, reason, [reason]);
            }
            continue;
          }
          const previous = latestPlanned.get(file.type) ?? this.types.get(file.type)?.latest.stored;
          const compiled = this.prepare(file.type, file.schema, file.version, previous);
          planned.push(compiled);
          latestPlanned.set(file.type, compiled.stored);
        } catch (err) {
          throw inFile(file.name, err);
        }
      }
      for (const compiled of planned) await this.commit(compiled);
      return planned.map(({ stored }) => ({ type: stored.type, version: stored.version }));
    });
  }

  /** Everything short of storing: the type name, the version rule, compiling, and compatibility with `previous`. */
  private prepare(
    type: string,
    schema: JsonSchemaObject,
    version: number | undefined,
    previous: StoredSchema | undefined,
  ): Compiled {
    if (typeof type !== 'string' || !EVENT_TYPE.test(type)) {
      throw refusal(ErrorCode.SchemaInvalid, `event type ${JSON.stringify(type)} is refused`, [
        'type: must be dotted lower-case words, like "order.created"',
      ]);
    }
    const next = (previous?.version ?? 0) + 1;
    if (version !== undefined && version !== next) {
      throw refusal(ErrorCode.SchemaInvalid, `${type} v${version} is refused`, [
        `version: ${version} given, but the next version of ${type} is ${next}`,
      ]);
    }
    if (!isJsonObject(schema)) {
      throw refusal(ErrorCode.SchemaInvalid, `${type} v${next} is refused`, [
        'schema: must be a JSON object',
      ]);
    }
    // The schema as the store will give it back, and out of reach of the caller's later changes.
    const copy = copyJson(schema);
    const validate = this.compile(type, next, copy);
    if (previous) {
      const reasons = checkBackwardCompatible(previous.schema, copy);
      if (reasons.length > 0) {
        throw refusal(
          ErrorCode.SchemaIncompatible,
          `${type} v${next} is not backward compatible with v${previous.version}`,
          reasons,
        );
      }
    }
    return {
      stored: { type, version: next, schema: copy, registeredAt: new Date().toISOString() },
      validate,
    };
  }

  private async commit(compiled: Compiled): Promise<void> {
    const { type, version } = compiled.stored;
    const key = `${type}/${version}`;
    // Another process sharing the store may have taken this version since load(): never overwrite it.
    if ((await this.store.get(key)) !== undefined) {
      throw refusal(ErrorCode.SchemaInvalid, `${type} v${version} is refused`, [
        `version: ${type} v${version} is already in the store; load() again and retry`,
      ]);
    }
    await this.store.put(key, compiled.stored);
    install(this.types, compiled);
  }

  private compile(type: string, version: number, schema: JsonSchemaObject): ValidateFunction {
    const dialect = schema.$schema;
    if (dialect !== undefined && String(dialect).replace(/#$/, '') !== SCHEMA_DIALECT) {
      throw refusal(ErrorCode.SchemaInvalid, `${type} v${version} does not compile`, [
        `$schema: only ${SCHEMA_DIALECT} is supported, not ${JSON.stringify(dialect)}`,
      ]);
    }
    try {
      return this.ajv.compile(schema);
    } catch (err) {
      throw refusal(ErrorCode.SchemaInvalid, `${type} v${version} does not compile`, [
        (err as Error).message,
      ]);
    } finally {
      // A validator keeps all it needs. Left in ajv, schemas would pile up (refused ones too), and two
      // versions sharing an $id would collide.
      this.ajv.removeSchema(schema);
    }
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function createAjv(): Ajv2020 {
  // allErrors stays off: validation stops at the first problem, which bounds its cost on the publish path.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

function install(types: Map<string, TypeSchemas>, compiled: Compiled): void {
  const schemas = types.get(compiled.stored.type);
  if (!schemas) {
    types.set(compiled.stored.type, {
      versions: new Map([[compiled.stored.version, compiled]]),
      latest: compiled,
    });
    return;
  }
  schemas.versions.set(compiled.stored.version, compiled);
  if (compiled.stored.version > schemas.latest.stored.version) schemas.latest = compiled;
}

function refusal(code: ErrorCode, subject: string, reasons: string[]): SchemaError {
  return new SchemaError(code, `${subject}: ${reasons.join('; ')}`, reasons);
}

function inFile(name: string, err: unknown): unknown {
  if (!(err instanceof SchemaError)) return err;
  return new SchemaError(err.code, `${name}: ${err.message}`, err.reasons);
}

function readSchemaFile(file: string): SchemaFile {
  const name = path.basename(file);
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw refusal(ErrorCode.SchemaInvalid, `${name}: cannot be read`, [(err as Error).message]);
  }
  const problems: string[] = [];
  if (!isJsonObject(parsed)) {
    problems.push('must be an object of type, version and schema');
  } else {
    const fields = parsed as Record<string, unknown>;
    if (typeof fields.type !== 'string') problems.push('type: must be a string');
    if (!Number.isInteger(fields.version) || (fields.version as number) < 1)
      problems.push('version: must be a positive integer');
    if (!isJsonObject(fields.schema)) problems.push('schema: must be an object');
    for (const key of Object.keys(fields))
      if (!['type', 'version', 'schema'].includes(key)) problems.push(`${key}: unexpected`);
  }
  if (problems.length > 0) throw refusal(ErrorCode.SchemaInvalid, `${name} is refused`, problems);
  return { name, ...(parsed as Omit<SchemaFile, 'name'>) };
}

function isStoredSchema(value: unknown): value is StoredSchema {
  if (!isJsonObject(value)) return false;
  return typeof value.type === 'string' && Number.isInteger(value.version) && isJsonObject(value.schema);
}

function copyJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "data.lines[0].qty: must be integer" from ajv's JSON Pointer instancePath and message. */
function describeError(error: ErrorObject): string {
  const where = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
  const extra =
    error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `data${where}: ${error.message ?? error.keyword}${extra}`;
}
