import { markClicked, renderForSlack, SLACK_LIMITS } from '../../adapters/slack/block-kit';
import {
  actionFromData,
  renderClickOutcome,
  renderForTeams,
  TEAMS_ACTION_VERB,
  TEAMS_CARD_MAX_BYTES,
  TEAMS_MAX_ACTIONS,
  TEAMS_MAX_TEXT,
} from '../../adapters/teams/adaptive-card';
import { renderForTerminal, terminalButtons } from '../../adapters/terminal/render';
import { renderForWidget, WIDGET_MAX_TEXT } from '../../adapters/web/render';
import type { Block, Reply } from '../../bot/core/message';
import { validateAdaptiveCard } from '../support/adaptive-card-validator';
import { validateBlockKit } from '../support/block-kit-validator';

/*
 * The rendering contract every surface keeps: whatever a skill replies, each surface's output is valid for
 * that surface; a reply within the surface's limits loses no words; a longer one is split or cut cleanly
 * (never mid-surrogate, with an ellipsis or a note where something was left out).
 */

const everyBlock: Reply = {
  text: 'payments is down',
  blocks: [
    { type: 'section', text: 'payments is **down**: `connection refused`' },
    {
      type: 'fields',
      fields: [
        { label: 'Environment', value: 'production' },
        { label: 'Owners', value: 'team-payments' },
      ],
    },
    { type: 'list', items: ['check the pods', 'roll back'], ordered: true },
    { type: 'list', items: ['dashboards', 'alerts'] },
    { type: 'code', code: 'kubectl get pods\nkubectl logs x', language: 'sh' },
    {
      type: 'buttons',
      buttons: [
        { actionId: 'dialogue.confirm', label: 'Confirm', value: 'yes', style: 'danger' },
        { actionId: 'dialogue.deny', label: 'Cancel', value: 'no' },
        { actionId: 'dialogue.later', label: 'Later', value: 'later', style: 'primary' },
      ],
    },
    {
      type: 'citations',
      citations: [
        { source: 'runbooks/payments.md', title: 'Payments down', heading: 'Remediate', score: 0.8234 },
        { source: 'runbooks/db.md', title: 'Database failover', url: 'https://wiki.example.com/db?a=1&b=2' },
      ],
    },
    {
      type: 'status',
      badges: [
        { label: 'payments', state: 'critical', detail: 'connection refused' },
        { label: 'orders', state: 'ok' },
        { label: 'search', state: 'warning', detail: 'slow' },
        { label: 'billing', state: 'unknown' },
        { label: 'deploys', state: 'info', detail: 'frozen' },
      ],
    },
    {
      type: 'chart',
      title: 'p95 latency of checkout, last 15 minutes',
      points: [12, 14, 13, 40, 38, 15].map((v, i) => ({ t: 1_700_000_000_000 + i * 15_000, v: v / 1000 })),
      summary: { min: '12 ms', max: '40 ms', latest: '15 ms' },
    },
  ],
};

const paragraphs = Array.from(
  { length: 20 },
  (_, p) => `Paragraph${p} ` + Array.from({ length: 80 }, (_, w) => `p${p}w${w}`).join(' ') + '.',
);
const longSection = paragraphs.join('\n\n');
const longWord = 'abcdefghij'.repeat(300) + 'k';

const cases: Record<string, Reply> = {
  'every block kind': everyBlock,
  'an empty blocks array': { text: 'nothing else to say', blocks: [] },
  'sixty blocks': {
    text: 'sixty',
    blocks: Array.from({ length: 60 }, (_, i): Block => ({ type: 'section', text: `block${i + 1} here` })),
  },
  'a 10,000-character section with paragraphs': {
    text: 'long',
    blocks: [{ type: 'section', text: longSection }],
  },
  'a 3,001-character word': { text: 'word', blocks: [{ type: 'section', text: longWord }] },
  'emoji at the cut points': {
    text: '😀'.repeat(30000),
    blocks: [
      { type: 'section', text: 'a'.repeat(2999) + '😀'.repeat(3) },
      { type: 'section', text: 'b'.repeat(WIDGET_MAX_TEXT - 2) + '👍🏽'.repeat(3) },
      { type: 'fields', fields: [{ label: 'Emoji', value: 'y'.repeat(1980) + '😀'.repeat(10) }] },
      { type: 'buttons', buttons: [{ actionId: 'emoji', label: 'x'.repeat(73) + '😀😀', value: 'e' }] },
    ],
  },
  'mrkdwn and markdown specials': {
    text: 'a & b < c > d',
    blocks: [
      {
        type: 'section',
        text: 'a & b < c > d *not bold* _not italic_ ~not struck~ **really bold** [not](a link)',
      },
      { type: 'section', text: '<!channel> <@U123> <https://evil.example|click> snake_case_name' },
      { type: 'code', code: 'echo "```"\n  - indented: *yes*\n```\n\nafter a blank line' },
      { type: 'list', items: ['1 < 2 & 3', '*star*'] },
    ],
  },
  'fifteen fields': {
    text: 'fields',
    blocks: [
      {
        type: 'fields',
        fields: Array.from({ length: 15 }, (_, i) => ({ label: `Label${i}`, value: `value${i}` })),
      },
    ],
  },
  'thirty buttons across blocks': {
    text: 'choose',
    blocks: [12, 12, 6].map((count, b): Block => ({
      type: 'buttons',
      buttons: Array.from({ length: count }, (_, i) => ({
        actionId: `pick.b${b}.${i}`,
        label: `Option${b}x${i}`,
        value: `v${b}.${i}`,
      })),
    })),
  },
  'a citation with a javascript: URL': {
    text: 'sources',
    blocks: [
      {
        type: 'citations',
        citations: [{ source: 'runbooks/evil.md', title: 'Harmless title', url: 'javascript:alert(1)' }],
      },
    ],
  },
  'unicode labels': {
    text: 'Bestätigen?',
    blocks: [
      { type: 'section', text: 'Zurück zum **Überblick** — 確認してください' },
      { type: 'fields', fields: [{ label: 'Umgebung', value: 'Продакшн' }] },
      {
        type: 'buttons',
        buttons: [
          { actionId: 'confirm', label: 'Bestätigen ✅', value: 'ja', style: 'primary' },
          { actionId: 'deny', label: 'キャンセル', value: 'いいえ', style: 'danger' },
        ],
      },
      { type: 'status', badges: [{ label: 'Zahlungen', state: 'critical', detail: 'nicht erreichbar' }] },
    ],
  },
};

