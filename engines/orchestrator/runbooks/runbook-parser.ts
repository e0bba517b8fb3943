import type { ErrorObject } from 'ajv/dist/2020';
import {
  isCollection,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
} from 'yaml';
import type { Action, ActionRegistry } from '../action';
import { APPROVAL_INPUT_SCHEMA } from '../actions/approval-inputs';
import {
  APPROVAL_FIELDS,
  compileSchema,
  defaultPolicy,
  isRecord,
  parseDuration,
  POLICY_FIELDS,
  RISK_LEVELS,
  riskLevel,
} from '../definition-fields';
import { APPROVAL_ACTION } from '../run-planner';
import { containsTemplate } from '../templates';
import {
  DEFAULT_STEP_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  type LabelMatcher,
  type ParameterSchema,
  type RunPolicy,
  type StepDefinition,
  type Triggers,
  type WorkflowDefinition,
} from '../workflow';
import { CronError, parseCron } from './cron';
import { LabelMatcherError, parseMatchers } from './label-matchers';
import type { LintProblem } from './lint-problem';

/** What the parser and lint need of an action: its input schema and whether it changes anything. */
export type ActionShape = Pick<Action, 'inputSchema' | 'mutating'>;

/** The real ActionRegistry at run time; a plain map where no actions are loaded (tests, tools). */
export type ActionCatalog = ActionRegistry | ReadonlyMap<string, ActionShape>;

/** Steps the executor runs itself rather than through the registry. */
const BUILT_IN_ACTIONS: ReadonlyMap<string, ActionShape> = new Map([
  [APPROVAL_ACTION, { inputSchema: APPROVAL_INPUT_SCHEMA, mutating: false }],
]);

/** An action's shape from the catalog, or the executor's own for an approval step. */
export function actionShape(actions: ActionCatalog | undefined, name: string): ActionShape | undefined {
  return actions?.get(name) ?? BUILT_IN_ACTIONS.get(name);
}

/** Every action name a step may use, sorted. */
export function actionNames(actions: ActionCatalog): string[] {
  const names = 'names' in actions ? actions.names() : [...actions.keys()];
  return [...new Set([...names, ...BUILT_IN_ACTIONS.keys()])].sort();
}

/**
 * A step as runbooks define it: a StepDefinition, plus `continueOnError` for a diagnostic step whose failure is
 * recorded without stopping the run (`continue_on_error=true`). Until StepDefinition has the field itself.
 */
export type RunbookStep = StepDefinition & { continueOnError?: boolean };

/** A path into YAML: keys and list indexes. */
export type YamlPath = readonly (string | number)[];

interface FencedBlock {
  id: string;
  action: string;
  /** The line of the opening fence. */
  line: number;
  /** The `##` section it is written in; undefined above the first one. */
  section?: string;
  inputs: Record<string, unknown>;
  /** The line in the file of the input at `path`, or of the nearest part of it that exists. */
  lineOf(path: YamlPath): number;
}

export interface StepBlock extends FencedBlock {
  kind: 'step';
  /** `mutating=` as written; the step's value falls back to the action's. */
  mutatingAttribute?: boolean;
  /** The `undo=` attribute as written, resolved or not. */
  undo?: string;
  step: RunbookStep;
}

export interface UndoBlock extends FencedBlock {
  kind: 'undo';
}

export interface RunbookSection {
  title: string;
  line: number;
  /** Nothing but blank lines under it. */
  empty: boolean;
}

/** Everything read from one runbook file: the definition when it is sound, and the parts lint checks further. */
export interface RunbookSource {
  file: string;
  /** The front matter as YAML gives it; undefined when there is none or it does not parse. */
  frontMatter?: Record<string, unknown>;
  /** The line of a front matter field (`['policy', 'approval', 'ttl']`), or of the nearest part that exists. */
  frontMatterLine(path: YamlPath): number;
  /** Set when the parameter schema compiles. */
  parameters?: ParameterSchema;
  sections: RunbookSection[];
  steps: StepBlock[];
  undos: UndoBlock[];
  problems: LintProblem[];
  /** Absent when any problem is an error. */
  definition?: WorkflowDefinition;
}

