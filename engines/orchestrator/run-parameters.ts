import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { AlertContext } from './orchestrator';
import { containsTemplate, resolveKnownTemplates } from './templates';
import type { WorkflowDefinition } from './workflow';

/**
 * A run's parameters: the request's values, then each missing one's schema default (a default may read the
 * alert: `{{ alert.labels.service }}`), checked against the definition's JSON Schema.
 */
export class RunParameters {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly validators = new WeakMap<WorkflowDefinition, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Throws OpsbotError(InvalidRequest) naming every problem: "service: must be one of payments, orders, …". */
  resolve(
    definition: WorkflowDefinition,
    given: Record<string, unknown>,
    alert?: AlertContext,
  ): Record<string, unknown> {
    const params: Record<string, unknown> = { ...given };
    const scope = {
      params: {},
      steps: {},
      run: { id: '', correlationId: '', actor: '' },
      alert: alert && { labels: alert.labels, annotations: alert.annotations },
    };
    for (const [name, property] of Object.entries(definition.parameters.properties ?? {})) {
      if (params[name] !== undefined || property.default === undefined) continue;
      const value = resolveKnownTemplates(property.default, scope);
      // A default that reads an alert means nothing without one: the parameter is then simply missing.
      if (!containsTemplate(value)) params[name] = value;
    }
    const validate = this.validatorFor(definition);
    if (!validate(params)) {
      throw new OpsbotError(
        ErrorCode.InvalidRequest,
        `parameters of ${definition.kind} ${definition.id}: ${describeErrors(validate.errors ?? [], definition)}`,
      );
    }
    return params;
  }

  private validatorFor(definition: WorkflowDefinition): ValidateFunction {
    let validate = this.validators.get(definition);
    if (!validate) {
      validate = this.ajv.compile(definition.parameters);
      this.validators.set(definition, validate);
    }
    return validate;
  }
}

function describeErrors(errors: ErrorObject[], definition: WorkflowDefinition): string {
  return errors
    .map((e) => {
      if (e.keyword === 'required') return `${String(e.params.missingProperty)} is required`;
      if (e.keyword === 'additionalProperties') {
        const known = Object.keys(definition.parameters.properties ?? {}).join(', ') || 'none';
        return `${String(e.params.additionalProperty)} is not a parameter (parameters: ${known})`;
      }
      if (e.keyword === 'enum') {
        return `${e.instancePath.slice(1)} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
      }
      return `${e.instancePath.slice(1) || 'parameters'} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}