/** Cases whose content every surface must show in full. */
const withinLimits = [
  'every block kind',
  'an empty blocks array',
  'mrkdwn and markdown specials',
  'fifteen fields',
  'thirty buttons across blocks',
  'a citation with a javascript: URL',
  'unicode labels',
];

interface Surface {
  render: (reply: Reply) => unknown;
  problems: (output: unknown) => string[];
  /** Everything the surface shows, as text. */
  shown: (output: unknown) => string;
}

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

const surfaces: Record<string, Surface> = {
  web: {
    render: renderForWidget,
    problems: (output) => widgetProblems(output),
    shown: (output) => displayed(output, ['type', 'actionId', 'url', 'image', 'state', 'ordered', 'style']),
  },
  'terminal without colour': {
    render: (reply) => renderForTerminal(reply, { colour: false }),
    problems: (output) => [
      ...((output as string).includes(ESC) ? ['ANSI escapes without colour'] : []),
      ...brokenSurrogates(output),
    ],
    shown: (output) => output as string,
  },
  'terminal with colour': {
    render: (reply) => renderForTerminal(reply, { colour: true }),
    problems: (output) => brokenSurrogates(output),
    shown: (output) => (output as string).replace(ANSI, ''),
  },
  slack: {
    render: (reply) => renderForSlack(reply, { actionsBlockId: 'opsbot/T1/C1/dm' }),
    problems: (output) => validateBlockKit(output),
    shown: (output) =>
      unescapeSlack(displayed(output, ['type', 'action_id', 'value', 'block_id', 'style', 'emoji'])),
  },
  teams: {
    render: (reply) => renderForTeams(reply),
    problems: (output) => validateAdaptiveCard((output as { card: unknown }).card),
    shown: (output) =>
      displayed(output, [
        'type',
        '$schema',
        'version',
        'msteams',
        'data',
        'verb',
        'style',
        'color',
        'weight',
        'size',
        'isSubtle',
        'fontType',
        'spacing',
        'width',
        'wrap',
        'fallback',
      ]),
  },
};

describe.each(Object.entries(surfaces))('%s rendering contract', (_surface, surface) => {
  it.each(Object.keys(cases))('renders %s validly, without broken surrogates or unsafe links', (name) => {
    const output = surface.render(cases[name] as Reply);
    expect(surface.problems(output)).toEqual([]);
    expect(brokenSurrogates(strings(output).join('\n'))).toEqual([]);
    expect(JSON.stringify(output)).not.toMatch(/javascript:/i);
  });

  it.each(withinLimits)('shows every word of %s', (name) => {
    const reply = cases[name] as Reply;
    const shown = new Set(words(surface.shown(surface.render(reply))));
    expect(words(contentOf(reply)).filter((w) => !shown.has(w))).toEqual([]);
  });
});

describe('terminal', () => {
  it('renders every kind of block as plain text without colour', () => {
    expect(renderForTerminal(everyBlock, { colour: false })).toBe(
      [
        'payments is down: connection refused',
        '  Environment  production\n  Owners       team-payments',
        '  1. check the pods\n  2. roll back',
        '  • dashboards\n  • alerts',
        '    kubectl get pods\n    kubectl logs x',
        '  [1] Confirm     [2] Cancel     [3] Later',
        '  Sources:\n  - Payments down › Remediate (runbooks/payments.md, 0.82)\n  - Database failover (runbooks/db.md)',
        [
          '  [DOWN] payments — connection refused',
          '  [OK  ] orders',
          '  [WARN] search — slow',
          '  [??  ] billing',
          '  [INFO] deploys — frozen',
        ].join('\n'),
        '  p95 latency of checkout, last 15 minutes\n  ▁▂▁█▇▂ now 15 ms (min 12 ms, max 40 ms)',
      ].join('\n'),
    );
  });

  it('colours only when asked', () => {
    expect(renderForTerminal(everyBlock, { colour: true })).toContain('\x1b[31m[DOWN]');
  });

  it.each(Object.keys(cases))('only adds ANSI styling to %s', (name) => {
    const reply = cases[name] as Reply;
    expect(renderForTerminal(reply, { colour: true }).replace(ANSI, '')).toBe(
      renderForTerminal(reply, { colour: false }),
    );
  });

  it('numbers buttons in the order it shows them', () => {
    expect(terminalButtons(everyBlock).map((b) => b.actionId)).toEqual([
      'dialogue.confirm',
      'dialogue.deny',
      'dialogue.later',
    ]);
  });
});

