import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import { INTENTS } from '../../../bot/nlu/intents';
import { templateReferences } from '../templates';
import type { WorkflowDefinition } from '../workflow';
import { compareProblems, type LintProblem } from './lint-problem';
import {
  actionNames,
  actionShape,
  describeSchemaError,
  readRunbook,
  type ActionCatalog,
  type ActionShape,
  type RunbookSource,
  type StepBlock,
  type UndoBlock,
  type YamlPath,
} from './runbook-parser';

export interface LintOptions {
  /** Today, for the last_reviewed check. */
  now?: Date;
}

export interface LintResult {
  /** The runbooks with no errors, in file order: what the orchestrator can run. */
  definitions: WorkflowDefinition[];
  /** Errors and warnings of every file, in file and line order. */
  problems: LintProblem[];
}

/** The sections every runbook has, in this order. */
const RUNBOOK_SECTIONS = ['Symptoms', 'Diagnose', 'Remediate', 'Verify', 'Rollback'];
/** Where steps belong: they run in file order, and a step under Rollback would run forwards. */
const STEP_SECTIONS = ['Diagnose', 'Remediate', 'Verify'];
const RUN_FIELDS = ['id', 'correlationId', 'actor'];
const REVIEW_MAX_AGE_MS = 365 * 86_400_000;
const TEMPLATE = /\{\{\s*([^{}]+?)\s*\}\}/g;

