import Ajv2020 from 'ajv/dist/2020';
import { DEFAULT_POLICY, type ApprovalPolicy } from '../workflow';

/** What an `action: approval` step may say; everything it leaves out comes from the workflow's policy. */
export interface ApprovalInputs {
  approvers?: number;
  selfApproval?: boolean;
  ttlSeconds?: number;
  roles?: string[];
}

/** At most a week: an approval nobody acts on for longer is better asked again, with fresh facts. */
export const MAX_APPROVAL_TTL_SECONDS = 7 * 86_400;
export const MAX_APPROVERS = 10;

/** The approval step's inputs, for `runbooks lint` and the executor alike. */
export const APPROVAL_INPUT_SCHEMA = {
  type: 'object',
  properties: {
    approvers: { type: 'integer', minimum: 1, maximum: MAX_APPROVERS },
    selfApproval: { type: 'boolean' },
    ttlSeconds: { type: 'integer', minimum: 60, maximum: MAX_APPROVAL_TTL_SECONDS },
    // Role names as policy.roles spells them.
    roles: { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' }, uniqueItems: true },
  },
  additionalProperties: false,
} as const;

const validate = new Ajv2020({ strict: true, allErrors: true }).compile<ApprovalInputs>(
  APPROVAL_INPUT_SCHEMA,
);

/**
 * The approval an `action: approval` step asks for: its inputs over `defaults` (the workflow's approval
 * policy), always required. Or what is wrong with the inputs, one problem per entry, as
 * "approvers: must be <= 10".
 */
export function parseApprovalInputs(
  inputs: unknown,
  defaults: ApprovalPolicy = DEFAULT_POLICY.approval,
): ApprovalPolicy | { invalid: string[] } {
  if (!validate(inputs)) {
    return {
      invalid: (validate.errors ?? []).map((e) => {
        const where = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
        const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
        return `${where || 'inputs'}: ${e.message ?? 'is invalid'}${extra}`;
      }),
    };
  }
  return {
    required: true,
    approvers: inputs.approvers ?? defaults.approvers,
    selfApproval: inputs.selfApproval ?? defaults.selfApproval,
    ttlSeconds: inputs.ttlSeconds ?? defaults.ttlSeconds,
    roles: inputs.roles ?? defaults.roles,
  };
}