describe('web widget', () => {
  it('renders every kind of block as widget JSON, formatting scores', () => {
    const { blocks } = renderForWidget(everyBlock);
    expect(blocks.map((b) => b.type)).toEqual(everyBlock.blocks.map((b) => b.type));
    expect(blocks[2]).toEqual({ type: 'list', ordered: true, items: ['check the pods', 'roll back'] });
    expect(blocks[3]).toEqual({ type: 'list', ordered: false, items: ['dashboards', 'alerts'] });
    expect(blocks[6]).toEqual({
      type: 'citations',
      citations: [
        { title: 'Payments down', source: 'runbooks/payments.md', heading: 'Remediate', score: '0.82' },
        { title: 'Database failover', source: 'runbooks/db.md', url: 'https://wiki.example.com/db?a=1&b=2' },
      ],
    });
  });

  it('passes on only web URLs that parse, normalised', () => {
    const urls = (...candidates: string[]) =>
      renderForWidget({
        text: 'sources',
        blocks: [
          {
            type: 'citations',
            citations: candidates.map((url) => ({ source: 'runbooks/x.md', title: 'X', url })),
          },
        ],
      }).blocks.flatMap((b) => (b.type === 'citations' ? b.citations.map((c) => c.url) : []));
    expect(
      urls('javascript:alert(1)', 'https://', 'http://exa mple.com/', 'HTTPS://Wiki.Example.com/a b'),
    ).toEqual([undefined, undefined, undefined, 'https://wiki.example.com/a%20b']);
  });

  it('cuts a section past its limit with an ellipsis, whole graphemes only', () => {
    const [, emoji] = renderForWidget(cases['emoji at the cut points'] as Reply).blocks as { text: string }[];
    expect(emoji?.text.length).toBeLessThanOrEqual(WIDGET_MAX_TEXT);
    expect(emoji?.text.endsWith('…')).toBe(true);
  });
});