/** Action input schemas are the actions' own: lint checks runbooks against them, not their style. */
const ajv = new Ajv2020({ strict: false, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
const validators = new WeakMap<object, ValidateFunction>();

/**
 * Reads every `*.md` runbook under `dir` (README.md aside) and reports what would keep each from running as
 * intended: everything the parser finds, plus unknown actions, inputs their action refuses (a template stands
 * for any value), templates naming unknown parameters or later steps, duplicate ids across files, and warnings
 * for missing sections and owners, stale reviews, and mutating steps with no way back. File names (and each
 * definition's `source`) are relative to `relativeTo`, by default the folder that holds `dir`. Throws only
 * when `dir` does not exist.
 */
export function lintRunbooks(
  dir: string,
  actions: ActionCatalog,
  relativeTo: string = path.dirname(path.resolve(dir)),
  options: LintOptions = {},
): LintResult {
  if (!existsSync(dir)) throw new OpsbotError(ErrorCode.NotFound, `no runbooks folder at ${dir}`);
  const now = options.now ?? new Date();
  const sources = markdownFiles(dir).map((file) => {
    const name = path.relative(relativeTo, file).split(path.sep).join('/');
    return lintSource(readRunbook(readFileSync(file, 'utf8'), name, actions), actions, now);
  });
  checkAcrossFiles(sources);
  return {
    definitions: sources.flatMap((source) =>
      source.definition && !source.problems.some((p) => p.severity === 'error') ? [source.definition] : [],
    ),
    problems: sources.flatMap((source) => source.problems).sort(compareProblems),
  };
}

/** Runbooks may sit in subfolders; README.md describes a folder, and dot folders are tools' own. */
function markdownFiles(dir: string): string[] {
  const hidden = (file: string) =>
    path
      .relative(dir, file)
      .split(path.sep)
      .some((part) => part.startsWith('.'));
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(
      (entry) => entry.isFile() && entry.name.endsWith('.md') && entry.name.toLowerCase() !== 'readme.md',
    )
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !hidden(file))
    .sort();
}

function lintSource(source: RunbookSource, actions: ActionCatalog, now: Date): RunbookSource {
  const report = (line: number, message: string, extra: Partial<LintProblem> = {}) =>
    source.problems.push({ file: source.file, line, message, severity: 'error', ...extra });
  const known = actionNames(actions);
  const usedUndos = new Set<string>();

  source.steps.forEach((block, index) => {
    const label = { kind: 'step' as const, id: block.id };
    const action = actionShape(actions, block.action);
    if (!action) {
      report(block.line, `unknown action '${block.action}' (known: ${known.join(', ')})`, { block: label });
    } else {
      if (block.mutatingAttribute === false && action.mutating) {
        report(
          block.line,
          `mutating=false: ${block.action} changes things; a step may raise mutating, not lower it`,
          {
            block: label,
          },
        );
      }
      checkInputs(block, action, report);
    }
    // An unknown action counts as mutating; lint has already said it is unknown.
    if (block.step.continueOnError && block.step.mutating && (action || block.mutatingAttribute)) {
      report(
        block.line,
        'continue_on_error=true is for steps that change nothing: a failed change must stop the run and undo what came before',
        { block: label },
      );
    }
    const earlier = source.steps.slice(0, index).map((s) => s.id);
    checkTemplates(block, block.inputs, { source, allowedSteps: earlier, within: 'step' }, report);
    const undo = source.undos.find((u) => u.id === block.undo);
    if (undo) {
      usedUndos.add(undo.id);
      // An undo runs after its step: it may use that step's output, as a scale-back uses `output.from`.
      checkTemplates(
        undo,
        undo.inputs,
        { source, allowedSteps: [...earlier, block.id], within: 'undo' },
        report,
      );
    }
  });

  for (const undo of source.undos) {
    const label = { kind: 'undo' as const, id: undo.id };
    const action = actionShape(actions, undo.action);
    if (!action)
      report(undo.line, `unknown action '${undo.action}' (known: ${known.join(', ')})`, { block: label });
    else checkInputs(undo, action, report);
    if (!usedUndos.has(undo.id)) {
      report(undo.line, `no step names this undo block (undo=${undo.id})`, {
        block: label,
        severity: 'warning',
      });
    }
  }

  checkParameterDefaults(source, report);
  checkFrontMatter(source, now, report);
  checkSections(source, report);
  // An undo used by several steps is checked with each; its problems are reported once.
  const seen = new Set<string>();
  source.problems = source.problems.filter((problem) => {
    const key = `${problem.line}\0${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return source;
}

type Report = (line: number, message: string, extra?: Partial<LintProblem>) => void;

function checkInputs(block: StepBlock | UndoBlock, action: ActionShape, report: Report): void {
  const validate = validatorFor(action);
  if (validate(block.inputs)) return;
  const isTemplate = (pointer: string) => isWholeTemplate(valueAt(block.inputs, pointer));
  for (const error of significantErrors(validate.errors ?? [], isTemplate)) {
    // About the inputs as a whole (a missing one): the fence line names the step.
    const line = error.instancePath === '' ? block.line : block.lineOf(pointerPath(error.instancePath));
    report(line, describeFailure(error, validate.errors ?? [], isTemplate), {
      block: { kind: block.kind, id: block.id },
    });
  }
}

function validatorFor(action: ActionShape): ValidateFunction {
  const schema = action.inputSchema as object;
  let validate = validators.get(schema);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      throw new OpsbotError(
        ErrorCode.Internal,
        `an action's input schema does not compile: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    validators.set(schema, validate);
  }
  return validate;
}

const isCombinator = (error: ErrorObject) => error.keyword === 'anyOf' || error.keyword === 'oneOf';
const isUnder = (error: ErrorObject, combinator: ErrorObject) =>
  error !== combinator && error.schemaPath.startsWith(`${combinator.schemaPath}/`);

/**
 * The errors that remain once every template is taken to be a fitting value: errors about a templated value
 * go, and a oneOf/anyOf goes when one of its branches then holds.
 */
function significantErrors(errors: ErrorObject[], isTemplate: (pointer: string) => boolean): ErrorObject[] {
  const combinators = errors.filter(isCombinator);
  const outermost = errors.filter((error) => !combinators.some((c) => isUnder(error, c)));
  return outermost.filter((error) => {
    if (!isCombinator(error)) return !isTemplate(error.instancePath);
    if (error.keyword === 'oneOf' && error.params.passingSchemas) return true;
    return branchesOf(error, errors).every((branch) => significantErrors(branch, isTemplate).length > 0);
  });
}

/** The failing branches of a oneOf/anyOf, each as its errors. */
function branchesOf(combinator: ErrorObject, errors: ErrorObject[]): ErrorObject[][] {
  const branches = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    if (!isUnder(error, combinator)) continue;
    const index = error.schemaPath.slice(combinator.schemaPath.length + 1).split('/')[0] as string;
    branches.set(index, [...(branches.get(index) ?? []), error]);
  }
  return [...branches.values()];
}

/** One error as people read it; a failed oneOf/anyOf lists what each alternative lacks. */
function describeFailure(
  error: ErrorObject,
  errors: ErrorObject[],
  isTemplate: (pointer: string) => boolean,
): string {
  if (!isCombinator(error) || error.params.passingSchemas) return describeSchemaError(error, 'inputs');
  const alternatives = branchesOf(error, errors).map((branch) => {
    const remaining = significantErrors(branch, isTemplate);
    const missing = remaining.filter(
      (e) => e.keyword === 'required' && e.instancePath === error.instancePath,
    );
    const others = remaining.filter((e) => !missing.includes(e)).map((e) => describeSchemaError(e, 'inputs'));
    const needs =
      missing.length > 0 ? [`needs ${missing.map((e) => String(e.params.missingProperty)).join(', ')}`] : [];
    return [...needs, ...others].join('; ');
  });
  return `${describeSchemaError({ ...error, message: 'one of these must hold' }, 'inputs')}: ${alternatives.join(', or ')}`;
}

function pointerPath(pointer: string): YamlPath {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const key of pointerPath(pointer)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function isWholeTemplate(value: unknown): boolean {
  return typeof value === 'string' && /^\{\{[^{}]+\}\}$/.test(value.trim());
}

interface TemplateContext {
  source: RunbookSource;
  /** Steps whose output exists when this runs. */
  allowedSteps: string[];
  within: 'step' | 'undo' | 'default';
}

/** Every template in `value`, checked against the parameters, the steps that ran before, and the run. */
function checkTemplates(
  block: StepBlock | UndoBlock | undefined,
  value: unknown,
  context: TemplateContext,
  report: Report,
  at: YamlPath = [],
): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkTemplates(block, item, context, report, [...at, i]));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value))
      checkTemplates(block, item, context, report, [...at, key]);
    return;
  }
  if (typeof value !== 'string') return;
  const line = block ? block.lineOf(at) : context.source.frontMatterLine(at);
  const extra: Partial<LintProblem> = block ? { block: { kind: block.kind, id: block.id } } : {};
  const leftover = value.replace(TEMPLATE, '');
  if (leftover.includes('{{') || leftover.includes('}}')) {
    report(line, `'${value}': a template is not closed ({{ name }})`, extra);
  }
  for (const expression of templateReferences(value)) {
    const problem = referenceProblem(expression, context);
    if (problem)
      report(line, `{{ ${expression} }}: ${problem.message}`, { ...extra, severity: problem.severity });
  }
}

