import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import { INTENTS } from '../../../bot/nlu/intents';
import {
  APPROVAL_FIELDS,
  compileSchema,
  defaultPolicy,
  isRecord,
  POLICY_FIELDS,
  RISK_LEVELS,
  riskLevel,
  UNIT_MS,
} from '../definition-fields';
import { actionNames, actionShape, type ActionCatalog } from '../runbooks/runbook-parser';
import { templateReferences } from '../templates';
import {
  DEFAULT_STEP_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  type ActionCall,
  type ApprovalPolicy,
  type ParameterSchema,
  type RunPolicy,
  type StepDefinition,
  type Triggers,
  type WorkflowDefinition,
} from '../workflow';

export interface SagaProblem {
  /** Relative to the directory the sagas were loaded relative to. */
  file: string;
  /** 1-based; 0 when the problem is about the file (or folder) as a whole. */
  line: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface LoadedSagas {
  /** Only the sagas without errors: a saga with a mistake is never run half-understood. */
  definitions: WorkflowDefinition[];
  problems: SagaProblem[];
}

export interface ParsedSaga {
  definition?: WorkflowDefinition;
  problems: SagaProblem[];
}

const SAGA_FILE = /\.ya?ml$/;
const KEBAB_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
/** What `{{ run.… }}` offers (templates.ts TemplateScope.run). */
const RUN_FIELDS = new Set(['id', 'correlationId', 'actor']);
/** Retries beyond this are a loop, not resilience; the step should fail and compensate instead. */
const MAX_RETRIES = 20;

const SAGA_FIELDS = [
  'id',
  'title',
  'description',
  'owner',
  'last_reviewed',
  'parameters',
  'policy',
  'triggers',
  'steps',
] as const;
const TRIGGER_FIELDS = ['intents'] as const;
const STEP_FIELDS = [
  'id',
  'title',
  'action',
  'with',
  'mutating',
  'timeout',
  'retries',
  'compensation',
] as const;
const COMPENSATION_FIELDS = ['action', 'with'] as const;

/**
 * Reads every saga (`*.yaml`, `*.yml`) in `dir`, resolved against `relativeTo` (the config file's directory);
 * each definition's `source` is its path relative to `relativeTo`. A missing folder is a warning, not an
 * error: a deployment may run runbooks only. Two sagas with one id keep the first, in file-name order.
 * With `actions`, an unknown action is an error and a step that does not say `mutating` gets its action's
 * default; without them every such step counts as mutating, the side that never runs a change twice.
 */
export function loadSagas(dir: string, relativeTo: string, actions?: ActionCatalog): LoadedSagas {
  const folder = path.resolve(relativeTo, dir);
  const shown = (file: string) => path.relative(relativeTo, file).split(path.sep).join('/') || '.';
  if (!existsSync(folder)) {
    return {
      definitions: [],
      problems: [{ file: shown(folder), line: 0, message: 'no sagas folder here', severity: 'warning' }],
    };
  }
  const definitions: WorkflowDefinition[] = [];
  const problems: SagaProblem[] = [];
  const files = readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isFile() && SAGA_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  for (const name of files) {
    const file = shown(path.join(folder, name));
    const parsed = parseSaga(readFileSync(path.join(folder, name), 'utf8'), file, actions);
    problems.push(...parsed.problems);
    const definition = parsed.definition;
    if (!definition) continue;
    const first = definitions.find((d) => d.id === definition.id);
    if (first) {
      problems.push({
        file,
        line: 0,
        message: `saga id ${definition.id} is already defined in ${first.source}; this file is ignored`,
        severity: 'error',
      });
      continue;
    }
    if (path.basename(name, path.extname(name)) !== definition.id) {
      problems.push({
        file,
        line: 0,
        message: `the file name does not match the saga id ${definition.id}; name it ${definition.id}.yaml so it can be found`,
        severity: 'warning',
      });
    }
    definitions.push(definition);
  }
  return { definitions, problems };
}

/** One saga file's text to a definition, or the problems (with lines) that keep it from being one. */
export function parseSaga(text: string, file: string, actions?: ActionCatalog): ParsedSaga {
  return new SagaReader(text, file, actions).read();
}

interface Entry {
  key: Scalar;
  value: Node | null;
}

/** Walks the YAML nodes rather than the plain value, so every problem can name the line it is on. */
class SagaReader {
  private readonly problems: SagaProblem[] = [];
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  constructor(
    text: string,
    private readonly file: string,
    private readonly actions: ActionCatalog | undefined,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  read(): ParsedSaga {
    for (const error of this.doc.errors) this.error(this.lineOfOffset(error.pos[0]), error.message);
    if (this.doc.errors.length > 0) return { problems: this.problems };
    const root = this.doc.contents;
    if (root === null || isScalar(root)) {
      this.error(1, 'a saga is a mapping with id, title, parameters, policy and steps');
      return { problems: this.problems };
    }
    const fields = this.fields(root, 'the saga', SAGA_FIELDS);
    if (!fields) return { problems: this.problems };

    const id = this.id(fields, root, 'the saga');
    const title = fields.has('title') ? this.text(fields.get('title'), 'title') : this.missing(root, 'title');
    const description = this.text(fields.get('description'), 'description') ?? '';
    const owner = this.text(fields.get('owner'), 'owner');
    const lastReviewed = this.text(fields.get('last_reviewed'), 'last_reviewed');
    const parameters = this.parameters(fields.get('parameters'));
    const policy = this.policy(fields.get('policy'));
    const triggers = this.triggers(fields.get('triggers'));
    const steps = this.steps(fields.get('steps'), root, parameters);

    if (this.problems.some((p) => p.severity === 'error') || !id || !title || !parameters || !steps) {
      return { problems: this.problems };
    }
    return {
      definition: {
        kind: 'saga',
        id,
        title,
        description,
        ...(owner === undefined ? {} : { owner }),
        ...(lastReviewed === undefined ? {} : { lastReviewed }),
        source: this.file,
        parameters,
        policy,
        triggers,
        steps,
      },
      problems: this.problems,
    };
  }

  private parameters(entry: Entry | undefined): ParameterSchema | undefined {
    // A saga with no parameters still gets a schema that refuses stray ones, so a typo is caught at start.
    if (!entry) return { type: 'object', properties: {}, additionalProperties: false };
    const line = this.lineOf(entry.key);
    const schema =
      entry.value && isMap(entry.value) ? (entry.value.toJS(this.doc) as Record<string, unknown>) : undefined;
    if (!schema)
      return this.error(line, 'parameters must be a JSON Schema object (type: object, properties: …)');
    if (schema.type !== 'object') return this.error(line, 'parameters must have type: object');
    const properties = schema.properties ?? {};
    if (!isRecord(properties) || !Object.values(properties).every(isRecord)) {
      return this.error(line, 'parameters.properties must map each parameter name to its schema');
    }
    const required = schema.required ?? [];
    if (!Array.isArray(required) || !required.every((name) => typeof name === 'string')) {
      return this.error(line, 'parameters.required must be a list of parameter names');
    }
    const { additionalProperties } = schema;
    if (additionalProperties !== undefined && typeof additionalProperties !== 'boolean') {
      return this.error(line, 'parameters.additionalProperties must be true or false');
    }
    const compiled = compileSchema(schema);
    if (typeof compiled === 'string') return this.error(line, `parameters: ${compiled}`);
    return {
      ...schema,
      type: 'object',
      properties: properties as ParameterSchema['properties'],
      // Unless the author says otherwise, an unknown parameter is a typo to refuse, not a value to ignore.
      additionalProperties: additionalProperties ?? false,
      ...(required.length > 0 ? { required: required as string[] } : {}),
    };
  }

  private policy(entry: Entry | undefined): RunPolicy {
    const policy = defaultPolicy();
    if (!entry) return policy;
    const fields = this.fields(entry.value, 'policy', POLICY_FIELDS, entry.key);
    if (!fields) return policy;
    const roles = this.stringList(fields.get('roles'), 'policy.roles');
    if (roles) policy.roles = roles;
    const autoRun = this.boolean(fields.get('auto_run'), 'policy.auto_run');
    if (autoRun !== undefined) policy.autoRun = autoRun;
    const risk = fields.get('risk');
    if (risk) {
      const level = this.text(risk, 'policy.risk');
      const known = level === undefined ? undefined : riskLevel(level);
      if (known) policy.risk = known;
      else if (level !== undefined) {
        this.error(this.lineOf(risk.key), `policy.risk must be one of ${RISK_LEVELS.join(', ')}`);
      }
    }
    const approval = fields.get('approval');
    if (approval) policy.approval = this.approval(approval, policy.approval);
    return policy;
  }

  private approval(entry: Entry, defaults: ApprovalPolicy): ApprovalPolicy {
    const approval = { ...defaults };
    const fields = this.fields(entry.value, 'policy.approval', APPROVAL_FIELDS, entry.key);
    if (!fields) return approval;
    // As in runbooks: writing an approval block asks for approval unless it says required: false.
    approval.required = this.boolean(fields.get('required'), 'policy.approval.required') ?? true;
    approval.approvers =
      this.count(fields.get('approvers'), 'policy.approval.approvers', 1) ?? approval.approvers;
    approval.selfApproval =
      this.boolean(fields.get('self_approval'), 'policy.approval.self_approval') ?? approval.selfApproval;
    approval.roles = this.stringList(fields.get('roles'), 'policy.approval.roles') ?? approval.roles;
    const ttl = this.durationMs(fields.get('ttl'), 'policy.approval.ttl');
    if (ttl !== undefined) approval.ttlSeconds = Math.ceil(ttl / 1000);
    return approval;
  }

  private triggers(entry: Entry | undefined): Triggers {
    const triggers: Triggers = { alerts: [], intents: [], schedules: [] };
    if (!entry) return triggers;
    // Sagas are business transactions with structured parameters: alerts and schedules start runbooks only.
    const fields = this.fields(entry.value, 'triggers', TRIGGER_FIELDS, entry.key);
    const intents = fields && this.stringList(fields.get('intents'), 'triggers.intents');
    for (const intent of intents ?? []) {
      if ((INTENTS as readonly string[]).includes(intent)) triggers.intents.push(intent);
      else
        this.error(
          this.lineOf(fields?.get('intents')?.key),
          `triggers.intents: ${intent} is not an intent opsbot knows`,
        );
    }
    return triggers;
  }

  private steps(
    entry: Entry | undefined,
    root: Node,
    parameters: ParameterSchema | undefined,
  ): StepDefinition[] | undefined {
    if (!entry) return this.missing(root, 'steps');
    if (!entry.value || !isSeq(entry.value) || entry.value.items.length === 0) {
      return this.error(this.lineOf(entry.key), 'steps must be a list of at least one step');
    }
    const steps: StepDefinition[] = [];
    const seen = new Map<string, number>();
    for (const item of entry.value.items as Node[]) {
      const line = this.lineOf(item);
      const fields = this.fields(item, 'a step', STEP_FIELDS);
      if (!fields) continue;
      const id = this.id(fields, item, 'a step');
      const where = `step ${id ?? `at line ${line}`}`;
      // A step's inputs may use earlier steps' outputs; its compensation also its own, since it runs after.
      const earlier = [...seen.keys()];
      if (id !== undefined && seen.has(id)) {
        this.error(
          line,
          `step id ${id} is used twice (first at line ${seen.get(id)}); step ids must be unique`,
        );
      } else if (id !== undefined) seen.set(id, line);

      const call = this.call(fields, item, where);
      const title = this.text(fields.get('title'), `${where}: title`);
      const mutating = this.mutating(fields.get('mutating'), call?.action, where);
      const timeoutMs =
        this.durationMs(fields.get('timeout'), `${where}: timeout`) ?? DEFAULT_STEP_TIMEOUT_MS;
      const retries = this.count(fields.get('retries'), `${where}: retries`, 0, MAX_RETRIES);
      const compensation = fields.get('compensation');
      const undo = compensation && this.compensation(compensation, `${where}: compensation`);
      if (call) this.checkTemplates(call.with, line, where, parameters, earlier);
      if (undo && compensation) {
        this.checkTemplates(undo.with, this.lineOf(compensation.key), `${where}: compensation`, parameters, [
          ...earlier,
          ...(id === undefined ? [] : [id]),
        ]);
      }
      if (id === undefined || !call) continue;
      steps.push({
        id,
        ...(title === undefined ? {} : { title }),
        action: call.action,
        with: call.with,
        mutating,
        ...(undo ? { undo } : {}),
        timeoutMs,
        retry:
          retries === undefined
            ? { ...DEFAULT_STEP_RETRY }
            : { ...DEFAULT_STEP_RETRY, maxAttempts: retries + 1 },
        line,
      });
    }
    return steps;
  }

  /** Said, or the action's default; a step may raise it, never lower it. Unknown: mutating, to be safe. */
  private mutating(entry: Entry | undefined, action: string | undefined, where: string): boolean {
    const said = this.boolean(entry, `${where}: mutating`);
    const byDefault = action === undefined ? undefined : actionShape(this.actions, action)?.mutating;
    if (said === false && byDefault === true && entry) {
      this.error(
        this.lineOf(entry.key),
        `${where}: mutating: false, but ${action} changes things; a step may raise mutating, not lower it`,
      );
    }
    return said ?? byDefault ?? true;
  }

  private compensation(entry: Entry, where: string): ActionCall | undefined {
    const fields = this.fields(entry.value, where, COMPENSATION_FIELDS, entry.key);
    return fields && entry.value ? this.call(fields, entry.value, where) : undefined;
  }

  private call(fields: Map<string, Entry>, node: Node, where: string): ActionCall | undefined {
    const action = this.text(fields.get('action'), `${where}: action`);
    if (action === undefined) {
      if (!fields.has('action')) this.error(this.lineOf(node), `${where} needs an action (http, event, …)`);
      return undefined;
    }
    if (this.actions && !actionShape(this.actions, action)) {
      const known = actionNames(this.actions).join(', ');
      this.error(
        this.lineOf(fields.get('action')?.key),
        `${where}: unknown action ${action} (known: ${known})`,
      );
    }
    const inputs = fields.get('with');
    if (!inputs) return { action, with: {} };
    if (!inputs.value || !isMap(inputs.value)) {
      return this.error(this.lineOf(inputs.key), `${where}: with must be a mapping of the action's inputs`);
    }
    return { action, with: inputs.value.toJS(this.doc) as Record<string, unknown> };
  }

  /**
   * Every template must name a declared parameter, an earlier step (or, in a compensation, its own step) or
   * a field of the run: anything else would only fail in the middle of a run, with money already charged.
   */
  private checkTemplates(
    inputs: Record<string, unknown>,
    line: number,
    where: string,
    parameters: ParameterSchema | undefined,
    reachable: string[],
  ): void {
    for (const reference of templateReferences(inputs)) {
      const [root, name] = reference.split('.');
      const shown = `{{ ${reference} }}`;
      if (root === 'params') {
        if (parameters && (name === undefined || !(name in parameters.properties))) {
          this.error(line, `${where}: ${shown} names no parameter declared under parameters.properties`);
        }
      } else if (root === 'steps') {
        if (name === undefined || !reachable.includes(name)) {
          this.error(line, `${where}: ${shown} refers to ${name ?? 'no step'}, which is not an earlier step`);
        }
      } else if (root === 'run') {
        if (name === undefined || !RUN_FIELDS.has(name)) {
          this.error(line, `${where}: ${shown}: a run offers ${[...RUN_FIELDS].join(', ')}`);
        }
      } else {
        this.error(line, `${where}: ${shown}: saga templates start with params, steps or run`);
      }
    }
  }

  /** The mapping's entries by key; unknown keys are errors on their own line. */
  private fields(
    node: Node | null,
    what: string,
    allowed: readonly string[],
    keyOfNode?: Scalar,
  ): Map<string, Entry> | undefined {
    if (!node || !isMap(node)) {
      return this.error(this.lineOf(keyOfNode ?? node), `${what} must be a mapping`);
    }
    const fields = new Map<string, Entry>();
    for (const pair of node.items) {
      const key = pair.key as Node;
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.error(this.lineOf(key), `${what}: keys must be plain words`);
        continue;
      }
      if (!allowed.includes(key.value)) {
        this.error(this.lineOf(key), `${what}: unknown field ${key.value} (known: ${allowed.join(', ')})`);
        continue;
      }
      fields.set(key.value, { key, value: (pair.value as Node | null) ?? null });
    }
    return fields;
  }

