import path from 'node:path';
import { ServiceCatalog } from '../config/catalog';
import { loadConfig } from '../config/load';
import { packageRoot } from '../core/package-root';
import { buildRuleNlu } from './build-nlu';
import type { RuleNlu } from './rule-nlu';

/**
 * The rule engine as `npm start` builds it from the package's own opsbot.config.yaml: its catalog and the
 * runbook ids and alert names of its knowledge sources. train:nlu, eval:nlu and bench:nlu all use this one,
 * so the classifier is trained and measured with the entity extractor it is served with.
 */
export function packagedRuleNlu(): RuleNlu {
  const root = packageRoot();
  const { config } = loadConfig({ OPSBOT_CONFIG: path.join(root, 'opsbot.config.yaml') });
  return buildRuleNlu(config, root, new ServiceCatalog(config));
}