function referenceProblem(
  expression: string,
  { source, allowedSteps, within }: TemplateContext,
): { message: string; severity: LintProblem['severity'] } | undefined {
  const [root, name, field] = expression.split('.');
  const error = (message: string) => ({ message, severity: 'error' as const });
  if (within === 'default' && root !== 'alert') {
    return error('a parameter default may only use the alert: {{ alert.labels.<name> }}');
  }
  switch (root) {
    case 'params': {
      const properties = Object.keys(source.parameters?.properties ?? {});
      if (name === undefined) return error('a parameter is referred to as params.<name>');
      // Without a schema that compiles, the parser has reported it; naming every parameter here would be noise.
      if (!source.parameters || properties.includes(name)) return undefined;
      return error(`no parameter ${name} (parameters: ${properties.join(', ') || 'none'})`);
    }
    case 'steps': {
      if (name === undefined || field !== 'output')
        return error('a step is referred to as steps.<id>.output.<path>');
      if (allowedSteps.includes(name)) return undefined;
      if (!source.steps.some((s) => s.id === name)) return error(`no step ${name}`);
      return error(
        within === 'undo'
          ? `step ${name} runs after the step this undoes`
          : `step ${name} has not run yet when this step runs`,
      );
    }
    case 'run':
      return name !== undefined && RUN_FIELDS.includes(name)
        ? undefined
        : error(`a run has ${RUN_FIELDS.map((f) => `run.${f}`).join(', ')}`);
    case 'alert':
      if ((name !== 'labels' && name !== 'annotations') || field === undefined) {
        return error('an alert has labels.<name> and annotations.<name>');
      }
      if (within === 'default') return undefined;
      return {
        message: 'has no value when a person starts the run; use a parameter whose default it is',
        severity: 'warning',
      };
    default:
      return error('templates start with params, steps, run or alert');
  }
}