const RUNBOOK_ID = /^[a-z0-9][a-z0-9-]*$/;
const BLOCK_ID = /^[a-z0-9][a-z0-9-]*$/;
const FRONT_MATTER_FIELDS = [
  'id',
  'title',
  'description',
  'owner',
  'last_reviewed',
  'triggers',
  'parameters',
  'policy',
  // Read by search only.
  'services',
  'tags',
  'kind',
  'alerts',
];
const STEP_ATTRIBUTES = [
  'id',
  'action',
  'title',
  'mutating',
  'timeout',
  'retries',
  'undo',
  'continue_on_error',
];
const UNDO_ATTRIBUTES = ['id', 'action'];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$/;
/** Any indentation: a step may sit in a list item. */
const FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const ATTRIBUTE = /\s*([A-Za-z_][\w-]*)=(?:"([^"]*)"|'([^']*)'|([^\s"'=]+))/y;

/** The definition a runbook file describes, or the problems that keep it from being one. Never throws. */
export function parseRunbook(
  text: string,
  file: string,
  actions?: ActionCatalog,
): { definition?: WorkflowDefinition; problems: LintProblem[] } {
  const { definition, problems } = readRunbook(text, file, actions);
  return definition ? { definition, problems } : { problems };
}

/**
 * Reads a runbook: YAML front matter, `##` sections, and fenced ```` ```step ```` and ```` ```undo ```` blocks
 * (runbooks/README.md describes the format). Checks what one file can say about itself; lint adds what needs
 * the actions and the other runbooks. `actions` gives steps that do not say `mutating=` their action's
 * default; without it, such steps count as mutating. Never throws on what the file contains.
 */
export function readRunbook(text: string, file: string, actions?: ActionCatalog): RunbookSource {
  return new RunbookReader(text, file, actions).read();
}

/** `data.method: must be equal to one of the allowed values (GET, POST)` from an ajv error. */
export function describeSchemaError(error: ErrorObject, root: string): string {
  const where = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
  let detail = '';
  if (error.keyword === 'enum') detail = ` (${(error.params.allowedValues as unknown[]).join(', ')})`;
  if (error.keyword === 'additionalProperties') detail = ` (${String(error.params.additionalProperty)})`;
  return `${root}${where}: ${error.message ?? error.keyword}${detail}`;
}

export { parseDuration } from '../definition-fields';

interface ParsedYaml {
  /** False when it has errors (reported). */
  ok: boolean;
  value?: unknown;
  lineOf(path: YamlPath): number;
}

class RunbookReader {
  private readonly lines: string[];
  private readonly problems: LintProblem[] = [];
  private readonly sections: RunbookSection[] = [];
  private readonly steps: StepBlock[] = [];
  private readonly undos: UndoBlock[] = [];
  private readonly blockLines = new Map<string, number>();
  private frontMatterLine: (path: YamlPath) => number = () => 1;