describe('Slack Block Kit', () => {
  const slack = (name: string, actionsBlockId?: string) =>
    renderForSlack(cases[name] as Reply, actionsBlockId ? { actionsBlockId } : {});
  const sectionTexts = (name: string) =>
    slack(name).blocks.map((b) => (b.type === 'section' && b.text ? b.text.text : ''));

  it('renders every kind of block', () => {
    const { text, blocks } = slack('every block kind', 'opsbot/T1/C1/dm');
    expect(text).toBe('payments is down');
    expect(blocks.map((b) => b.type)).toEqual([
      'section',
      'section',
      'section',
      'section',
      'section',
      'actions',
      'context',
      'section',
      'context',
    ]);
    expect(blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'payments is *down*: `connection refused`' },
    });
    expect(blocks[1]).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Environment*\nproduction' },
        { type: 'mrkdwn', text: '*Owners*\nteam-payments' },
      ],
    });
    expect(sectionTexts('every block kind').slice(2, 5)).toEqual([
      '1. check the pods\n2. roll back',
      '• dashboards\n• alerts',
      '```\nkubectl get pods\nkubectl logs x\n```',
    ]);
    expect(blocks[5]).toEqual({
      type: 'actions',
      block_id: 'opsbot/T1/C1/dm',
      elements: [
        {
          type: 'button',
          action_id: 'dialogue.confirm',
          text: { type: 'plain_text', text: 'Confirm', emoji: true },
          value: 'yes',
          style: 'danger',
        },
        {
          type: 'button',
          action_id: 'dialogue.deny',
          text: { type: 'plain_text', text: 'Cancel', emoji: true },
          value: 'no',
        },
        {
          type: 'button',
          action_id: 'dialogue.later',
          text: { type: 'plain_text', text: 'Later', emoji: true },
          value: 'later',
          style: 'primary',
        },
      ],
    });
    expect(blocks[6]).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: '*Sources:*' },
        { type: 'mrkdwn', text: 'Payments down › Remediate · runbooks/payments.md · 0.82' },
        {
          type: 'mrkdwn',
          text: '<https://wiki.example.com/db?a=1&amp;b=2|Database failover> · runbooks/db.md',
        },
      ],
    });
    expect(blocks[7]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: [
          ':red_circle: *payments* — connection refused',
          ':large_green_circle: *orders*',
          ':warning: *search* — slow',
          ':white_circle: *billing*',
          ':information_source: *deploys* — frozen',
        ].join('\n'),
      },
    });
    // Without a public URL for chart images, a chart is a text sparkline Slack can show as is.
    expect(blocks[8]).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'p95 latency of checkout, last 15 minutes  `▁▂▁█▇▂ now 15 ms (min 12 ms, max 40 ms)`',
        },
      ],
    });
  });

  it('renders a chart as an image block when opsbot serves chart images at a public URL', () => {
    const { blocks } = renderForSlack(everyBlock, {
      chartImageUrl: (chart) => `https://opsbot.example.com/charts/${chart.points.length}.png`,
    });
    expect(blocks[8]).toEqual({
      type: 'image',
      image_url: 'https://opsbot.example.com/charts/6.png',
      alt_text: 'p95 latency of checkout, last 15 minutes: ▁▂▁█▇▂ now 15 ms (min 12 ms, max 40 ms)',
      title: { type: 'plain_text', text: 'p95 latency of checkout, last 15 minutes' },
    });
    expect(validateBlockKit({ blocks })).toEqual([]);
  });

  it('escapes control characters and keeps markers literal', () => {
    const [prose, mentions, code, list] = sectionTexts('mrkdwn and markdown specials');
    const z = '\u200b';
    expect(prose).toBe(
      `a &amp; b &lt; c &gt; d ${z}*${z}not bold${z}*${z} ${z}_${z}not italic${z}_${z} ` +
        `${z}~${z}not struck${z}~${z} *really bold* [not](a link)`,
    );
    expect(mentions).toBe(
      '&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; snake_case_name',
    );
    expect(code?.match(/```/g)).toHaveLength(2);
    expect(code).toBe(
      '```\necho "`\u200b`\u200b`"\n  - indented: *yes*\n`\u200b`\u200b`\n\nafter a blank line\n```',
    );
    expect(list).toBe(`• 1 &lt; 2 &amp; 3\n• ${z}*${z}star${z}*${z}`);
    expect(slack('mrkdwn and markdown specials').text).toBe('a &amp; b &lt; c &gt; d');
  });

  it('gives bold next to a word the boundary Slack needs', () => {
    const [section] = renderForSlack({
      text: 'x',
      blocks: [{ type: 'section', text: 'un**believ**able' }],
    }).blocks;
    expect(section).toMatchObject({ text: { text: 'un\u200b*believ*\u200bable' } });
  });

  it('splits a long section at paragraph boundaries and loses nothing', () => {
    expect(longSection.length).toBeGreaterThanOrEqual(10000);
    const texts = sectionTexts('a 10,000-character section with paragraphs');
    expect(texts.length).toBeGreaterThanOrEqual(4);
    for (const text of texts) {
      expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(text).toMatch(/^Paragraph\d+ /);
      expect(text).toMatch(/\.$/);
    }
    expect(texts.join('\n\n')).toBe(longSection);
  });

  it('splits a word longer than a section between characters', () => {
    const texts = sectionTexts('a 3,001-character word');
    expect(texts.map((t) => t.length)).toEqual([3000, 1]);
    expect(texts.join('')).toBe(longWord);
  });

  it('cuts at whole emoji', () => {
    const { blocks } = slack('emoji at the cut points');
    const [first, second] = blocks as { text: { text: string } }[];
    expect(first?.text.text).toBe('a'.repeat(2999));
    expect(second?.text.text).toBe('😀😀😀');
    const field = (blocks.find((b) => b.type === 'section' && b.fields) as { fields: { text: string }[] })
      .fields[0];
    expect(field?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(field?.text.endsWith('😀…')).toBe(true);
    const button = (blocks.find((b) => b.type === 'actions') as { elements: { text: { text: string } }[] })
      .elements[0];
    expect(button?.text.text).toBe('x'.repeat(73) + '…');
  });

  it('keeps emoji sequences whole at a cut', () => {
    const family = '👨‍👩‍👧';
    const texts = renderForSlack({
      text: 'x',
      blocks: [{ type: 'section', text: 'a'.repeat(2998) + family + 'b' }],
    }).blocks.map((b) => (b as { text: { text: string } }).text.text);
    expect(texts).toEqual(['a'.repeat(2998), family + 'b']);
    const [row] = renderForSlack({
      text: 'x',
      blocks: [{ type: 'buttons', buttons: [{ actionId: 'a', label: 'x'.repeat(70) + '🇩🇪🇫🇷', value: 'v' }] }],
    }).blocks as { elements: { text: { text: string } }[] }[];
    expect(row?.elements[0]?.text.text).toBe('x'.repeat(70) + '🇩🇪…');
  });

  it('keeps 49 blocks of a longer reply and says how many it left out', () => {
    const { blocks } = slack('sixty blocks');
    expect(blocks).toHaveLength(SLACK_LIMITS.blocksPerMessage);
    expect(blocks[48]).toMatchObject({ text: { text: 'block49 here' } });
    expect(blocks[49]).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: '_11 more blocks were left out: the reply is too long for one Slack message._',
        },
      ],
    });
  });

  it('puts fifteen fields in sections of ten', () => {
    const { blocks } = slack('fifteen fields');
    expect(blocks.map((b) => (b as { fields: unknown[] }).fields.length)).toEqual([10, 5]);
  });

  it('numbers block ids of further button rows, splitting rows past 25 buttons', () => {
    const { blocks } = slack('thirty buttons across blocks', 'opsbot/T1/C1/dm');
    expect(blocks.map((b) => [b.block_id, (b as { elements: unknown[] }).elements.length])).toEqual([
      ['opsbot/T1/C1/dm', 12],
      ['opsbot/T1/C1/dm#2', 12],
      ['opsbot/T1/C1/dm#3', 6],
    ]);
    const many = renderForSlack(
      {
        text: 'many',
        blocks: [
          {
            type: 'buttons',
            buttons: Array.from({ length: 30 }, (_, i) => ({
              actionId: `b${i}`,
              label: `B${i}`,
              value: `${i}`,
            })),
          },
        ],
      },
      { actionsBlockId: 'id' },
    );
    expect(many.blocks.map((b) => [b.block_id, (b as { elements: unknown[] }).elements.length])).toEqual([
      ['id', 25],
      ['id#2', 5],
    ]);
    expect(validateBlockKit(many)).toEqual([]);
  });

  it('sets no block id without the option', () => {
    expect(slack('thirty buttons across blocks').blocks.every((b) => b.block_id === undefined)).toBe(true);
  });

  it('starts a new row when an action id repeats, as Slack wants them unique within a block', () => {
    const { blocks } = renderForSlack({
      text: 'pick',
      blocks: [
        {
          type: 'buttons',
          buttons: [
            { actionId: 'pick', label: 'A', value: 'a' },
            { actionId: 'pick', label: 'B', value: 'b' },
          ],
        },
      ],
    });
    expect(blocks.map((b) => (b as { elements: unknown[] }).elements.length)).toEqual([1, 1]);
  });

  it('refuses a button value it would have to cut, and an overlong action id', () => {
    const value = 'v'.repeat(SLACK_LIMITS.buttonValue + 1);
    expect(() =>
      renderForSlack({
        text: 'x',
        blocks: [{ type: 'buttons', buttons: [{ actionId: 'a', label: 'A', value }] }],
      }),
    ).toThrow(/2001-character value/);
    const actionId = 'a'.repeat(SLACK_LIMITS.actionId + 1);
    expect(() =>
      renderForSlack({
        text: 'x',
        blocks: [{ type: 'buttons', buttons: [{ actionId, label: 'A', value: 'v' }] }],
      }),
    ).toThrow(/action_id/);
  });

  it('shows a citation with an unsafe URL as plain text', () => {
    const [context] = slack('a citation with a javascript: URL').blocks;
    expect(context).toMatchObject({ elements: [{}, { text: 'Harmless title · runbooks/evil.md' }] });
  });

  it('bounds the notification text', () => {
    const { text } = slack('emoji at the cut points');
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.messageText);
    expect(text.endsWith('😀…')).toBe(true);
  });
});

