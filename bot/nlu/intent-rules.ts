import type { EntityType, Intent } from './intents';

/** A pattern over the cue text (lower-cased, entity spans masked) and the evidence it adds to one intent. */
export interface Cue {
  pattern: RegExp;
  /** Evidence in logit units; negative cues cancel a verb used in a question, a negation or a plan. */
  weight: number;
}

export interface IntentRule {
  intent: Intent;
  cues: Cue[];
  /** Added once per entity type present, when this intent's cues add up to positive evidence. */
  entityWeights?: Partial<Record<EntityType, number>>;
  /** Evidence from entities alone, when no intent's cue matched ("saga-0042?", "payments?"). */
  entityOnlyWeights?: Partial<Record<EntityType, number>>;
}

/**
 * Weight scale: 4–5 a verb or phrase that names the intent on its own ("restart", "what's firing"), 3 a
 * distinctive noun ("saga", "latency"), 1–2 supporting words, 7 a whole utterance that is nothing else ("yes").
 */
const WHOLE = 7;

/** Fillers before an imperative, so "please restart", "hey, can you restart" still lead with the verb. */
const LEAD =
  '^\\s*(?:(?:hi|hey|hello|yo|ok|okay|so|please|pls|plz|kindly|can you|could you|would you|will you|can u|' +
  "could u|go ahead and|let'?s|i want to|i'?d like to|i need to|we need to|need to|quickly|just|now|@?opsbot)" +
  '\\b[\\s,!.:]*)*';

/** End of a whole-utterance answer: punctuation, emoji, nothing else. */
const END = '[^\\p{L}\\p{N}]*$';

const RESTART_VERBS =
  're-?start|restrat|rstart|resart|retsart|restar|bounce|reboot|recycle|kick(?!\\s+off)|power[- ]?cycle|' +
  'respawn|redeploy|rollout restart|rolling restart';
const SCALE_VERBS =
  'scale(?: up| down| out| in)?|rescale|resize|upscale|downscale|autoscale|sclae|scael|scal';
const SILENCE_VERBS =
  'silence|silense|silece|mute|snooze|snoze|ack|acknowledge|suppress|shush|hush|quiet down|shut up|squelch|dismiss';
const RUN_VERBS = 'run|execute|exec|launch|trigger|invoke|apply|kick off|fire off|start';
const START_VERBS =
  'start|begin|kick off|kick-off|kickoff|launch|initiate|trigger|create|run|fire off|process|issue';
const ACTION_VERBS = [RESTART_VERBS, SCALE_VERBS, SILENCE_VERBS, RUN_VERBS, START_VERBS].join('|');
const TRANSACTIONS =
  'sagas?|order fulfil+ment|fulfil+ment|refunds?|user onboarding|onboarding|onboard|transactions?|workflows?';

const CONFIRM_WORDS =
  'yes|yep|yeah|yea|ya|yup|yus|y|sure|sure thing|ok|okay|okey|okie|k|kk|confirm|confirmed|i confirm|' +
  'affirmative|do it|go|go ahead|go for it|approve|approved|proceed|lgtm|sounds good|ship it|please do|correct|' +
  "right|that'?s right|absolutely|definitely|of course|make it so|let'?s do it|roger|aye|👍|✅|✔️|🆗";
const DENY_WORDS =
  "no|nope|nah|naw|n|cancel|cancel that|cancel it|abort|stop|don'?t|do not|never ?mind|nvm|forget it|" +
  'forget about it|not now|no thanks|no thank you|negative|hold on|hold off|wait|belay that|scratch that|' +
  'not yet|👎|❌|🛑';
const GREETING_WORDS =
  "hi+|hello|helo|hallo|hey+|heya|hiya|howdy|yo|sup|wassup|what'?s up|greetings|good (?:morning|afternoon|evening|day)|" +
  "morning|evening|hola|ahoy|g'?day|👋";
const HELP_PHRASES =
  'help|help me|halp|hlep|\\?+|commands|command list|list commands|menu|usage|options|what can (?:you|u) do|' +
  'what do you do|what are you|who are you|what is this|what is opsbot|how does this work|how do you work|' +
  'how (?:do|can) i use (?:you|this|opsbot|this bot|it)|what can i ask(?: you)?|what can you help (?:me )?with|' +
  'capabilities|what are your commands|getting started|get started|instructions';