  private id(fields: Map<string, Entry>, node: Node, what: string): string | undefined {
    const entry = fields.get('id');
    const id = this.text(entry, 'id');
    if (!entry) return this.error(this.lineOf(node), `${what} needs an id`);
    if (id !== undefined && !KEBAB_ID.test(id)) {
      return this.error(this.lineOf(entry.key), `id ${id} must be kebab-case (lower-case words joined by -)`);
    }
    return id;
  }

  private text(entry: Entry | undefined, what: string): string | undefined {
    if (!entry) return undefined;
    const value = scalarValue(entry.value);
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    return this.error(this.lineOf(entry.key), `${what} must be a non-empty text`);
  }

  private boolean(entry: Entry | undefined, what: string): boolean | undefined {
    if (!entry) return undefined;
    const value = scalarValue(entry.value);
    if (typeof value === 'boolean') return value;
    return this.error(this.lineOf(entry.key), `${what} must be true or false`);
  }

  private count(
    entry: Entry | undefined,
    what: string,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined {
    if (!entry) return undefined;
    const value = scalarValue(entry.value);
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    return this.error(
      this.lineOf(entry.key),
      `${what} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`,
    );
  }

  private stringList(entry: Entry | undefined, what: string): string[] | undefined {
    if (!entry) return undefined;
    const list =
      entry.value && isSeq(entry.value)
        ? entry.value.items.map((item) => scalarValue(item as Node))
        : undefined;
    if (list && list.every((item): item is string => typeof item === 'string' && item !== '')) return list;
    return this.error(this.lineOf(entry.key), `${what} must be a list of names`);
  }

  /** "10s", "500ms", "2m", "1h", "1d", or a bare number of seconds. */
  private durationMs(entry: Entry | undefined, what: string): number | undefined {
    if (!entry) return undefined;
    const value = scalarValue(entry.value);
    const match = typeof value === 'string' ? DURATION.exec(value.trim()) : undefined;
    const ms =
      typeof value === 'number'
        ? value * 1000
        : match
          ? Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0)
          : NaN;
    if (Number.isFinite(ms) && ms > 0) return Math.round(ms);
    return this.error(this.lineOf(entry.key), `${what} must be a duration such as 10s, 500ms, 2m or 1h`);
  }

  private missing(node: Node, field: string): undefined {
    return this.error(this.lineOf(node), `the saga needs ${field}`);
  }

  /** Records the problem; returns undefined so a reader can `return this.error(…)` for "no value". */
  private error(line: number, message: string): undefined {
    this.problems.push({ file: this.file, line, message, severity: 'error' });
    return undefined;
  }

  private lineOf(node: Node | null | undefined): number {
    return node?.range ? this.lineOfOffset(node.range[0]) : 1;
  }

  private lineOfOffset(offset: number): number {
    return this.lines.linePos(offset).line;
  }
}

function scalarValue(node: Node | null | undefined): unknown {
  return node && isScalar(node) ? node.value : undefined;
}