describe('markClicked', () => {
  const confirm: Reply = {
    text: 'Please confirm',
    blocks: [
      { type: 'section', text: 'Scale **payments** to 5?' },
      {
        type: 'buttons',
        buttons: [
          { actionId: 'dialogue.confirm', label: 'Confirm', value: 'yes', style: 'danger' },
          { actionId: 'dialogue.deny', label: 'Cancel', value: 'no' },
        ],
      },
      { type: 'section', text: 'or pick another size' },
      { type: 'buttons', buttons: [{ actionId: 'size', label: '10 replicas', value: '10' }] },
    ],
  };
  const { blocks } = renderForSlack(confirm, { actionsBlockId: 'opsbot/T1/C1/dm' });

  it('replaces the clicked row with who chose what and removes every other row', () => {
    const marked = markClicked(blocks, { userId: 'U123', actionId: 'dialogue.confirm', value: 'yes' });
    expect(marked).toEqual([
      blocks[0],
      { type: 'context', elements: [{ type: 'mrkdwn', text: '<@U123> chose *Confirm*' }] },
      blocks[2],
    ]);
    expect(validateBlockKit({ text: 'done', blocks: marked })).toEqual([]);
  });

  it('finds the clicked button in a later row', () => {
    const marked = markClicked(blocks, { userId: 'U123', actionId: 'size', value: '10' });
    expect(marked.map((b) => b.type)).toEqual(['section', 'section', 'context']);
    expect(JSON.stringify(marked[2])).toContain('<@U123> chose *10 replicas*');
  });

  it('falls back to the action id when the button is not found', () => {
    const marked = markClicked(blocks, { userId: 'U123', actionId: 'gone', value: 'x' });
    expect(marked[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '<@U123> chose *gone*' }],
    });
    expect(marked.some((b) => b.type === 'actions')).toBe(false);
  });

  it('leaves a message without buttons as it is, so a second click changes nothing', () => {
    const once = markClicked(blocks, { userId: 'U123', actionId: 'dialogue.confirm', value: 'yes' });
    expect(markClicked(once, { userId: 'U999', actionId: 'dialogue.deny', value: 'no' })).toEqual(once);
  });

  it('escapes the user id and keeps the label literal', () => {
    const { blocks: odd } = renderForSlack({
      text: 'x',
      blocks: [{ type: 'buttons', buttons: [{ actionId: 'a', label: '*Yes* & <go>', value: 'v' }] }],
    });
    const marked = markClicked(odd, { userId: 'U1>', actionId: 'a', value: 'v' });
    expect(validateBlockKit({ text: 'x', blocks: marked })).toEqual([]);
    expect(marked[0]).toMatchObject({
      elements: [{ text: '<@U1&gt;> chose *\u200b*\u200bYes\u200b*\u200b &amp; &lt;go&gt;*' }],
    });
  });
});