function whole(words: string): RegExp {
  const courtesy = 'please|pls|plz|thanks|thank you|then|now|mate|thx|ty|opsbot';
  return new RegExp(`^\\s*(?:${words})(?:[\\s,!.]+(?:${words}|${courtesy}))*${END}`, 'u');
}
function leading(verbs: string): RegExp {
  return new RegExp(`${LEAD}(?:${verbs})\\b`);
}
function anywhere(words: string): RegExp {
  return new RegExp(`\\b(?:${words})\\b`);
}
/** "don't restart payments" is a refusal, not a restart. */
function negated(verbs: string): RegExp {
  return new RegExp(`\\b(?:don'?t|do not|never|no need to)\\s+(?:\\w+\\s+)?(?:${verbs})\\b`);
}
/** "how do I restart payments?" asks for a procedure (answered from runbooks), not for the action. */
function howTo(verbs: string): RegExp {
  return new RegExp(
    `\\b(?:how (?:do|can|should|would|to)|should (?:i|we)|what happens (?:if|when))\\b[^?.!]{0,20}\\b(?:${verbs})\\b`,
  );
}
/**
 * "how do I replay dead letters?" asks for the procedure, which runbooks and docs answer, rather than for
 * the engine's data: intents that read an engine's state lose to troubleshoot on a how-to question.
 */
const HOW_TO_QUESTION: { pattern: RegExp; weight: number } = {
  pattern: /\bhow (?:do|can|should|would|to)\b/,
  weight: -4,
};
/** "schedule a restart for tonight" plans maintenance; it must not restart now. */
function scheduled(verbs: string): RegExp {
  return new RegExp(`\\b(?:schedule|plan|book)\\b[^.?!]{0,25}\\b(?:${verbs})\\b`);
}

/** Failure in the future tense is a prediction request, not a symptom to troubleshoot. */
const PREDICTED_FAILURE =
  /\b(?:(?:likely|about|going|expected|gonna|predicted|set|due) to|might|could|may|will) (?:fail|break|crash|die|go down|fall over|blow up|have (?:issues|problems)|cause trouble)\b|\b(?:fail|break|crash|go down) next\b/;

