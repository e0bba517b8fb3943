import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';

/** What went wrong where, so a caller (or an operator reading /readyz) can point at the file and field. */
export interface PredictorErrorDetails {
  /** The model or metadata file at fault. */
  file?: string;
  /** The metadata field at fault, dotted ("input.name", "labels"). */
  field?: string;
  /** The feature a prediction request got wrong. */
  feature?: string;
}

/**
 * Coded like every opsbot error: `ConfigInvalid` for a bad model or metadata file, `InvalidRequest` for bad
 * features, `NotFound` for a model that is not loaded.
 */
export class PredictorError extends OpsbotError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly details: PredictorErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'PredictorError';
  }
}

const MODEL_TASKS = ['classification', 'regression'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

const modelName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'must be letters, digits, ".", "_" and "-", starting with a letter or digit',
  );

// "Semver-ish": training pipelines write "3", "1.4" or "2.0.1-rc.1+sha.5e1f"; a "v" prefix or free text is a typo.
const version = z
  .string()
  .regex(
    /^\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$/,
    'must look like 1.2.3 (up to three numbers, optionally -prerelease or +build)',
  );

const onnxName = z.string().min(1);

const distinctNames = z.array(z.string().min(1)).superRefine((names, ctx) => {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i], message: `"${name}" is listed twice` });
    seen.add(name);
  });
});

const common = {
  name: modelName,
  version,
  input: z.strictObject({
    name: onnxName,
    /** Column order of the input tensor: features[i] goes to column i. */
    features: distinctNames.min(1, 'a model needs at least one feature'),
  }),
  metrics: z.record(z.string(), z.number()).default({}),
  trainedAt: z.iso.datetime({ offset: true }).optional(),
  dataHash: z.string().min(1).optional(),
  description: z.string().optional(),
};

const classificationSchema = z.strictObject({
  ...common,
  task: z.literal('classification'),
  outputs: z.strictObject({
    probabilities: onnxName,
    // Accepted so exported metadata can describe the whole model, but never read: see OnnxModel.
    label: onnxName.optional(),
  }),
  /** Class labels in the order of the probabilities output's columns. */
  labels: distinctNames.min(2, 'a classifier needs at least two labels'),
});

const regressionSchema = z.strictObject({
  ...common,
  task: z.literal('regression'),
  outputs: z.strictObject({ value: onnxName }),
});

const metadataSchema = z.discriminatedUnion('task', [classificationSchema, regressionSchema]);

export type ClassificationMetadata = z.output<typeof classificationSchema>;
export type RegressionMetadata = z.output<typeof regressionSchema>;
export type ModelMetadata = ClassificationMetadata | RegressionMetadata;
export type MetadataFor<T extends ModelTask> = Extract<ModelMetadata, { task: T }>;

/** `<name>.json` beside `<name>.onnx`. */
export function metadataPathFor(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/, '') + '.json';
}

export async function readModelMetadata(file: string): Promise<ModelMetadata> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PredictorError(
      ErrorCode.ConfigInvalid,
      `cannot read model metadata ${file}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  return parseModelMetadata(text, file);
}

/** `file` only names the source in errors. */
function parseModelMetadata(text: string, file: string): ModelMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PredictorError(
      ErrorCode.ConfigInvalid,
      `invalid model metadata in ${file}: not valid JSON: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  const parsed = metadataSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const [first] = parsed.error.issues;
  throw new PredictorError(
    ErrorCode.ConfigInvalid,
    `invalid model metadata in ${file}: ${parsed.error.issues.map(formatIssue).join('; ')}`,
    { file, field: first ? fieldOf(first) : undefined },
  );
}

/** An error about one metadata field that only the loaded model can reveal (an output that is not there). */
export function metadataFieldError(file: string, field: string, problem: string): PredictorError {
  return new PredictorError(
    ErrorCode.ConfigInvalid,
    `invalid model metadata in ${file}: ${field}: ${problem}`,
    {
      file,
      field,
    },
  );
}

function fieldOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return [...issue.path, issue.keys[0]].join('.');
  return issue.path.length > 0 ? issue.path.join('.') : '(top level)';
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const parent = issue.path.length > 0 ? issue.path.join('.') + '.' : '';
    return `${parent}${issue.keys.join(', ')}: unknown field`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
    return `${fieldOf(issue)}: is required`;
  if (issue.code === 'invalid_union' && issue.path.join('.') === 'task')
    return `task: must be one of ${MODEL_TASKS.join(', ')}`;
  return `${fieldOf(issue)}: ${issue.message}`;
}