describe('Teams Adaptive Cards', () => {
  const teams = (name: string) => renderForTeams(cases[name] as Reply);

  it('renders every kind of block', () => {
    const { text, card } = teams('every block kind');
    expect(text).toBe('payments is down');
    expect(card).toMatchObject({
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      msteams: { width: 'Full' },
    });
    expect(card.body.map((e) => e.type)).toEqual([
      'TextBlock',
      'FactSet',
      'TextBlock',
      'TextBlock',
      'Container',
      'Container',
      'Container',
      'Container',
    ]);
    expect(card.body[7]).toMatchObject({
      type: 'Container',
      items: [
        { type: 'TextBlock', text: 'p95 latency of checkout, last 15 minutes' },
        {
          type: 'Image',
          url: expect.stringMatching(/^data:image\/png;base64,iVBORw0KGgo/),
          altText: 'p95 latency of checkout, last 15 minutes: ▁▂▁█▇▂ now 15 ms (min 12 ms, max 40 ms)',
        },
        { type: 'TextBlock', text: 'now 15 ms · min 12 ms · max 40 ms' },
      ],
    });
    expect(card.body[0]).toEqual({
      type: 'TextBlock',
      text: 'payments is **down**: `connection refused`',
      wrap: true,
    });
    expect(card.body[1]).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Environment', value: 'production' },
        { title: 'Owners', value: 'team-payments' },
      ],
    });
    expect(card.body[2]).toMatchObject({ text: '1. check the pods\r2. roll back' });
    expect(card.body[3]).toMatchObject({ text: '- dashboards\r- alerts' });
    expect(card.body[4]).toEqual({
      type: 'Container',
      style: 'emphasis',
      items: [
        { type: 'TextBlock', text: 'kubectl get pods', wrap: true, fontType: 'Monospace' },
        { type: 'TextBlock', text: 'kubectl logs x', wrap: true, fontType: 'Monospace', spacing: 'none' },
      ],
    });
    expect(card.body[5]).toMatchObject({
      items: [
        { text: 'Sources', size: 'small', isSubtle: true },
        { text: 'Payments down › Remediate · runbooks/payments.md · 0.82' },
        { text: '[Database failover](https://wiki.example.com/db?a=1&b=2) · runbooks/db.md' },
      ],
    });
    const badges = (card.body[6] as { items: { columns: { items: { text: string; color?: string }[] }[] }[] })
      .items;
    expect(badges.map((b) => [b.columns[0]?.items[0]?.text, b.columns[0]?.items[0]?.color])).toEqual([
      ['DOWN', 'attention'],
      ['OK', 'good'],
      ['WARN', 'warning'],
      ['UNKNOWN', 'default'],
      ['INFO', 'accent'],
    ]);
    expect(badges[0]?.columns[1]?.items[0]?.text).toBe('**payments** — connection refused');
    expect(card.actions).toEqual([
      {
        type: 'Action.Execute',
        title: 'Confirm',
        verb: TEAMS_ACTION_VERB,
        data: { opsbot: { actionId: 'dialogue.confirm', value: 'yes', label: 'Confirm' } },
        style: 'destructive',
        fallback: {
          type: 'Action.Submit',
          title: 'Confirm',
          data: { opsbot: { actionId: 'dialogue.confirm', value: 'yes', label: 'Confirm' } },
          style: 'destructive',
        },
      },
      expect.objectContaining({
        title: 'Cancel',
        data: { opsbot: { actionId: 'dialogue.deny', value: 'no', label: 'Cancel' } },
      }),
      expect.objectContaining({ title: 'Later', style: 'positive' }),
    ]);
    expect((card.actions?.[1] as { style?: string }).style).toBeUndefined();
  });

  it('escapes what card markdown would format, and keeps code lines literal', () => {
    const { card } = teams('mrkdwn and markdown specials');
    expect(card.body[0]).toMatchObject({
      text: 'a & b < c > d \\*not bold\\* \\_not italic\\_ ~not struck~ **really bold** \\[not\\](a link)',
    });
    expect(card.body[1]).toMatchObject({
      text: '<!channel> <@U123> <https://evil.example|click> snake_case_name',
    });
    const code = (card.body[2] as { items: { text: string }[] }).items.map((i) => i.text);
    expect(code).toEqual(['echo "```"', '\u00a0\u00a0\\- indented: \\*yes\\*', '```', 'after a blank line']);
  });

  it('puts more buttons than a card shows into rows of five where their blocks stand', () => {
    const { card } = teams('thirty buttons across blocks');
    expect(card.actions).toBeUndefined();
    expect(card.body.map((e) => [e.type, (e as { actions: unknown[] }).actions.length])).toEqual([
      ['ActionSet', 5],
      ['ActionSet', 5],
      ['ActionSet', 2],
      ['ActionSet', 5],
      ['ActionSet', 5],
      ['ActionSet', 2],
      ['ActionSet', 5],
      ['ActionSet', 1],
    ]);
  });

  it('keeps as many buttons under the card as a host shows there', () => {
    const buttons = Array.from({ length: TEAMS_MAX_ACTIONS }, (_, i) => ({
      actionId: `pick.${i}`,
      label: `Option ${i}`,
      value: `${i}`,
    }));
    const { card } = renderForTeams({ text: 'choose', blocks: [{ type: 'buttons', buttons }] });
    expect(card.actions).toHaveLength(TEAMS_MAX_ACTIONS);
    expect(card.body).toEqual([]);
    expect(validateAdaptiveCard(card)).toEqual([]);
  });

  it('shortens a card over the size budget from the end, keeping its buttons', () => {
    const reply: Reply = {
      text: 'big',
      blocks: [
        ...Array.from({ length: 10 }, (_, i): Block => ({
          type: 'section',
          text: `part${i} ` + 'x'.repeat(7000),
        })),
        { type: 'buttons', buttons: [{ actionId: 'ok', label: 'OK', value: 'ok' }] },
      ],
    };
    const { card } = renderForTeams(reply);
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThanOrEqual(TEAMS_CARD_MAX_BYTES);
    expect(card.body.at(-1)).toMatchObject({ text: '_This reply was shortened to fit in Teams._' });
    expect(card.body.length).toBeLessThan(10);
    expect(card.body[0]).toMatchObject({ text: expect.stringMatching(/^part0 /) });
    expect(card.actions).toHaveLength(1);
    expect(validateAdaptiveCard(card)).toEqual([]);
  });

  it('shortens a long code block line by line', () => {
    const code = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n');
    const { card } = renderForTeams({ text: 'code', blocks: [{ type: 'code', code }] });
    const lines = (card.body[0] as { items: unknown[] }).items.length;
    expect(lines).toBeGreaterThan(100);
    expect(lines).toBeLessThan(2000);
    expect(validateAdaptiveCard(card)).toEqual([]);
  });

  it('bounds a long section and keeps a long word whole', () => {
    const [long] = teams('a 10,000-character section with paragraphs').card.body as { text: string }[];
    expect(long?.text.endsWith('…')).toBe(true);
    expect(long?.text.length).toBeLessThanOrEqual(TEAMS_MAX_TEXT * 1.1);
    expect(teams('a 3,001-character word').card.body[0]).toMatchObject({ text: longWord });
  });

  it('links only web URLs in citations', () => {
    expect(teams('a citation with a javascript: URL').card.body[0]).toMatchObject({
      items: [{ text: 'Sources' }, { text: 'Harmless title · runbooks/evil.md' }],
    });
  });
});

describe('actionFromData', () => {
  const data = { opsbot: { actionId: 'dialogue.confirm', value: 'yes', label: 'Confirm' } };

  it('reads Action.Submit values, Action.Execute data and whole invoke values', () => {
    const expected = { actionId: 'dialogue.confirm', value: 'yes', label: 'Confirm' };
    expect(actionFromData(data)).toEqual(expected);
    expect(actionFromData({ ...data, someInput: 'typed' })).toEqual(expected);
    expect(actionFromData({ action: { type: 'Action.Execute', verb: TEAMS_ACTION_VERB, data } })).toEqual(
      expected,
    );
    expect(actionFromData({ opsbot: { actionId: 'a', value: '' } })).toEqual({ actionId: 'a', value: '' });
  });

  it('reads back what the card carries', () => {
    const [action] = renderForTeams(everyBlock).card.actions ?? [];
    expect(actionFromData(action?.data)).toEqual({
      actionId: 'dialogue.confirm',
      value: 'yes',
      label: 'Confirm',
    });
    expect(actionFromData(action?.fallback.data)).toEqual(actionFromData(action?.data));
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'dialogue.confirm'],
    ['an array', [data]],
    ['no opsbot key', { actionId: 'a', value: 'b' }],
    ['a numeric value', { opsbot: { actionId: 'a', value: 1 } }],
    ['an empty action id', { opsbot: { actionId: '', value: 'b' } }],
    ['a non-string label', { opsbot: { actionId: 'a', value: 'b', label: 7 } }],
    ['another verb', { action: { type: 'Action.Execute', verb: 'other', data } }],
    ['an opsbot array', { opsbot: ['a', 'b'] }],
  ])('returns undefined for %s', (_name, value) => {
    expect(actionFromData(value)).toBeUndefined();
  });
});