function checkParameterDefaults(source: RunbookSource, report: Report): void {
  for (const [name, property] of Object.entries(source.parameters?.properties ?? {})) {
    if (typeof property !== 'object' || property === null || !('default' in property)) continue;
    checkTemplates(undefined, property.default, { source, allowedSteps: [], within: 'default' }, report, [
      'parameters',
      'properties',
      name,
      'default',
    ]);
  }
}

function checkFrontMatter(source: RunbookSource, now: Date, report: Report): void {
  const fields = source.frontMatter;
  if (!fields) return;
  const warn = (pathInYaml: YamlPath, message: string) =>
    report(source.frontMatterLine(pathInYaml), message, { severity: 'warning' });
  if (fields.owner === undefined) warn([], 'owner: missing; name the team that keeps this runbook');
  if (fields.last_reviewed === undefined)
    warn([], 'last_reviewed: missing; write the date it was last checked');
  const reviewed =
    source.definition?.lastReviewed ??
    (typeof fields.last_reviewed === 'string' ? fields.last_reviewed : undefined);
  const reviewedAt = reviewed === undefined ? NaN : Date.parse(`${reviewed}T00:00:00Z`);
  if (now.getTime() - reviewedAt > REVIEW_MAX_AGE_MS) {
    warn(
      ['last_reviewed'],
      `last_reviewed: ${reviewed} is more than a year ago; check the runbook still holds`,
    );
  }
  if (fields.alerts !== undefined) {
    warn(['alerts'], 'alerts: only search reads this list; alerts start runbooks through triggers.alerts');
  }
  const intents = (fields.triggers as { intents?: unknown } | undefined)?.intents;
  (Array.isArray(intents) ? intents : []).forEach((intent, i) => {
    if (typeof intent === 'string' && !(INTENTS as readonly string[]).includes(intent)) {
      report(
        source.frontMatterLine(['triggers', 'intents', i]),
        `triggers.intents: unknown intent '${intent}'`,
      );
    }
  });
}

function checkSections(source: RunbookSource, report: Report): void {
  const titled = (title: string) =>
    source.sections.find((s) => s.title.toLowerCase() === title.toLowerCase());
  const missing = RUNBOOK_SECTIONS.filter((title) => !titled(title));
  if (missing.length > 0) {
    report(1, `missing section${missing.length > 1 ? 's' : ''} ${missing.map((t) => `## ${t}`).join(', ')}`, {
      severity: 'warning',
    });
  }
  for (const block of source.steps) {
    if (!STEP_SECTIONS.some((title) => title.toLowerCase() === block.section?.toLowerCase())) {
      report(
        block.line,
        `is under ${block.section ? `## ${block.section}` : 'no section'}; steps run in file order and belong in ${STEP_SECTIONS.map((t) => `## ${t}`).join(', ')}`,
        { block: { kind: 'step', id: block.id }, severity: 'warning' },
      );
    }
  }
  const rollback = titled('Rollback');
  if (rollback && !rollback.empty) return;
  for (const block of source.steps) {
    if (block.step.mutating && !block.step.undo) {
      report(
        block.line,
        'changes things, has no undo, and the Rollback section is empty: say how to go back',
        {
          block: { kind: 'step', id: block.id },
          severity: 'warning',
        },
      );
    }
  }
}

/** Runbook ids are how chat, alerts and the API name a runbook: two files may not share one. */
function checkAcrossFiles(sources: RunbookSource[]): void {
  const firstWithId = new Map<string, RunbookSource>();
  const intentOwners = new Map<string, string>();
  for (const source of sources) {
    const id = source.frontMatter?.id;
    if (typeof id !== 'string') continue;
    const first = firstWithId.get(id);
    if (first) {
      source.problems.push({
        file: source.file,
        line: source.frontMatterLine(['id']),
        message: `id '${id}' is already the id of ${first.file}`,
        severity: 'error',
      });
      continue;
    }
    firstWithId.set(id, source);
    source.definition?.triggers.intents.forEach((intent, i) => {
      const owner = intentOwners.get(intent);
      if (owner) {
        source.problems.push({
          file: source.file,
          line: source.frontMatterLine(['triggers', 'intents', i]),
          message: `triggers.intents: '${intent}' already starts ${owner}`,
          severity: 'warning',
        });
      } else intentOwners.set(intent, id);
    });
  }
}