  constructor(
    text: string,
    private readonly file: string,
    private readonly actions: ActionCatalog | undefined,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  read(): RunbookSource {
    const { fields, bodyStart } = this.readFrontMatter();
    this.readBody(bodyStart);
    this.resolveUndos();
    const parts = fields && this.readFields(fields);
    const source: RunbookSource = {
      file: this.file,
      frontMatter: fields,
      frontMatterLine: this.frontMatterLine,
      parameters: parts?.parameters,
      sections: this.sections,
      steps: this.steps,
      undos: this.undos,
      problems: this.problems,
    };
    if (parts?.definition && !this.problems.some((p) => p.severity === 'error'))
      source.definition = parts.definition;
    return source;
  }

  private report(
    line: number,
    message: string,
    options: Pick<LintProblem, 'block'> & { warning?: boolean } = {},
  ) {
    this.problems.push({
      file: this.file,
      line,
      ...(options.block && { block: options.block }),
      message,
      severity: options.warning ? 'warning' : 'error',
    });
  }

  private readFrontMatter(): { fields?: Record<string, unknown>; bodyStart: number } {
    if (this.lines[0]?.trimEnd() !== '---') {
      this.report(1, 'a runbook starts with YAML front matter between --- lines');
      return { bodyStart: 0 };
    }
    const close = this.lines.findIndex((line, i) => i > 0 && line.trimEnd() === '---');
    if (close < 0) {
      this.report(1, 'the front matter is not closed by a --- line');
      return { bodyStart: this.lines.length };
    }
    const yaml = this.parseYaml(this.lines.slice(1, close).join('\n'), 1, 'the front matter');
    this.frontMatterLine = yaml.lineOf;
    if (!yaml.ok) return { bodyStart: close + 1 };
    if (!isRecord(yaml.value)) {
      this.report(2, 'the front matter must be a YAML map of fields');
      return { bodyStart: close + 1 };
    }
    return { fields: yaml.value, bodyStart: close + 1 };
  }

  /** YAML text that starts after file line `offset`. */
  private parseYaml(text: string, offset: number, what: string, block?: LintProblem['block']): ParsedYaml {
    const counter = new LineCounter();
    const doc = parseDocument(text, { lineCounter: counter });
    const lineOf = (path: YamlPath) => (lineIn(doc, counter, path) ?? 0) + offset;
    const fileLine = (pos: number) => counter.linePos(pos).line + offset;
    for (const error of doc.errors) {
      const reason = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
      this.report(fileLine(error.pos[0]), `invalid YAML in ${what}: ${reason}`, { block });
    }
    let unquotedTemplate = false;
    // Unquoted, `key: {{ params.x }}` is a map in a map, not a template: YAML needs the quotes.
    visit(doc, {
      Pair: (_, pair) => {
        if (isCollection(pair.key) && isNode(pair.key)) {
          unquotedTemplate = true;
          this.report(
            fileLine(pair.key.range?.[0] ?? 0),
            `put the templates in ${what} in quotes ("{{ ... }}"): unquoted, YAML reads them as maps`,
            { block },
          );
          return visit.BREAK;
        }
      },
    });
    if (doc.errors.length > 0 || unquotedTemplate) return { ok: false, lineOf };
    return { ok: true, value: doc.toJS(), lineOf };
  }

  private readBody(start: number): void {
    let section: RunbookSection | undefined;
    for (let i = start; i < this.lines.length; i++) {
      const line = this.lines[i] as string;
      const fence = FENCE.exec(line);
      if (fence && !(fence[2]?.startsWith('`') && fence[3]?.includes('`'))) {
        const [, indent, marks, info] = fence as unknown as [string, string, string, string];
        let close = i + 1;
        while (close < this.lines.length && !closesFence(this.lines[close] as string, marks)) close++;
        const kind = info.trim().split(/\s+/)[0];
        if (kind === 'step' || kind === 'undo') {
          if (close >= this.lines.length) this.report(i + 1, `the ${kind} block's fence is never closed`);
          else {
            const content = this.lines.slice(i + 1, close).map((text) => dedent(text, indent.length));
            this.readBlock(kind, info.trim().slice(kind.length), content, i + 1, section?.title);
          }
        }
        if (section) section.empty = false;
        i = close;
        continue;
      }
      const heading = HEADING.exec(line);
      if (heading && (heading[1] as string).length <= 2) {
        section = undefined;
        if ((heading[1] as string).length === 2) {
          section = { title: (heading[2] as string).trim(), line: i + 1, empty: true };
          this.sections.push(section);
        }
        continue;
      }
      if (section && line.trim() !== '') section.empty = false;
    }
  }

  private readBlock(
    kind: 'step' | 'undo',
    attributeText: string,
    content: string[],
    line: number,
    section: string | undefined,
  ): void {
    const attributes = this.readAttributes(attributeText, line, kind);
    if (!attributes) return;
    const id = attributes.get('id');
    const action = attributes.get('action');
    if (id === undefined || action === undefined) {
      this.report(
        line,
        `a ${kind} block needs id= and action=, as in \`\`\`${kind} id=restart action=restart`,
      );
      return;
    }
    const block = { kind, id };
    if (!BLOCK_ID.test(id)) {
      this.report(line, `id '${id}' may hold only lower-case letters, digits and -`, { block });
      return;
    }
    const allowed = kind === 'step' ? STEP_ATTRIBUTES : UNDO_ATTRIBUTES;
    const unknown = [...attributes.keys()].filter((name) => !allowed.includes(name));
    for (const name of unknown) {
      this.report(line, `unknown attribute '${name}' (${kind} blocks take ${allowed.join(', ')})`, { block });
    }
    const first = this.blockLines.get(id);
    if (first !== undefined) {
      this.report(line, `id '${id}' is already used by the block on line ${first}`, { block });
      return;
    }
    this.blockLines.set(id, line);
    const yaml = this.parseYaml(content.join('\n'), line, 'the inputs', block);
    if (!yaml.ok) return;
    const inputs = yaml.value ?? {};
    if (!isRecord(inputs)) {
      this.report(line + 1, 'the inputs must be a YAML map (name: value)', { block });
      return;
    }
    const fenced: FencedBlock = { id, action, line, section, inputs, lineOf: yaml.lineOf };
    if (kind === 'undo') {
      this.undos.push({ kind, ...fenced });
      return;
    }
    this.steps.push(this.readStepAttributes(attributes, fenced));
  }

  private readAttributes(text: string, line: number, kind: string): Map<string, string> | undefined {
    const attributes = new Map<string, string>();
    ATTRIBUTE.lastIndex = 0;
    let end = 0;
    let match: RegExpExecArray | null;
    while ((match = ATTRIBUTE.exec(text)) !== null) {
      end = ATTRIBUTE.lastIndex;
      const [, name, doubleQuoted, singleQuoted, bare] = match as unknown as [
        string,
        string,
        ...(string | undefined)[],
      ];
      if (attributes.has(name)) {
        this.report(line, `the ${kind} fence sets ${name} twice`);
        return undefined;
      }
      attributes.set(name, doubleQuoted ?? singleQuoted ?? bare ?? '');
    }
    const unread = text.slice(end).trim();
    if (unread !== '') {
      this.report(
        line,
        `cannot read '${unread}' in the ${kind} fence: attributes are name=value or name="a value"`,
      );
      return undefined;
    }
    return attributes;
  }

  /** A step even when an attribute is wrong (reported, and left at its default), so lint can check the rest. */
  private readStepAttributes(attributes: Map<string, string>, block: FencedBlock): StepBlock {
    const label = { kind: 'step' as const, id: block.id };
    const fail = (message: string) => this.report(block.line, message, { block: label });
    const bool = (name: string): boolean | undefined => {
      const value = attributes.get(name);
      if (value === undefined) return undefined;
      if (value === 'true' || value === 'false') return value === 'true';
      fail(`${name}=${value}: write ${name}=true or ${name}=false`);
      return undefined;
    };
    const mutating = bool('mutating');
    const continueOnError = bool('continue_on_error');
    let timeoutMs = DEFAULT_STEP_TIMEOUT_MS;
    const timeout = attributes.get('timeout');
    if (timeout !== undefined) {
      const ms = parseDuration(timeout);
      if (ms === undefined) fail(`timeout=${timeout}: write a duration such as 30s, 2m or 1h`);
      else timeoutMs = ms;
    }
    let maxAttempts = DEFAULT_STEP_RETRY.maxAttempts;
    const retries = attributes.get('retries');
    if (retries !== undefined) {
      if (!/^\d+$/.test(retries) || Number(retries) < 1)
        fail(`retries=${retries}: attempts in all, a whole number from 1`);
      else maxAttempts = Number(retries);
    }
    const title = attributes.get('title');
    const step: RunbookStep = {
      id: block.id,
      action: block.action,
      with: block.inputs,
      // Unknown (no catalog, or lint reports the name): counted as a change, the cautious reading.
      mutating: mutating ?? actionShape(this.actions, block.action)?.mutating ?? true,
      timeoutMs,
      retry: { ...DEFAULT_STEP_RETRY, maxAttempts },
      line: block.line,
      ...(title !== undefined && { title }),
      ...(continueOnError && { continueOnError }),
    };
    return { kind: 'step', ...block, mutatingAttribute: mutating, undo: attributes.get('undo'), step };
  }

  private resolveUndos(): void {
    for (const block of this.steps) {
      if (block.undo === undefined) continue;
      const undo = this.undos.find((candidate) => candidate.id === block.undo);
      if (undo) {
        // A copy: steps sharing an undo block must not share what the executor is handed.
        block.step.undo = { action: undo.action, with: structuredClone(undo.inputs) };
        continue;
      }
      const known = this.undos.map((candidate) => candidate.id);
      const hint = this.steps.some((s) => s.id === block.undo)
        ? `; ${block.undo} is a step, not an undo block`
        : '';
      this.report(
        block.line,
        `undo=${block.undo}: no \`\`\`undo block has that id (${known.length > 0 ? `undo blocks: ${known.join(', ')}` : 'there are none'})${hint}`,
        { block: { kind: 'step', id: block.id } },
      );
    }
  }

  private readFields(fields: Record<string, unknown>): {
    definition?: WorkflowDefinition;
    parameters?: ParameterSchema;
  } {
    const line = this.frontMatterLine;
    for (const name of Object.keys(fields)) {
      if (!FRONT_MATTER_FIELDS.includes(name)) {
        this.report(line([name]), `unknown front matter field '${name}'`, { warning: true });
      }
    }
    const id = this.requiredString(fields, 'id');
    if (id !== undefined && !RUNBOOK_ID.test(id)) {
      this.report(line(['id']), `id '${id}' may hold only lower-case letters, digits and -`);
    }
    const title = this.requiredString(fields, 'title');
    const description = this.requiredString(fields, 'description');
    const owner = this.optionalString(fields, 'owner');
    const lastReviewed = this.readDate(fields.last_reviewed);
    const triggers = this.readTriggers(fields.triggers);
    const policy = this.readPolicy(fields.policy);
    const parameters = this.readParameters(fields.parameters);
    if (id === undefined || title === undefined || description === undefined) return { parameters };
    if (!triggers || !policy || !parameters) return { parameters };
    const definition: WorkflowDefinition = {
      kind: 'runbook',
      id,
      title,
      description,
      ...(owner !== undefined && { owner }),
      ...(lastReviewed !== undefined && { lastReviewed }),
      source: this.file,
      parameters,
      policy,
      triggers,
      steps: this.steps.map((block) => block.step),
    };
    return { definition, parameters };
  }

  private requiredString(fields: Record<string, unknown>, name: string): string | undefined {
    const value = fields[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    this.report(
      this.frontMatterLine([name]),
      value === undefined ? `${name}: missing` : `${name}: must be text`,
    );
    return undefined;
  }

  private optionalString(fields: Record<string, unknown>, name: string): string | undefined {
    const value = fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    this.report(this.frontMatterLine([name]), `${name}: must be text`);
    return undefined;
  }

  private readDate(value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    const text = String(value);
    if (ISO_DATE.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`))) return text;
    this.report(
      this.frontMatterLine(['last_reviewed']),
      `last_reviewed: '${text}' is not a date like 2026-03-31`,
    );
    return undefined;
  }

  private readTriggers(value: unknown): Triggers | undefined {
    const triggers: Triggers = { alerts: [], intents: [], schedules: [] };
    if (value === undefined || value === null) return triggers;
    const line = (...path: (string | number)[]) => this.frontMatterLine(['triggers', ...path]);
    if (!isRecord(value)) {
      this.report(line(), 'triggers: must be a map of alerts, intents and schedules');
      return undefined;
    }
    let sound = this.onlyKnownKeys(value, ['alerts', 'intents', 'schedules'], ['triggers']);
    const alerts = this.list(value.alerts, ['triggers', 'alerts']);
    alerts?.forEach((rule, i) => {
      try {
        const matchers: LabelMatcher[] = parseMatchers(rule);
        if (matchers.length === 0) throw new LabelMatcherError('an empty rule would match every alert');
        triggers.alerts.push(matchers);
      } catch (err) {
        if (!(err instanceof LabelMatcherError)) throw err;
        this.report(line('alerts', i), `triggers.alerts[${i}]: ${err.message}`);
        sound = false;
      }
    });
    const intents = this.stringList(value.intents, ['triggers', 'intents']);
    const schedules = this.stringList(value.schedules, ['triggers', 'schedules']);
    schedules?.forEach((expression, i) => {
      try {
        parseCron(expression);
        triggers.schedules.push(expression);
      } catch (err) {
        if (!(err instanceof CronError)) throw err;
        this.report(line('schedules', i), `triggers.schedules[${i}]: ${err.message}`);
        sound = false;
      }
    });
    if (!alerts || !intents || !schedules || !sound) return undefined;
    triggers.intents = intents;
    return triggers;
  }

  private readPolicy(value: unknown): RunPolicy | undefined {
    const policy = defaultPolicy();
    if (value === undefined || value === null) return policy;
    const line = (...path: string[]) => this.frontMatterLine(['policy', ...path]);
    if (!isRecord(value)) {
      this.report(line(), 'policy: must be a map (roles, approval, auto_run, risk)');
      return undefined;
    }
    let sound = this.onlyKnownKeys(value, POLICY_FIELDS, ['policy']);
    const fail = (path: string[], message: string) => {
      this.report(line(...path), `policy.${path.join('.')}: ${message}`);
      sound = false;
    };
    const roles = this.stringList(value.roles, ['policy', 'roles']);
    if (roles) policy.roles = roles;
    else sound = false;
    if (value.auto_run !== undefined) {
      if (typeof value.auto_run === 'boolean') policy.autoRun = value.auto_run;
      else fail(['auto_run'], 'must be true or false');
    }
    if (value.risk !== undefined) {
      const risk = riskLevel(value.risk);
      if (risk) policy.risk = risk;
      else fail(['risk'], `must be one of ${RISK_LEVELS.join(', ')}`);
    }
    const approval = value.approval;
    if (approval !== undefined && approval !== null) {
      if (!isRecord(approval)) {
        fail(['approval'], 'must be a map (required, approvers, self_approval, ttl, roles)');
        return undefined;
      }
      sound = this.onlyKnownKeys(approval, APPROVAL_FIELDS, ['policy', 'approval']) && sound;
      const flag = (field: 'required' | 'self_approval'): boolean | undefined => {
        const flagValue = approval[field];
        if (flagValue === undefined || typeof flagValue === 'boolean') return flagValue;
        fail(['approval', field], 'must be true or false');
        return undefined;
      };
      // Writing an approval section asks for approval unless it says `required: false`.
      policy.approval.required = flag('required') ?? true;
      policy.approval.selfApproval = flag('self_approval') ?? policy.approval.selfApproval;
      if (approval.approvers !== undefined) {
        if (Number.isInteger(approval.approvers) && (approval.approvers as number) >= 1) {
          policy.approval.approvers = approval.approvers as number;
        } else fail(['approval', 'approvers'], 'must be a whole number from 1');
      }
      if (approval.ttl !== undefined) {
        const ms = typeof approval.ttl === 'string' ? parseDuration(approval.ttl) : undefined;
        if (ms !== undefined && ms % 1_000 === 0) policy.approval.ttlSeconds = ms / 1_000;
        else fail(['approval', 'ttl'], 'must be a duration in whole seconds, such as 30m or 1h');
      }
      const approverRoles = this.stringList(approval.roles, ['policy', 'approval', 'roles']);
      if (approverRoles) policy.approval.roles = approverRoles;
      else sound = false;
    }
    return sound ? policy : undefined;
  }

  private readParameters(value: unknown): ParameterSchema | undefined {
    if (value === undefined || value === null) return { type: 'object', properties: {} };
    const line = (...path: (string | number)[]) => this.frontMatterLine(['parameters', ...path]);
    if (!isRecord(value) || value.type !== 'object' || !isRecord(value.properties ?? {})) {
      this.report(line(), 'parameters: must be a JSON Schema with type: object and properties');
      return undefined;
    }
    const schema = { ...value, properties: value.properties ?? {} } as ParameterSchema;
    const unnamed = (schema.required ?? []).filter((name) => !(name in schema.properties));
    if (unnamed.length > 0) {
      this.report(line('required'), `parameters.required: ${unnamed.join(', ')} not among the properties`);
      return undefined;
    }
    const validate = compileSchema(schema);
    if (typeof validate === 'string') {
      this.report(line(), `parameters: ${validate}`);
      return undefined;
    }
    // A template default (`{{ alert.labels.service }}`) stands for any value: only literal defaults are checked.
    const defaults = Object.fromEntries(
      Object.entries(schema.properties).flatMap(([name, property]) =>
        isRecord(property) && 'default' in property && !containsTemplate(property.default)
          ? [[name, property.default]]
          : [],
      ),
    );
    validate(defaults);
    let sound = true;
    for (const error of validate.errors ?? []) {
      const name = error.instancePath.split('/')[1];
      if (name === undefined || !(name in defaults)) continue;
      this.report(
        line('properties', name, 'default'),
        `parameters: the default of ${describeSchemaError(error, '').replace(/^\./, '')}`,
      );
      sound = false;
    }
    return sound ? schema : undefined;
  }

  private onlyKnownKeys(value: Record<string, unknown>, known: readonly string[], path: string[]): boolean {
    const unknown = Object.keys(value).filter((key) => !known.includes(key));
    for (const key of unknown) {
      this.report(
        this.frontMatterLine([...path, key]),
        `${path.join('.')}: unknown field '${key}' (known: ${known.join(', ')})`,
      );
    }
    return unknown.length === 0;
  }

  private list(value: unknown, path: string[]): unknown[] | undefined {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value;
    this.report(this.frontMatterLine(path), `${path.join('.')}: must be a list`);
    return undefined;
  }

  private stringList(value: unknown, path: string[]): string[] | undefined {
    const items = this.list(value, path);
    if (!items) return undefined;
    const bad = items.findIndex((item) => typeof item !== 'string' || item.trim() === '');
    if (bad < 0) return items as string[];
    this.report(this.frontMatterLine([...path, bad]), `${path.join('.')}[${bad}]: must be text`);
    return undefined;
  }
}

/** The line (1-based, within the YAML text) of the deepest node on `path` that exists. */
function lineIn(doc: Document, counter: LineCounter, path: YamlPath): number | undefined {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range ? counter.linePos(node.range[0]).line : undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (!pair || !isNode(pair.key) || !pair.key.range) break;
      line = counter.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (!isNode(item) || !item.range) break;
      line = counter.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return line;
}

function closesFence(line: string, opening: string): boolean {
  const match = /^[ \t]*(`{3,}|~{3,})[ \t]*$/.exec(line);
  return !!match && match[1]?.[0] === opening[0] && (match[1] as string).length >= opening.length;
}

/** Strips up to `width` leading blanks: the indentation of a fence inside a list item. */
function dedent(line: string, width: number): string {
  let i = 0;
  while (i < width && (line[i] === ' ' || line[i] === '\t')) i++;
  return line.slice(i);
}