const TIME_OF_DAY =
  /\b(?:tonight|tomorrow|this weekend|weekend|next (?:week|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|on (?:mon|tues|wednes|thurs|fri|satur|sun)day|midnight|noon|\d{1,2}(?::\d\d)?\s*(?:am|pm)|at \d{1,2}:\d\d|utc)\b/;

const SYMPTOMS =
  'broken|slow|sluggish|laggy|fail|failing|fails|failed|failure|failures|erroring|errors|throwing|timing out|' +
  'timeouts?|timed out|time out|crash(?:es|ing|ed)?|crash ?loop(?:ing)?|crashloopbackoff|oom(?:killed)?|' +
  'out of memory|memory leak|leaking|hanging|hung|stuck|unresponsive|not (?:working|responding|loading|starting)|' +
  "doesn'?t work|isn'?t working|won'?t start|can'?t (?:connect|reach|start|log ?in)|refused|refusing|exceptions?|" +
  "stack ?traces?|panics?|[45]\\d\\d(?:s|'s)?|[45]xx|bugs?|deadlock(?:s|ed)?|flaky|flapping|spiking|spikes?|" +
  'lagging|backed up|backlog|slowness|keeps? (?:restarting|crashing|dying|failing)|down again|dropping requests';

export const INTENT_RULES: readonly IntentRule[] = [
  {
    intent: 'greeting',
    cues: [
      {
        pattern: whole(
          `(?:${GREETING_WORDS})(?:\\s+(?:there|team|all|folks|everyone|opsbot|bot|friend|mate|buddy|y'?all))?`,
        ),
        weight: WHOLE,
      },
      { pattern: new RegExp(`^\\s*(?:${GREETING_WORDS})\\b`, 'u'), weight: 1 },
    ],
  },
  {
    intent: 'help',
    cues: [
      { pattern: whole(HELP_PHRASES), weight: WHOLE },
      {
        pattern:
          /\b(?:what can (?:you|u) do|what (?:else )?can you help|how (?:do|can|should) (?:i|we) use (?:you|this|opsbot|the bot)|(?:list|show)(?: me)? (?:your |the |all |available )*(?:commands|capabilities|skills|features)|what (?:commands|things) can i|what are you able to)\b/,
        weight: 5,
      },
      { pattern: /\bhelp\b/, weight: 1.5 },
    ],
  },
  {
    intent: 'confirm',
    cues: [
      { pattern: whole(CONFIRM_WORDS), weight: WHOLE },
      { pattern: /^\s*(?:yes|yep|yeah|sure|ok|okay)\b/, weight: 1 },
    ],
  },
  {
    intent: 'deny',
    cues: [
      { pattern: whole(DENY_WORDS), weight: WHOLE },
      { pattern: negated(ACTION_VERBS), weight: 6 },
      { pattern: /\b(?:cancel|abort|call off)\b/, weight: 4 },
      { pattern: /^\s*(?:no|nope|nah)\b/, weight: 1.5 },
    ],
  },
  {
    intent: 'system_status',
    cues: [
      {
        pattern:
          /\b(?:status|staus|stauts|statis|health|healthy|helthy|healty|unhealthy|healthcheck|health-check|heath)\b/,
        weight: 3,
      },
      {
        pattern:
          /\b(?:is|are|was|were|r)\b[^?.!]{0,40}\b(?:up|down|alive|dead|running|operational|degraded|available|unavailable|reachable|online|offline|ok|okay|fine|working|healthy|green|red)\b/,
        weight: 2,
      },
      {
        pattern: whole('(?:system |overall |fleet )?(?:status|health|sitrep)(?: check| report)?'),
        weight: 3,
      },
      { pattern: /\b(?:up|down|alive|online|offline|degraded)\b/, weight: 1 },
      { pattern: /\boutages?\b/, weight: 3 },
      { pattern: /\bhow(?:'s| is| are|s| r)\b[^?.!]{0,30}\b(?:doing|looking|holding up|going)\b/, weight: 3 },
      {
        pattern:
          /\b(?:everything|all services|all systems|anything|any services?|the fleet|all)\b[^?.!]{0,20}\b(?:ok|okay|fine|good|green|up|down|healthy|alright|on fire)\b/,
        weight: 3,
      },
      {
        pattern:
          /\b(?:sitrep|status report|overview|uptime)\b|\bcheck (?:on )?(?:everything|all|the fleet|services)\b/,
        weight: 2,
      },
    ],
    entityWeights: { service: 1, environment: 0.5, saga_id: -3, runbook: -2, alertname: -1, event_type: -1 },
    entityOnlyWeights: { service: 2.7, environment: 0.5 },
  },
  {
    intent: 'metrics',
    cues: [
      {
        pattern:
          /\b(?:latency|latencies|latncy|p50|p75|p90|p95|p99|p999|percentiles?|throughput|rps|qps|tps|req\/s|requests? (?:per|a|\/) ?(?:second|sec|minute|min|s)|cpu|memory|mem|ram|heap|utili[sz]ation|saturation|metrics?|response times?|apdex|error[- ]?rates?|error percentage|error budget|slos?|slis?|bandwidth|iops|disk (?:usage|space|io)|load average|request rate|request count|traffic)\b/,
        weight: 3.5,
      },
      {
        pattern:
          /\b(?:graph|chart|plot|trend|dashboard|numbers|stats|statistics|show me|how (?:much|many|fast|slow))\b/,
        weight: 1,
      },
      // A why-question asks for a cause and a forecast for the future, even when they name a metric.
      { pattern: /\bwhy\b/, weight: -2 },
      { pattern: /\b(?:forecast|forcast|predict\w*|projections?|projected)\b/, weight: -2 },
    ],
    entityWeights: { service: 1, duration: 1, environment: 0.5 },
  },
  {
    intent: 'troubleshoot',
    cues: [
      { pattern: /\bwhy\b/, weight: 3.5 },
      { pattern: anywhere(SYMPTOMS), weight: 3 },
      { pattern: PREDICTED_FAILURE, weight: -4 },
      {
        pattern:
          /\b(?:fix|fixing|debug|debugging|diagnose|troubleshoot|investigate|root[- ]cause|rca|mitigate|remediate|resolve|recover|workaround)\b/,
        weight: 3,
      },
      { pattern: /\bhow (?:do|can|should|would|to)\b/, weight: 3.5 },
      {
        pattern: /\bwhat (?:should|do|can) (?:i|we) do\b|\bwhat happens (?:if|when)\b|\bwhat causes\b/,
        weight: 3,
      },
      {
        pattern:
          /\b(?:latency|error rate|cpu|memory|errors?)\s+(?:is |are )?(?:high|spiking|elevated|through the roof)\b/,
        weight: 2,
      },
      { pattern: /\b(?:issues?|problems?|wrong|trouble|weird|strange)\b/, weight: 1.5 },
      {
        pattern: /\b(?:runbook|playbook|docs|documentation|guide|procedure|kb|wiki)s?\b|\bhandl(?:e|ing)\b/,
        weight: 1,
      },
    ],
    entityWeights: { service: 1, environment: 0.5, alertname: 1 },
  },
  {
    intent: 'run_runbook',
    cues: [
      {
        pattern: new RegExp(
          `\\b(?:${RUN_VERBS})\\b[^.?!]{0,30}\\b(?:runbook|playbook|run ?book|runbok|automation|remediation)s?\\b`,
        ),
        weight: 5,
      },
      { pattern: /\b(?:runbook|playbook|runbok|run ?book)s?\b/, weight: 1.5 },
      { pattern: leading('run|execute|exec|invoke|trigger'), weight: 2.5 },
      { pattern: negated(RUN_VERBS), weight: -5 },
      { pattern: howTo(RUN_VERBS), weight: -4 },
    ],
    entityWeights: { runbook: 3 },
  },
  {
    intent: 'restart_service',
    cues: [
      { pattern: anywhere(RESTART_VERBS), weight: 4 },
      { pattern: leading(RESTART_VERBS), weight: 1.5 },
      { pattern: negated(RESTART_VERBS), weight: -4 },
      { pattern: howTo(RESTART_VERBS), weight: -4 },
      { pattern: scheduled(RESTART_VERBS), weight: -4 },
    ],
    entityWeights: { service: 1.5, environment: 0.5 },
  },
  {
    intent: 'scale_service',
    cues: [
      { pattern: anywhere(SCALE_VERBS), weight: 4 },
      { pattern: leading(`${SCALE_VERBS}|bump`), weight: 1.5 },
      { pattern: /\b(?:replicas?|instances?|pods?|copies|containers)\b/, weight: 1.5 },
      {
        pattern:
          /\b(?:add|remove|increase|decrease|bump|reduce|drop|raise|lower|more|fewer|less|double|halve|triple)\b[^.?!]{0,25}\b(?:replicas?|instances?|pods?|copies|containers|capacity|workers)\b/,
        weight: 3,
      },
      { pattern: negated(SCALE_VERBS), weight: -4 },
      { pattern: howTo(SCALE_VERBS), weight: -4 },
      { pattern: scheduled(SCALE_VERBS), weight: -4 },
    ],
    entityWeights: { replicas: 2, service: 1.5, environment: 0.5 },
  },
  {
    intent: 'capacity_forecast',
    cues: [
      {
        pattern:
          /\b(?:forecast(?:ing)?|forcast|projections?|project(?:ed)?|predict(?:ion)?|anticipate|expect(?:ed)?)\b[^.?!]{0,30}\b(?:load|capacity|traffic|demand|usage|growth|requests|volume|peak)\b/,
        weight: 5,
      },
      { pattern: /\b(?:capacity|headroom|capacity planning)\b/, weight: 3 },
      {
        pattern:
          /\b(?:will|would) we (?:have|need|run out)|\benough (?:capacity|replicas|instances|headroom|room|resources)\b|\brun(?:ning)? out of (?:capacity|headroom|resources|room)\b|\bhow many (?:replicas|instances|pods|nodes|servers) (?:will|would|do|should) (?:we|i)\b/,
        weight: 4,
      },
      {
        pattern: /\b(?:black friday|cyber monday|peak season|holiday (?:traffic|season|peak)|launch day)\b/,
        weight: 2,
      },
      { pattern: /\b(?:forecast|forcast|projection|projected)\b/, weight: 2 },
    ],
    entityWeights: { service: 1, duration: 0.5 },
  },
  {
    intent: 'saga_status',
    cues: [
      HOW_TO_QUESTION,
      { pattern: /\bsagas?\b/, weight: 3 },
      {
        pattern:
          /\b(?:status|progress|state|stuck|pending|running|in[- ]flight|failed|compensat\w*|where(?:'s| is)|what happened|done|finished|completed|doing)\b/,
        weight: 1,
      },
      { pattern: /\b(?:list|show|which|what|any|all)\b[^.?!]{0,15}\bsagas\b/, weight: 1.5 },
      { pattern: /\b(?:business )?transactions? (?:status|progress)\b/, weight: 2 },
    ],
    entityWeights: { saga_id: 4 },
    entityOnlyWeights: { saga_id: 3.5 },
  },
  {
    intent: 'start_saga',
    cues: [
      { pattern: new RegExp(`\\b(?:${START_VERBS})\\b[^.?!]{0,30}\\b(?:${TRANSACTIONS})\\b`), weight: 5 },
      { pattern: /\b(?:fulfil+ment|refund|onboarding)\b/, weight: 2 },
      { pattern: leading('refund|onboard|fulfil+'), weight: 3 },
      { pattern: /\bnew (?:saga|refund|onboarding|fulfil+ment|transaction)\b/, weight: 2 },
      { pattern: negated(START_VERBS), weight: -5 },
      { pattern: howTo(START_VERBS), weight: -4 },
    ],
    entityWeights: { service: 0.5 },
  },
  {
    intent: 'query_events',
    cues: [
      HOW_TO_QUESTION,
      { pattern: /\bevents?\b/, weight: 3 },
      {
        pattern:
          /\b(?:dlq|dead[- ]?letters?(?: queue)?|poison (?:messages?|pills?)|undeliver(?:ed|able)|event (?:log|stream|history|types?|bus|store)|outbox)\b/,
        weight: 4,
      },
      {
        pattern:
          /\b(?:show|list|find|search|query|get|grep|look up|lookup|fetch|display|browse|tail|pull up)\b/,
        weight: 1,
      },
      {
        pattern: /\b(?:what happened (?:to|with)|history (?:of|for)|timeline (?:of|for)|audit trail)\b/,
        weight: 3,
      },
      { pattern: /\b(?:order|payment|user|customer|transaction|account|cart)s? #?\d{3,}\b/, weight: 1.5 },
    ],
    entityWeights: { event_type: 3, service: 0.5, duration: 0.5 },
    entityOnlyWeights: { event_type: 3.5 },
  },
  {
    intent: 'alert_status',
    cues: [
      HOW_TO_QUESTION,
      {
        pattern: /\b(?:alerts?|alrets?|alerst|alarms?|alertmanager|pagerduty|pages|incidents?)\b/,
        weight: 3.5,
      },
      {
        pattern: /\b(?:firing|fired|triggered|pending|active|open|ringing|going off|paging|paged|woke me)\b/,
        weight: 2,
      },
      {
        pattern:
          /\bwhat(?:'s| is)? (?:firing|on fire|going off|burning|paging)\b|\b(?:who|what) (?:paged|woke)\b/,
        weight: 2,
      },
      { pattern: /\bon[- ]call\b/, weight: 1 },
      // Asking to silence an alert is not asking what fires.
      { pattern: anywhere(SILENCE_VERBS), weight: -2 },
    ],
    entityWeights: { alertname: 2, service: 0.5, environment: 0.5 },
    entityOnlyWeights: { alertname: 3 },
  },
  {
    intent: 'silence_alert',
    cues: [
      { pattern: anywhere(SILENCE_VERBS), weight: 4 },
      { pattern: leading(SILENCE_VERBS), weight: 1.5 },
      { pattern: negated(SILENCE_VERBS), weight: -4 },
      { pattern: howTo(SILENCE_VERBS), weight: -4 },
    ],
    entityWeights: { alertname: 2, duration: 1, service: 0.5 },
  },
  {
    intent: 'data_quality',
    cues: [
      HOW_TO_QUESTION,
      {
        pattern:
          /\b(?:data[- ]?quality|dq|data (?:checks?|issues?|problems?|errors?|drift|freshness|integrity|validation|anomal\w*|corruption|loss|gaps?)|validation (?:failures?|errors?|issues?)|failed validations?|invalid (?:records?|rows?|data|payloads?|events?)|schema (?:errors?|violations?|drift|mismatch(?:es)?|changes?|validation)|pii|personal data|gdpr|sensitive data|reconcil\w*|duplicates?|duplicate (?:records|rows|events)|dupes|null values?|nulls|missing (?:fields?|values?|data|columns?)|corrupt(?:ed)?(?: data)?|stale data|anomal(?:y|ies) in (?:the )?data|referential integrity|orphan(?:ed)? records?|data contracts?)\b/,
        weight: 4,
      },
      {
        pattern: /\b(?:anomal(?:y|ies|ous)|outliers?|validat\w*|schema|integrity|consistency|quality)\b/,
        weight: 1.5,
      },
      { pattern: /\b(?:records?|rows?|datasets?|tables?|columns?|fields?)\b/, weight: 1 },
    ],
    entityWeights: { service: 0.5, event_type: 0.5 },
  },
  {
    intent: 'schedule_maintenance',
    cues: [
      { pattern: /\b(?:maintenance|maintainance|maintenence|maint)\b/, weight: 4 },
      {
        pattern:
          /\b(?:schedule|plan|book|set up|arrange|reserve|block out)\b[^.?!]{0,30}\b(?:window|downtime|outage|maintenance|upgrade|patch(?:ing)?|migration|restart|reboot|deploy(?:ment)?|change|freeze)\b/,
        weight: 4,
      },
      { pattern: /\b(?:schedule|plan|book)\b/, weight: 1.5 },
      { pattern: TIME_OF_DAY, weight: 1 },
      { pattern: /\b(?:put|place|take|move)\b[^.?!]{0,30}\b(?:in(?:to)?|under) maintenance\b/, weight: 2 },
      { pattern: /\btake\b[^.?!]{0,30}\b(?:down|offline)\b/, weight: 2 },
      { pattern: /\b(?:downtime|change window|planned outage)\b/, weight: 3 },
      // "cancel maintenance window 3f9c2a1b" names the window, not a reply to a question: it outweighs deny's "cancel".
      { pattern: /\b(?:maintenance|downtime) windows?\b/, weight: 1.5 },
    ],
    entityWeights: { service: 1, duration: 1, environment: 0.5 },
  },
  {
    intent: 'predict_failures',
    cues: [
      { pattern: PREDICTED_FAILURE, weight: 5 },
      {
        pattern:
          /\b(?:at[- ]risk|risky|riskiest|risk (?:scores?|levels?|assessment|report)|failure (?:predictions?|risks?|forecasts?|probability|likelihood)|(?:predict|forecast)(?:ed|ion|ions|ive)? (?:failures?|outages?|incidents?|problems?|issues?|breakage)|fragile|weakest(?: link)?|early warnings?|next (?:outage|incident|failure)|failure[- ]prone)\b/,
        weight: 4.5,
      },
      { pattern: /\b(?:predict\w*|forecast\w*|risks?)\b/, weight: 1.5 },
      { pattern: /\bfailures?\b/, weight: 1 },
    ],
    entityWeights: { service: 0.5, duration: 0.5 },
  },
  {
    intent: 'out_of_scope',
    cues: [
      {
        pattern:
          /\b(?:weather|forecast for (?:today|tomorrow|the weekend)|jokes?|pizza|burger|sushi|recipes?|poem|song|music|movies?|football|soccer|lottery|horoscope|dating|flights?|hotels?|meaning of life)\b/,
        weight: 3,
      },
    ],
  },
];