describe('renderClickOutcome', () => {
  it('says who chose what, then renders the outcome with its own buttons', () => {
    const outcome: Reply = {
      text: 'Scaled',
      blocks: [
        { type: 'section', text: 'Scaled **payments** to 5.' },
        { type: 'buttons', buttons: [{ actionId: 'undo', label: 'Undo', value: 'u' }] },
      ],
    };
    const card = renderClickOutcome({ who: 'Alice', label: 'Confirm' }, outcome);
    expect(card.body).toEqual([
      { type: 'TextBlock', text: 'Alice chose **Confirm**', wrap: true },
      { type: 'TextBlock', text: 'Scaled **payments** to 5.', wrap: true },
    ]);
    expect(card.actions?.map((a) => a.title)).toEqual(['Undo']);
    expect(validateAdaptiveCard(card)).toEqual([]);
  });

  it('keeps names and labels literal', () => {
    const card = renderClickOutcome({ who: 'Bob_the_*builder*', label: '[go]' }, textOnly('done'));
    expect(card.body[0]).toMatchObject({ text: 'Bob_the\\_\\*builder\\* chose **\\[go\\]**' });
    expect(validateAdaptiveCard(card)).toEqual([]);
    expect(renderClickOutcome({ who: ' ', label: '' }, textOnly('done')).body[0]).toMatchObject({
      text: 'Someone chose an option',
    });
  });
});

describe('the validators can fail', () => {
  it('Block Kit: accepts the rendered reply the failures below are made from', () => {
    expect(validateBlockKit(renderForSlack(everyBlock, { actionsBlockId: 'id' }))).toEqual([]);
  });

  it.each([
    ['an unknown block type', { text: 'x', blocks: [{ type: 'table' }] }, /unknown block type/],
    [
      'a section text over 3000',
      { text: 'x', blocks: [section('a'.repeat(3001))] },
      /3001 characters, Slack allows 3000/,
    ],
    ['an empty text', { text: 'x', blocks: [section(' ')] }, /text\.text: empty/],
    [
      'a bad text object type',
      { text: 'x', blocks: [{ type: 'section', text: { type: 'markdown', text: 'x' } }] },
      /is not plain_text or mrkdwn/,
    ],
    ['an unescaped <', { text: 'x', blocks: [section('a < b')] }, /unescaped < or >/],
    ['an unescaped &', { text: 'x', blocks: [section('a & b')] }, /unescaped &/],
    ['a broken surrogate', { text: 'x', blocks: [section('a\ud83d')] }, /broken surrogate/],
    [
      'duplicate block ids',
      {
        text: 'x',
        blocks: [
          { ...section('a'), block_id: 'b' },
          { ...section('b'), block_id: 'b' },
        ],
      },
      /blocks\[1\]\.block_id: "b" is not unique/,
    ],
    ['51 blocks', { text: 'x', blocks: Array.from({ length: 51 }, () => section('a')) }, /51 blocks/],
    [
      'a field text over 2000',
      { text: 'x', blocks: [{ type: 'section', fields: [mrkdwn('f'.repeat(2001))] }] },
      /fields\[0\]\.text: 2001 characters, Slack allows 2000/,
    ],
    [
      '11 fields',
      { text: 'x', blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('f')) }] },
      /11 fields/,
    ],
    [
      '11 context elements',
      { text: 'x', blocks: [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('c')) }] },
      /11 elements, Slack allows 10/,
    ],
    [
      'a context element text over 3000',
      { text: 'x', blocks: [{ type: 'context', elements: [mrkdwn('c'.repeat(3001))] }] },
      /elements\[0\]\.text: 3001 characters, Slack allows 3000/,
    ],
    [
      'a misspelt key',
      { text: 'x', blocks: [{ type: 'section', txt: mrkdwn('a') }] },
      /txt: not a Block Kit property/,
    ],
    [
      'a mrkdwn button label',
      { text: 'x', blocks: [actions([{ type: 'button', text: mrkdwn('go'), action_id: 'a' }])] },
      /"mrkdwn" is not plain_text/,
    ],
    [
      'a bad button style',
      { text: 'x', blocks: [actions([button({ style: 'secondary' })])] },
      /"secondary" is not primary or danger/,
    ],
    [
      'a long button label',
      { text: 'x', blocks: [actions([button({ text: plainText('x'.repeat(76)) })])] },
      /76 characters, Slack allows 75/,
    ],
    [
      'a long button value',
      { text: 'x', blocks: [actions([button({ value: 'v'.repeat(2001) })])] },
      /value: 2001 characters/,
    ],
    [
      'a long action id',
      { text: 'x', blocks: [actions([button({ action_id: 'a'.repeat(256) })])] },
      /action_id: 256 characters/,
    ],
    [
      'repeated action ids',
      { text: 'x', blocks: [actions([button({}), button({})])] },
      /repeats in its block/,
    ],
    [
      '26 buttons',
      { text: 'x', blocks: [actions(Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))] },
      /26 elements, Slack allows 25/,
    ],
    [
      'a long block id',
      { text: 'x', blocks: [{ ...section('a'), block_id: 'b'.repeat(256) }] },
      /block_id: 256 characters/,
    ],
    ['a long message text', { text: 'x'.repeat(40001), blocks: [] }, /text: 40001 characters/],
    ['nothing at all', { text: '', blocks: [] }, /neither text nor blocks/],
  ])('Block Kit: rejects %s', (_name, message, problem) => {
    expect(validateBlockKit(message).join('\n')).toMatch(problem);
  });

  const card = renderForTeams(everyBlock).card;
  const withBody = (body: unknown[]) => ({ ...card, body, actions: undefined });

  it('Adaptive Card: accepts the rendered card the failures below are made from', () => {
    expect(validateAdaptiveCard(card)).toEqual([]);
  });

  it.each([
    ['a wrong version', { ...card, version: '1.4' }, /version: "1\.4" is not "1\.5"/],
    ['a wrong type', { ...card, type: 'HeroCard' }, /"HeroCard" is not AdaptiveCard/],
    ['an unknown element', withBody([{ type: 'Carousel2', text: 'x' }]), /Unknown element type "Carousel2"/],
    [
      'a misspelt property',
      withBody([{ type: 'TextBlock', text: 'x', wrapp: true }]),
      /wrapp: not in the Adaptive Card 1\.5 object model for TextBlock/,
    ],
    [
      'an unknown property',
      withBody([{ type: 'TextBlock', text: 'x', style: 'heading', futureThing: 1 }]),
      /futureThing: not in the Adaptive Card 1\.5 object model/,
    ],
    [
      'an element from a later version',
      withBody([
        { type: 'Carousel', pages: [{ type: 'CarouselPage', items: [{ type: 'TextBlock', text: 'x' }] }] },
      ]),
      /Unknown element type "Carousel"/,
    ],
    [
      'an invalid colour',
      withBody([{ type: 'TextBlock', text: 'x', color: 'purple' }]),
      /Invalid value "purple"/,
    ],
    ['an empty TextBlock', withBody([{ type: 'TextBlock', text: '' }]), /a TextBlock needs non-empty text/],
    [
      'a fact without a value',
      withBody([{ type: 'FactSet', facts: [{ title: 'a' }] }]),
      /a fact needs string title and value/,
    ],
    [
      'an action without a title',
      { ...card, actions: [{ type: 'Action.Submit', data: {} }] },
      /an action needs a title/,
    ],
    [
      'an Action.Execute without a verb',
      { ...card, actions: [{ type: 'Action.Execute', title: 'Go' }] },
      /Action\.Execute needs a verb/,
    ],
    [
      'an invalid fallback',
      {
        ...card,
        actions: [
          { type: 'Action.Execute', title: 'Go', verb: 'v', fallback: { type: 'Action.Nope', title: 'x' } },
        ],
      },
      /fallback: parse: Unknown action type "Action\.Nope"/,
    ],
    [
      'six card actions',
      { ...card, actions: Array.from({ length: 6 }, (_, i) => ({ type: 'Action.Submit', title: `a${i}` })) },
      /Maximum number of actions exceeded/,
    ],
    ['an unknown msteams width', { ...card, msteams: { width: 'Wide' } }, /"Wide" is not "Full"/],
    [
      'over 28 KB',
      withBody([{ type: 'TextBlock', text: 'x'.repeat(30 * 1024) }]),
      /30889 bytes, Teams allows/,
    ],
  ])('Adaptive Card: rejects %s', (_name, invalid, problem) => {
    expect(validateAdaptiveCard(invalid).join('\n')).toMatch(problem);
  });
});

function section(text: string) {
  return { type: 'section', text: mrkdwn(text) };
}
function mrkdwn(text: string) {
  return { type: 'mrkdwn', text };
}
function plainText(text: string) {
  return { type: 'plain_text', text };
}
function actions(elements: unknown[]) {
  return { type: 'actions', elements };
}
function button(overrides: Record<string, unknown>) {
  return { type: 'button', text: plainText('Go'), action_id: 'go', value: 'v', ...overrides };
}
function textOnly(text: string): Reply {
  return { text, blocks: [] };
}

/** The words a reply asks each surface to show: the visible content of every block (not ids, values, URLs). */
function contentOf(reply: Reply): string {
  if (reply.blocks.length === 0) return reply.text;
  return reply.blocks
    .flatMap((block): string[] => {
      switch (block.type) {
        case 'section':
          return [block.text];
        case 'fields':
          return block.fields.flatMap((f) => [f.label, f.value]);
        case 'list':
          return block.items;
        case 'code':
          return [block.code];
        case 'buttons':
          return block.buttons.map((b) => b.label);
        case 'citations':
          return block.citations.flatMap((c) => [c.title, c.source, c.heading ?? '']);
        case 'status':
          return block.badges.flatMap((b) => [b.label, b.detail ?? '']);
        case 'chart':
          return [block.title, block.summary.latest, block.summary.min, block.summary.max];
      }
    })
    .join('\n');
}

function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Every string in a rendered output, except under keys that hold machine data rather than shown text. */
function displayed(output: unknown, hidden: string[]): string {
  const out: string[] = [];
  const walk = (value: unknown, key?: string) => {
    if (key !== undefined && hidden.includes(key)) return;
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => walk(v));
    else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => walk(v, k));
  };
  walk(output);
  return out.join('\n');
}

function strings(output: unknown): string[] {
  return displayed(output, []).split('\n');
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function brokenSurrogates(text: unknown): string[] {
  return typeof text === 'string' &&
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)
    ? ['a broken surrogate pair']
    : [];
}

function widgetProblems(output: unknown): string[] {
  const { text, blocks } = output as ReturnType<typeof renderForWidget>;
  const problems: string[] = [];
  if (typeof text !== 'string') problems.push('text is not a string');
  const known = ['section', 'fields', 'list', 'code', 'buttons', 'citations', 'status', 'chart'];
  blocks.forEach((b, i) => {
    if (!known.includes(b.type)) problems.push(`blocks[${i}]: unknown type ${b.type}`);
    if (b.type === 'chart' && !/^data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+$/.test(b.image))
      problems.push(`blocks[${i}]: a chart image that is not an SVG data URI`);
  });
  for (const s of strings(output)) {
    if (s.length > WIDGET_MAX_TEXT) problems.push(`a ${s.length}-character string`);
    problems.push(...brokenSurrogates(s));
  }
  return problems;
}
